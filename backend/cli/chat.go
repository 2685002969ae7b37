package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"voicebot/backend/content"
	"voicebot/backend/conversation"
	vbembed "voicebot/embed"
)

func chatCmd() *cobra.Command {
	var dir, lang string
	var details bool
	cmd := &cobra.Command{
		Use:   "chat [--content DIR] [--lang L]",
		Short: "Talk with the engine in the terminal, to try out content",
		Long: `Talk with the conversation engine in the terminal. Without --content it answers from the
built-in demo pack. With --content, the folder is watched: save a file and the next question is
answered from the new version (or, if the file has an error, the error is shown and the last good
version keeps answering). Under each answer a line shows how it was found (intent, confidence,
source document); --details=false hides it. Type /quit or press Ctrl-D to leave.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			engine := conversation.New(conversation.NewMemorySessions(16, 0))
			fsys, source := contentSource(dir)
			loader := conversation.NewLoader(engine, fsys, source)
			if err := loader.Reload(); err != nil {
				return err
			}
			if dir != "" {
				loader.OnReload = func(st conversation.Status) {
					if st.OK {
						fmt.Fprintf(os.Stderr, "· content reloaded (version %d, %d intents, %d documents)\n", st.Version, st.Intents, st.Documents)
						return
					}
					for _, e := range st.Errors {
						fmt.Fprintf(os.Stderr, "· content error: %s\n", e.Error())
					}
					fmt.Fprintln(os.Stderr, "· the previous version keeps answering")
				}
				if err := content.Watch(ctx, dir, content.DefaultDebounce, func() { _ = loader.Reload() }); err != nil {
					return fmt.Errorf("watch %s: %w", dir, err)
				}
			}
			return chatLoop(ctx, engine, cmd.InOrStdin(), cmd.OutOrStdout(), lang, details)
		},
	}
	cmd.Flags().StringVar(&dir, "content", "", "content pack folder (default: the built-in demo)")
	cmd.Flags().StringVar(&lang, "lang", "", "answer in this language (default: detect each utterance)")
	cmd.Flags().BoolVar(&details, "details", true, "show how each answer was found")
	return cmd
}

// contentSource returns the pack to load: a folder, or the built-in demo.
func contentSource(dir string) (fs.FS, string) {
	if dir == "" {
		return vbembed.DemoContent(), "built-in demo"
	}
	return os.DirFS(dir), dir
}

func chatLoop(ctx context.Context, engine *conversation.Engine, in io.Reader, out io.Writer, lang string, details bool) error {
	bot := engine.Snapshot().Pack.Bot
	fmt.Fprintf(out, "%s: %s\n", bot.Name, engine.Greeting(lang))
	sc := bufio.NewScanner(in)
	session := ""
	for {
		fmt.Fprint(out, "> ")
		if !sc.Scan() {
			fmt.Fprintln(out)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "":
			continue
		case "/quit", "/exit":
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		r, err := engine.Reply(ctx, conversation.Request{SessionID: session, Text: line, Lang: lang})
		if err != nil {
			fmt.Fprintf(out, "(%v)\n", err)
			continue
		}
		session = r.SessionID
		fmt.Fprintf(out, "%s: %s\n", bot.Name, r.Text)
		if details {
			fmt.Fprintf(out, "   · %s\n", describe(r))
		}
	}
}

func describe(r conversation.Reply) string {
	parts := []string{r.Kind, "lang " + r.Lang}
	if r.Intent != "" {
		parts = append(parts, fmt.Sprintf("intent %s", r.Intent))
	}
	if r.Confidence > 0 {
		parts = append(parts, fmt.Sprintf("confidence %.2f", r.Confidence))
	}
	for k, v := range r.Slots {
		parts = append(parts, fmt.Sprintf("%s=%s", k, v))
	}
	for _, s := range r.Sources {
		parts = append(parts, fmt.Sprintf("source %q (%s)", s.Title, s.Path))
	}
	if r.Via != "" {
		parts = append(parts, "via "+r.Via)
	}
	return strings.Join(parts, ", ")
}
