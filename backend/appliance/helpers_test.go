package appliance

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"voicebot/backend/keys"
	vbembed "voicebot/embed"
)

// copyDemoContent writes the demo pack into a folder, as an operator's content folder.
func copyDemoContent(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := vbembed.DemoContent()
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, p), 0o755)
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitUntil polls cond until it holds, failing after a generous deadline (not a timing check).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func keysSpec(scopes ...string) keys.Spec { return keys.Spec{Name: "test", Scopes: scopes} }

// post is do for a POST with a JSON body.
func post(t *testing.T, a *Appliance, path, key, body string) resp {
	return do(t, a, "POST", path, key, body)
}
