package cli

import (
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
