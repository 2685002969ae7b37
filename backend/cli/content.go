package cli

import (
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"voicebot/backend/content"
	vbembed "voicebot/embed"
)

// contentCmd groups the commands that work on a content pack folder: init, teach, check.
func contentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "content",
		Short: "Make, teach and check a content pack",
		Long: `Work on a content pack folder (docs/CONTENT.md): init writes an editable pack (a copy of the
built-in demo, or a blank one), teach adds a phrasing to an intent, check answers every phrasing
of the pack and reports what is answered wrong.`,
	}
	cmd.AddCommand(contentInitCmd())
	return cmd
}

func contentInitCmd() *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "init DIR [--from demo|blank]",
		Short: "Write an editable content pack into a new or empty folder",
		Long: `Write an editable content pack into DIR, which must be missing or empty (nothing is ever
overwritten). --from demo (the default) copies the built-in demo, the museum guide the appliance
answers from when no content folder is set; --from blank writes a minimal pack (bot.yaml,
intents/en.yaml with two example intents, an empty knowledge/ folder) to start from scratch.
Then serve it: voicebot serve --content DIR, or content: DIR in the settings file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var src fs.FS
			switch from {
			case "demo":
				src = vbembed.DemoContent()
			case "blank":
				src = content.Blank()
			default:
				return fmt.Errorf("--from %q: use demo or blank", from)
			}
			n, err := content.Init(args[0], src)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files (%s pack) into %s\n", n, from, args[0])
			fmt.Fprintf(cmd.ErrOrStderr(), "serve it with: voicebot serve --content %s (or content: %s in the settings file)\n", args[0], args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "demo", "what to start from: demo (a copy of the built-in demo) or blank")
	return cmd
}
