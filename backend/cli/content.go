package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"voicebot/backend/config"
	"voicebot/backend/content"
	"voicebot/backend/conversation"
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
	cmd.AddCommand(contentInitCmd(), contentTeachCmd(), contentCheckCmd())
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
	err = withStore(cmd.Context(), sf, func(db store.Backend) error {
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

func contentCheckCmd() *cobra.Command {
	var dir, configFile, configDir string
	var asJSON bool
	var sample int
	cmd := &cobra.Command{
		Use:   "check [--content DIR] [--json]",
		Short: "Answer every phrasing of the content and report what is answered wrong",
		Long: `Load the content (--content, else the content setting of the settings file, else the built-in
demo), answer every example of every intent, a sample of what each template says and every
out_of_scope phrasing, in every language, each as the first question of a new conversation, and
report: phrasings answered by another intent or by no intent (documents, fallback), the pairs of
intents the model confuses, out_of_scope phrasings an intent answers, and phrasings listed twice
or under two intents. The exit code is 1 when any phrasing is answered wrong (duplicates alone
do not fail), so that the command can gate a CI pipeline.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			folder, err := contentFolder(dir, configFile, configDir)
			if err != nil {
				return err
			}
			engine := conversation.New(conversation.NewMemorySessions(16, 0))
			fsys, source := contentSource(folder)
			if err := conversation.NewLoader(engine, fsys, source).Reload(); err != nil {
				return err
			}
			rep, err := engine.Check(sample)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printCheck(out, source, rep)
			}
			if !rep.OK() {
				cmd.SilenceUsage = true
				return fmt.Errorf("content check: %d phrasings answered wrong, %d out_of_scope phrasings answered by an intent", len(rep.Wrong), len(rep.OutOfScope))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "content", "", "content pack folder (default: the content setting of the settings file, else the built-in demo)")
	cmd.Flags().StringVar(&configFile, "config", "", "settings file to read the content setting from (default: settings.yaml in the config folder)")
	cmd.Flags().StringVar(&configDir, "config-dir", "", "config folder (default $VOICEBOT_CONFIG_DIR, else the OS's per-user config folder)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().IntVar(&sample, "sample", conversation.CheckTemplateSample, "phrasings checked per template")
	return cmd
}

// printCheck writes a check report for a person.
func printCheck(w io.Writer, source string, rep *conversation.CheckReport) {
	fmt.Fprintf(w, "content %q version %d: %d phrasings in %s, %d answered by their intent (%.1f%%)\n",
		source, rep.Version, rep.Phrasings, strings.Join(rep.Languages, ", "), rep.Right, rep.Share())
	for _, l := range rep.PerLang {
		fmt.Fprintf(w, "  %s: %d of %d\n", l.Lang, l.Right, l.Phrasings)
	}
	answer := func(m conversation.CheckMiss) string {
		if m.Got != "" {
			return fmt.Sprintf("%s %s (%.2f)", m.Kind, m.Got, m.Confidence)
		}
		return m.Kind
	}
	if len(rep.Wrong) > 0 {
		fmt.Fprintf(w, "\nanswered wrong (%d):\n", len(rep.Wrong))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, m := range rep.Wrong {
			fmt.Fprintf(tw, "  %s\t%s\t%q\t-> %s\t%s:%d %s\n", m.Lang, m.Intent, m.Text, answer(m), m.File, m.Line, m.Source)
		}
		tw.Flush()
	}
	if len(rep.Confusions) > 0 {
		fmt.Fprintf(w, "\nintents confused (phrasings of the first answered by the second):\n")
		for _, c := range rep.Confusions {
			fmt.Fprintf(w, "  %s  %s -> %s  %d\n", c.Lang, c.Want, c.Got, c.N)
		}
	}
	if len(rep.OutOfScope) > 0 {
		fmt.Fprintf(w, "\nout_of_scope phrasings an intent answers (%d):\n", len(rep.OutOfScope))
		for _, m := range rep.OutOfScope {
			fmt.Fprintf(w, "  %s  %q -> %s\n", m.Lang, m.Text, answer(m))
		}
	}
	if len(rep.Duplicates) > 0 {
		fmt.Fprintf(w, "\nphrasings listed more than once (%d):\n", len(rep.Duplicates))
		for _, d := range rep.Duplicates {
			var where []string
			for i := range d.Intents {
				where = append(where, d.Intents[i]+" ("+d.Sources[i]+")")
			}
			fmt.Fprintf(w, "  %s  %q: %s\n", d.Lang, d.Text, strings.Join(where, ", "))
		}
	}
	if rep.OK() {
		fmt.Fprintln(w, "\nevery phrasing is answered by its intent")
	}
}
