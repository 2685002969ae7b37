package content

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the watcher waits after the last change before reloading, so that
// an editor's save (often a temp file, a rename and a chmod) causes one reload, not three.
const DefaultDebounce = 100 * time.Millisecond

// Watch follows a content folder and calls reload after each burst of changes, until ctx ends.
// fsnotify is not recursive, so every sub-folder is watched, and folders created later are
// added as they appear. Editors that save by renaming a temp file over the original work because
// the folder, not the file, is watched. The folder's parent is watched too (for the folder's own
// name only): inotify follows a folder's inode, so a deploy that renames a new folder into place,
// or a restore that deletes and re-creates it, would otherwise leave the watcher on the old one
// and the new content never loaded.
func Watch(ctx context.Context, dir string, debounce time.Duration, reload func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	if err := addTree(w, dir); err != nil {
		w.Close()
		return err
	}
	parent := filepath.Dir(dir)
	if err := w.Add(parent); err != nil {
		slog.Warn("content watch: cannot watch the content folder's parent; a folder replaced by rename will not be seen", "dir", parent, "err", err)
	}
	go func() {
		defer w.Close()
		var mu sync.Mutex
		var timer *time.Timer
		fire := func() {
			mu.Lock()
			defer mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			timer = time.AfterFunc(debounce, func() {
				if ctx.Err() == nil {
					reload()
				}
			})
		}
		for {
			select {
			case <-ctx.Done():
				mu.Lock()
				if timer != nil {
					timer.Stop()
				}
				mu.Unlock()
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Dir(ev.Name) == parent && ev.Name != dir {
					continue // a sibling of the content folder
				}
				if ev.Name == dir && ev.Has(fsnotify.Create) {
					rewatch(w, dir) // a folder put in place of the content folder
					fire()
					continue
				}
				if ignorable(filepath.Base(ev.Name)) {
					continue
				}
				if ev.Has(fsnotify.Create) {
					if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
						if err := addTree(w, ev.Name); err != nil {
							slog.Warn("content watch: cannot watch new folder", "dir", ev.Name, "err", err)
						}
					}
				}
				if ev.Op == fsnotify.Chmod {
					continue
				}
				fire()
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				slog.Warn("content watch", "err", err)
				if errors.Is(err, fsnotify.ErrEventOverflow) {
					fire() // events were lost: reload to be sure
				}
			}
		}
	}()
	return nil
}

func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && ignorable(d.Name()) {
			return fs.SkipDir
		}
		return w.Add(p)
	})
}

// rewatch drops the watches of dir's old tree (they follow the old inodes) and watches the new.
func rewatch(w *fsnotify.Watcher, dir string) {
	for _, p := range w.WatchList() {
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			_ = w.Remove(p)
		}
	}
	if err := addTree(w, dir); err != nil {
		slog.Warn("content watch: cannot watch the new content folder", "dir", dir, "err", err)
	}
}
