package content

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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
// the folder, not the file, is watched.
func Watch(ctx context.Context, dir string, debounce time.Duration, reload func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := addTree(w, dir); err != nil {
		w.Close()
		return err
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
