package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"voicebot/backend/config"
	"voicebot/backend/content"
	"voicebot/backend/conversation/langid"
	"voicebot/backend/paths"
	"voicebot/backend/store"
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
	cmd.AddCommand(contentInitCmd(), contentTeachCmd())
	return cmd
}

// contentFolder is the folder a content command works on: --content, else the content setting of
// the settings file, else "" (the built-in demo).
func contentFolder(dir, configFile, configDir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if configFile == "" {
		if configDir == "" {
			var err error
			if configDir, err = paths.ConfigDir(); err != nil {
				return "", err
			}
		}
		configFile = paths.SettingsFile(configDir)
		if _, err := os.Stat(configFile); err != nil {
			return "", nil
		}
	}
	s, err := config.Load(configFile)
	if err != nil {
		return "", err
	}
	return s.Content, nil
}

func contentTeachCmd() *cobra.Command {
	var dir, configFile, intent, lang, response string
	var oos bool
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "teach --intent X [--lang L] [--content DIR] \"phrasing\"",
		Short: "Teach the content a phrasing: an intent's example, a new intent, or not for this assistant",
		Long: `Write a phrasing into the content pack's intents file of its language, as a new line of the
intent's examples (every other line of the file, comments included, stays as it was). With
--response, --intent names a new intent that gets the phrasing as its only example and that
response. With --out-of-scope, the phrasing goes to the language's out_of_scope list instead.

The folder is --content, else the content setting of the settings file; the built-in demo cannot
be taught (make an editable copy: voicebot content init DIR --from demo). A VoiceBot serving the
folder reloads it within a second. The language is --lang, else the intent's (when only one
language has it), else detected. The teach is recorded in the audit log of the data folder's
store when there is one.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder, err := contentFolder(dir, configFile, sf.configDir)
			if err != nil {
				return err
			}
			if err := content.Writable(folder); err != nil {
				return err
			}
			if lang == "" {
				if lang, err = teachLanguage(folder, intent, args[0]); err != nil {
					return err
				}
			}
			ed, err := content.Apply(folder, content.Teach{Text: args[0], Lang: lang, Intent: intent, Response: response, OutOfScope: oos})
			if err != nil {
				return err
			}
			what := fmt.Sprintf("an example of intent %s", ed.Intent)
			switch ed.Action {
			case content.ActionNewIntent:
				what = fmt.Sprintf("the example of a new intent %s", ed.Intent)
			case content.ActionOutOfScope:
				what = "not for this assistant (out_of_scope)"
			}
			if !ed.Changed {
				fmt.Fprintf(cmd.OutOrStdout(), "%q is already %s (%s): nothing written\n", ed.Text, what, ed.File)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "taught %q (%s) as %s: %s:%d\n", ed.Text, ed.Lang, what, filepath.Join(folder, filepath.FromSlash(ed.File)), ed.Line)
			auditTeach(cmd, &sf, ed)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "content", "", "content pack folder (default: the content setting of the settings file)")
	cmd.Flags().StringVar(&configFile, "config", "", "settings file to read the content setting from (default: settings.yaml in the config folder)")
	cmd.Flags().StringVar(&intent, "intent", "", "the intent the phrasing is for (a new one with --response)")
	cmd.Flags().StringVar(&lang, "lang", "", "the phrasing's language (default: the intent's, else detected)")
	cmd.Flags().StringVar(&response, "response", "", "create --intent with this response and the phrasing as its only example")
	cmd.Flags().BoolVar(&oos, "out-of-scope", false, "the phrasing is not for this assistant: write it to the out_of_scope list")
	sf.add(cmd)
	return cmd
}

// teachLanguage picks the language of a phrasing to teach: the only language of the pack, else
// the only one with the intent, else the one the phrasing reads as.
func teachLanguage(folder, intent, phrasing string) (string, error) {
	pack, err := content.Load(os.DirFS(folder), folder)
	if err != nil {
		return "", fmt.Errorf("the content has errors; fix them before teaching it: %w", err)
	}
	if len(pack.Bot.Languages) == 1 {
		return pack.Bot.Languages[0], nil
	}
	var with []string
	samples := map[string][]string{}
	for lang, intents := range pack.Intents {
		for _, in := range intents {
			if in.Name == intent {
				with = append(with, lang)
			}
			samples[lang] = append(samples[lang], in.Examples...)
			for _, r := range in.Responses {
				samples[lang] = append(samples[lang], r.Text)
			}
		}
	}
	if len(with) == 1 {
		return with[0], nil
	}
	if lang, _ := langid.New(samples).Detect(phrasing); lang != "" {
		return lang, nil
	}
	return pack.Bot.DefaultLanguage, nil
}

// auditTeach records a teach in the data folder's audit log, when the data folder has a store
// (the command never creates one).
func auditTeach(cmd *cobra.Command, sf *storeFlags, ed content.Edit) {
	o, err := sf.options()
	if err != nil {
		return
	}
	if _, err := os.Stat(paths.StoreFile(o.DataDir)); err != nil {
		return
	}
	err = withStore(cmd.Context(), sf, func(db *store.DB) error {
		return db.Audit(cmd.Context(), store.AuditEntry{Actor: "cli", Action: "content.teach", Target: fmt.Sprintf("%s:%d", ed.File, ed.Line),
			Detail: fmt.Sprintf("%q (%s) taught as %s %s", ed.Text, ed.Lang, strings.ReplaceAll(ed.Action, "_", " "), ed.Intent)})
	})
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "not recorded in the audit log: %v\n", err)
	}
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
