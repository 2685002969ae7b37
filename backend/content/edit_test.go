package content

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/internal/testcontent"
)

func teachDir(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func code(err error) string {
	var te *TeachError
	if errors.As(err, &te) {
		return te.Code
	}
	return ""
}

// TestTeachDemoKeepsBytes teaches the demo pack's English file (long, commented) and checks that
// exactly one line was added and every other byte is as it was.
func TestTeachDemoKeepsBytes(t *testing.T) {
	dir := testcontent.CopyDemo(t)
	file := filepath.Join(dir, "intents", "en.yaml")
	before, _ := os.ReadFile(file)
	ed, err := Apply(dir, Teach{Text: "  is there a   discount\nfor teachers ", Lang: "en", Intent: "ticket_prices"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(file)
	got := testcontent.InsertedLines(t, before, after)
	if len(got) != 1 || got[0] != "      - \"is there a discount for teachers\"\n" {
		t.Fatalf("inserted %q", got)
	}
	if ed.File != "intents/en.yaml" || !ed.Changed || ed.Action != ActionExample || strings.Split(string(after), "\n")[ed.Line-1] != strings.TrimSuffix(got[0], "\n") {
		t.Errorf("edit %+v", ed)
	}
	p, err := Load(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	in := p.intent("en", "ticket_prices")
	if in.Examples[len(in.Examples)-1] != "is there a discount for teachers" {
		t.Errorf("examples %q", in.Examples)
	}
	// the same words again change nothing; under another intent they are refused
	if ed, err := Apply(dir, Teach{Text: "Is there a discount for teachers?", Lang: "en", Intent: "ticket_prices"}); err != nil || ed.Changed {
		t.Errorf("again: %+v %v", ed, err)
	}
	if _, err := Apply(dir, Teach{Text: "is there a discount for teachers", Lang: "en", Intent: "free_entry"}); code(err) != CodePhrasingTaken {
		t.Errorf("under another intent: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != string(after) {
		t.Error("a refused teach changed the file")
	}
}

const commented = `# My intents: keep this comment
language: en

lists:
  day: [monday, sunday]

intents:
  # hours come first
  hours:
    templates:
      - "when do you open [on {day}]"   # a template
    examples:
      - "what are your hours"  # first example
      - 'opening times'
      # - "disabled example"
    # responses follow
    responses:
      - "9 to 5."

  flow:
    examples: ["one", 'two' ]   # flow list
    responses: [ok]

  compact:
    examples:
    - "alpha"
    - beta
      continued
    responses:
    - "yes"

  scalar:
    examples: "just one"
    responses: [ok]

  templated:
    # only a template
    templates: ["is it {day}"]
    responses: [it is]
# end of intents
`

// TestTeachEditsText: each way a list can be written gets the phrasing in the right place, with
// the comments and every other line untouched.
func TestTeachEditsText(t *testing.T) {
	cases := []struct {
		intent string
		want   []string // the lines inserted or, for one-line lists, the changed line
		line   string
	}{
		{"hours", []string{"      - \"is it open late\"\n"}, ""},
		{"flow", nil, `    examples: ["one", 'two', "is it open late" ]   # flow list`},
		{"compact", []string{"    - \"is it open late\"\n"}, ""},
		{"scalar", nil, `    examples: ["just one", "is it open late"]`},
		{"templated", []string{"    examples:\n", "      - \"is it open late\"\n"}, ""},
	}
	for _, c := range cases {
		t.Run(c.intent, func(t *testing.T) {
			dir := teachDir(t, map[string]string{"bot.yaml": goodBot, "intents/en.yaml": commented})
			ed, err := Apply(dir, Teach{Text: "is it open late", Lang: "en", Intent: c.intent})
			if err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, "intents", "en.yaml"))
			lines := strings.Split(string(after), "\n")
			if c.line != "" {
				if lines[ed.Line-1] != c.line {
					t.Fatalf("line %d: %q, want %q", ed.Line, lines[ed.Line-1], c.line)
				}
				if strings.Join(append(lines[:ed.Line-1:ed.Line-1], lines[ed.Line:]...), "\n") != strings.Join(append(strings.Split(commented, "\n")[:ed.Line-1:ed.Line-1], strings.Split(commented, "\n")[ed.Line:]...), "\n") {
					t.Error("other lines changed")
				}
			} else {
				got := testcontent.InsertedLines(t, []byte(commented), after)
				if strings.Join(got, "") != strings.Join(c.want, "") {
					t.Fatalf("inserted %q, want %q", got, c.want)
				}
				if !strings.Contains(lines[ed.Line-1], "is it open late") {
					t.Errorf("edit line %d is %q", ed.Line, lines[ed.Line-1])
				}
			}
			p, err := Load(os.DirFS(dir), dir)
			if err != nil {
				t.Fatal(err)
			}
			if ex := p.intent("en", c.intent).Examples; ex[len(ex)-1] != "is it open late" {
				t.Errorf("examples %q", ex)
			}
		})
	}
}

func TestTeachNewIntentAndOutOfScope(t *testing.T) {
	crlf := strings.ReplaceAll(commented, "\n", "\r\n")
	dir := teachDir(t, map[string]string{"bot.yaml": goodBot, "intents/en.yaml": crlf})
	file := filepath.Join(dir, "intents", "en.yaml")
	ed, err := Apply(dir, Teach{Text: "can I bring my dog", Lang: "en", Intent: "pets", Response: "Only assistance dogs, sorry."})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(file)
	got := strings.Join(testcontent.InsertedLines(t, []byte(crlf), after), "")
	want := "\r\n  pets:\r\n    examples:\r\n      - \"can I bring my dog\"\r\n    responses:\r\n      - \"Only assistance dogs, sorry.\"\r\n"
	if got != want {
		t.Fatalf("new intent: %q\nwant %q", got, want)
	}
	if ed.Action != ActionNewIntent || !strings.Contains(strings.Split(string(after), "\n")[ed.Line-1], "can I bring my dog") {
		t.Errorf("edit %+v", ed)
	}
	if _, err := Apply(dir, Teach{Text: "dogs allowed?", Lang: "en", Intent: "pets", Response: "x"}); code(err) != CodeIntentExists {
		t.Errorf("existing name: %v", err)
	}
	if _, err := Apply(dir, Teach{Text: "dogs allowed?", Lang: "en", Intent: "nope"}); code(err) != CodeUnknownIntent {
		t.Errorf("unknown intent: %v", err)
	}
	if _, err := Apply(dir, Teach{Text: "when do you open on sunday", Lang: "en", Intent: "pets"}); code(err) != CodePhrasingTaken {
		t.Errorf("a phrasing a template matches: %v", err)
	}
	before, _ := os.ReadFile(file)
	if _, err := Apply(dir, Teach{Text: "dogs", Lang: "en", Intent: "cats", Response: "we love {cats}"}); code(err) != CodeInvalid || !strings.Contains(err.Error(), "{cats}") {
		t.Errorf("invalid response: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != string(before) {
		t.Error("an invalid change was written")
	}

	// out_of_scope: created at the end of the file, then appended to
	ed, err = Apply(dir, Teach{Text: "what is the capital of France", Lang: "en", OutOfScope: true})
	if err != nil {
		t.Fatal(err)
	}
	after, _ = os.ReadFile(file)
	got = strings.Join(testcontent.InsertedLines(t, before, after), "")
	if !strings.HasSuffix(got, "out_of_scope:\r\n  - \"what is the capital of France\"\r\n") || !strings.HasPrefix(got, "\r\n# ") {
		t.Fatalf("out_of_scope block: %q", got)
	}
	before = after
	if _, err := Apply(dir, Teach{Text: "tell me a joke", Lang: "en", OutOfScope: true}); err != nil {
		t.Fatal(err)
	}
	after, _ = os.ReadFile(file)
	if got := testcontent.InsertedLines(t, before, after); len(got) != 1 || got[0] != "  - \"tell me a joke\"\r\n" {
		t.Fatalf("out_of_scope append: %q", got)
	}
	p, err := Load(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	if oos := p.OutOfScope["en"]; len(oos) != 2 || oos[1] != "tell me a joke" {
		t.Errorf("OutOfScope %q", oos)
	}
	if _, err := Apply(dir, Teach{Text: "Tell me a joke!", Lang: "en", Intent: "pets"}); code(err) != CodePhrasingTaken {
		t.Errorf("an out-of-scope phrasing taught to an intent: %v", err)
	}
	for _, bad := range []Teach{{Text: " ", Lang: "en", Intent: "pets"}, {Text: "x", Lang: "en"}, {Text: "x", Lang: "en", Intent: "1bad", Response: "r"}, {Text: "x", Lang: "en", Intent: "pets", OutOfScope: true}} {
		if _, err := Apply(dir, bad); code(err) != CodeInvalidTeach {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := Apply(dir, Teach{Text: "hola", Lang: "es", Intent: "pets"}); code(err) != CodeUnsupportedLang {
		t.Errorf("another language: %v", err)
	}
}

// TestTeachFileWithoutIntents: a language whose only file has lists gets its intents there; a
// language with no file gets intents/<lang>.yaml.
func TestTeachFileWithoutIntents(t *testing.T) {
	dir := teachDir(t, map[string]string{"bot.yaml": "name: T\nlanguages: [en, es]\n",
		"intents/en.yaml":       "language: en\nintents:\n  hi:\n    examples: [hi]\n    responses: [hello]\n",
		"intents/es-lists.yaml": "# listas\nlanguage: es\nlists:\n  dia: [lunes]\n"})
	if _, err := Apply(dir, Teach{Text: "hola", Lang: "es", Intent: "saludo", Response: "¡Hola!"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "intents", "es-lists.yaml"))
	if want := "# listas\nlanguage: es\nlists:\n  dia: [lunes]\n\nintents:\n  saludo:\n    examples:\n      - \"hola\"\n    responses:\n      - \"¡Hola!\"\n"; string(b) != want {
		t.Fatalf("got\n%s", b)
	}
	if err := Writable(""); code(err) != CodeReadOnly || !strings.Contains(err.Error(), "voicebot content init DIR --from demo") {
		t.Errorf("demo: %v", err)
	}
	if err := Writable(dir); err != nil {
		t.Errorf("writable folder: %v", err)
	}
}

// TestTeachReadOnlyFolder: a folder the process cannot write is refused with how to make the
// content editable, and nothing changes (root writes everywhere: skipped).
func TestTeachReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write a read-only folder")
	}
	dir := teachDir(t, map[string]string{"bot.yaml": goodBot, "intents/en.yaml": commented})
	os.Chmod(filepath.Join(dir, "intents", "en.yaml"), 0o444)
	os.Chmod(filepath.Join(dir, "intents"), 0o555)
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.Chmod(filepath.Join(dir, "intents"), 0o755) })
	if err := Writable(dir); code(err) != CodeReadOnly || !strings.Contains(err.Error(), "voicebot content init DIR --from demo") {
		t.Errorf("Writable: %v", err)
	}
	if _, err := Apply(dir, Teach{Text: "is it open late", Lang: "en", Intent: "hours"}); code(err) != CodeReadOnly {
		t.Errorf("Apply: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "intents", "en.yaml")); string(b) != commented {
		t.Error("the file changed")
	}
}
