package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/content"
)

// TestContentInit: init writes a pack content.Load accepts (the demo, and the blank pack), and
// refuses a folder that has files without touching them.
func TestContentInit(t *testing.T) {
	for _, from := range []string{"demo", "blank"} {
		dir := filepath.Join(t.TempDir(), "pack")
		out, err := run(t, "", "content", "init", dir, "--from", from)
		if err != nil {
			t.Fatalf("%s: %v\n%s", from, err, out)
		}
		p, err := content.Load(os.DirFS(dir), dir)
		if err != nil {
			t.Fatalf("%s pack does not load: %v", from, err)
		}
		if p.IntentCount() < 2 {
			t.Errorf("%s pack: %d intents", from, p.IntentCount())
		}
		if fi, err := os.Stat(filepath.Join(dir, "knowledge")); err != nil || !fi.IsDir() {
			t.Errorf("%s pack has no knowledge folder", from)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	out, err := run(t, "", "content", "init", dir)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty folder: %v %s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "mine" {
		t.Error("the folder's file was touched")
	}
	if _, err := os.Stat(filepath.Join(dir, "bot.yaml")); err == nil {
		t.Error("init wrote into a non-empty folder")
	}
	if _, err := run(t, "", "content", "init", t.TempDir(), "--from", "nope"); err == nil {
		t.Error("--from nope: no error")
	}
}

// TestContentTeach: the command writes the phrasing into the intents file of its language (the
// intent's, or detected), refuses the built-in demo with how to make it editable, and reads the
// folder from the settings file's content setting.
func TestContentTeach(t *testing.T) {
	cfgDir, dataDir := t.TempDir(), t.TempDir()
	out, err := run(t, "", "content", "teach", "--config-dir", cfgDir, "--data-dir", dataDir, "--intent", "pets", "can my cat come")
	if err == nil || !strings.Contains(err.Error(), "voicebot content init DIR --from demo") {
		t.Fatalf("demo: %v %s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "pack")
	if _, err := run(t, "", "content", "init", dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfgDir, "settings.yaml"), []byte("content: "+dir+"\n"), 0o600)
	out, err = run(t, "", "content", "teach", "--config-dir", cfgDir, "--data-dir", dataDir, "--intent", "pets", "can my cat come along")
	if err != nil || !strings.Contains(out, "intents/en.yaml:") {
		t.Fatalf("teach: %v %s", err, out)
	}
	out, err = run(t, "", "content", "teach", "--content", dir, "--data-dir", dataDir, "--intent", "pets", "¿puedo venir con mi gato?")
	if err != nil || !strings.Contains(out, "(es)") || !strings.Contains(out, "intents/es.yaml:") {
		t.Fatalf("spanish: %v %s", err, out)
	}
	out, err = run(t, "", "content", "teach", "--content", dir, "--data-dir", dataDir, "--lang", "en", "--out-of-scope", "what is the capital of France")
	if err != nil || !strings.Contains(out, "out_of_scope") {
		t.Fatalf("out of scope: %v %s", err, out)
	}
	p, err := content.Load(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	if oos := p.OutOfScope["en"]; len(oos) != 1 {
		t.Errorf("out_of_scope %q", oos)
	}
	found := false
	for _, in := range p.Intents["en"] {
		if in.Name == "pets" && in.Examples[len(in.Examples)-1] == "can my cat come along" {
			found = true
		}
	}
	if !found {
		t.Error("the example is not in the pack")
	}
	if _, err := run(t, "", "content", "teach", "--content", dir, "--data-dir", dataDir, "--intent", "nope", "--lang", "en", "a brand new question"); err == nil || !strings.Contains(err.Error(), "no intent \"nope\"") {
		t.Errorf("unknown intent: %v", err)
	}
}

// TestContentCheck: a pack whose example another intent's template takes fails the check (an
// error, so exit code 1) and names it, in text and in JSON; a pack answered right passes.
func TestContentCheck(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "intents"), 0o755)
	os.WriteFile(filepath.Join(dir, "bot.yaml"), []byte("name: T\nlanguages: [en]\n"), 0o644)
	intents := `language: en
intents:
  hours:
    examples: [when do you open, what are your opening hours, what time do you close, how much is a ticket]
    responses: [nine to five]
  tickets:
    templates: ["how much is a ticket"]
    examples: [ticket prices, what does entry cost, is there a student discount]
    responses: [ten euros]
`
	os.WriteFile(filepath.Join(dir, "intents", "en.yaml"), []byte(intents), 0o644)
	out, err := run(t, "", "content", "check", "--content", dir)
	if err == nil || !strings.Contains(out, `hours  "how much is a ticket"  -> intent tickets`) || !strings.Contains(out, "hours -> tickets  1") {
		t.Fatalf("text: %v\n%s", err, out)
	}
	out, err = run(t, "", "content", "check", "--content", dir, "--json")
	var rep struct {
		Phrasings, Right int
		Wrong            []struct{ Intent, Text, Got string }
	}
	if jerr := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &rep); err == nil || jerr != nil || len(rep.Wrong) != 1 || rep.Wrong[0].Got != "tickets" || rep.Right != rep.Phrasings-1 {
		t.Fatalf("json: %v %v\n%s", err, jerr, out)
	}
	os.WriteFile(filepath.Join(dir, "intents", "en.yaml"), []byte(strings.Replace(intents, ", how much is a ticket]", "]", 1)), 0o644)
	if out, err := run(t, "", "content", "check", "--content", dir); err != nil || !strings.Contains(out, "every phrasing is answered by its intent") {
		t.Errorf("a right pack: %v\n%s", err, out)
	}
}
