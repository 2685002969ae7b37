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

// FolderCheck is how often the watcher checks that the content folder is still the one it
// watches (a folder renamed into its place, or re-created, is not seen by inotify).
const FolderCheck = time.Second

// Watch follows a content folder and calls reload after each burst of changes, until ctx ends.
// fsnotify is not recursive, so every sub-folder is watched, and folders created later are
// added as they appear. Editors that save by renaming a temp file over the original work because
// the folder, not the file, is watched. inotify follows a folder's inode, so a deploy that renames
// a new folder into place, or a restore that deletes and re-creates it, would leave the watcher on
// the old one: once every FolderCheck the folder's identity is compared with the one watched, and
// a new folder is watched and loaded. (Watching the parent instead would deliver every event of
// the parent's other files, and the default content folder's parent is the data folder, where the
// store writes on every turn.)
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
	watched, _ := os.Stat(dir)
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
		check := time.NewTicker(FolderCheck)
		defer check.Stop()
		for {
			select {
			case <-check.C:
				fi, err := os.Stat(dir)
				switch {
				case err != nil:
					watched = nil // gone: its Remove event reloaded already
				case watched == nil || !os.SameFile(watched, fi):
					watched = fi // a folder put in place of the content folder
					rewatch(w, dir)
					fire()
				}
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
				switch {
				case ev.Name == dir && ev.Has(fsnotify.Remove):
					watched = nil // the folder itself went away (its inode may be reused by the next one)
				case ev.Name == dir && ev.Has(fsnotify.Rename):
					// Renamed away: its inode lives on elsewhere. A folder check may already have
					// watched the one renamed into its place; then there is nothing to redo (under
					// load, redoing it cost a second reload of the same content).
					if fi, err := os.Stat(dir); err != nil || watched == nil || !os.SameFile(watched, fi) {
						watched = nil
					}
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
