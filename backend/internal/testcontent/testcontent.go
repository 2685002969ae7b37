// Package testcontent gives tests an operator's content folder: a copy of the built-in demo pack
// in a temporary folder, to edit and watch.
package testcontent

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	vbembed "voicebot/embed"
)

// CopyDemo writes the demo pack into a new temporary folder and returns its path.
func CopyDemo(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	src := vbembed.DemoContent()
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, p)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}
