// Package testcontent gives tests an operator's content folder: a copy of the built-in demo pack
// in a temporary folder, to edit and watch.
package testcontent

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// InsertedLines returns the lines new has that old has not, failing the test when removing them
// does not give old back byte for byte: an edit that inserts and touches nothing else.
func InsertedLines(tb testing.TB, old, new []byte) []string {
	tb.Helper()
	o, n := strings.SplitAfter(string(old), "\n"), strings.SplitAfter(string(new), "\n")
	i := 0
	for i < len(o) && i < len(n) && o[i] == n[i] {
		i++
	}
	j := 0
	for j < len(o)-i && j < len(n)-i && o[len(o)-1-j] == n[len(n)-1-j] {
		j++
	}
	if strings.Join(n[:i], "")+strings.Join(n[len(n)-j:], "") != string(old) {
		tb.Fatalf("the file changed outside the inserted lines:\n%s", new)
	}
	return n[i : len(n)-j]
}
