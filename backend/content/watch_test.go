package content

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestWatchFollowsAReplacedFolder: the content folder renamed away and a new one renamed into its
// place (how deploy tools swap content), then deleted and re-created (a restore): each time the
// watcher reloads, and keeps following the new folder's own edits.
func TestWatchFollowsAReplacedFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "content")
	write := func(d, name string) {
		t.Helper()
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte("x: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dir, "bot.yaml")
	var reloads atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := Watch(ctx, dir, 20*time.Millisecond, func() { reloads.Add(1) }); err != nil {
		t.Fatal(err)
	}
	waitReload := func(what string, f func()) {
		t.Helper()
		before := reloads.Load()
		f()
		deadline := time.Now().Add(10 * time.Second)
		for reloads.Load() == before {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no reload", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(60 * time.Millisecond) // let the burst's debounce pass
	}
	waitReload("edit", func() { write(dir, "bot.yaml") })

	next := filepath.Join(root, "content.new")
	write(next, "bot.yaml")
	waitReload("folder swapped by rename", func() {
		if err := os.Rename(dir, filepath.Join(root, "content.old")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(next, dir); err != nil {
			t.Fatal(err)
		}
	})
	waitReload("edit in the new folder", func() { write(dir, "bot.yaml") })
	waitReload("new sub-folder in the new folder", func() { write(filepath.Join(dir, "intents"), "en.yaml") })
	waitReload("edit in its sub-folder", func() { write(filepath.Join(dir, "intents"), "en.yaml") })

	waitReload("folder deleted", func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	})
	waitReload("folder re-created", func() { write(dir, "bot.yaml") })
	waitReload("edit in the re-created folder", func() { write(dir, "bot.yaml") })

	before := reloads.Load() // a sibling of the content folder is not content
	write(filepath.Join(root, "elsewhere"), "notes.txt")
	time.Sleep(200 * time.Millisecond)
	if reloads.Load() != before {
		t.Error("a change beside the content folder reloaded the content")
	}
}
