package appliance

// The content folder as the operator edits it from the dashboard and the API: which folder is
// live, switching to another (an editable copy of the demo), and teaching it phrasings.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"voicebot/backend/config"
	"voicebot/backend/content"
	"voicebot/backend/conversation"
	"voicebot/backend/paths"
	"voicebot/backend/store"
	vbembed "voicebot/embed"
)

// ContentDir is the content folder in service ("" for the built-in demo).
func (a *Appliance) ContentDir() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.Opts.ContentDir
}

// ContentEditable says why the content in service cannot be taught, or nil when it can.
func (a *Appliance) ContentEditable() error { return content.Writable(a.ContentDir()) }

// DefaultEditableDir is where the dashboard puts an editable copy of the content.
func (a *Appliance) DefaultEditableDir() string { return filepath.Join(a.Opts.DataDir, "content") }

// watchContent starts watching dir (reloading on every save) and stops watching the previous
// folder.
func (a *Appliance) watchContent(dir string) error {
	ctx, stop := context.WithCancel(a.ctx)
	reload := func() {
		if p := folderPrint(dir); p != "" && p == a.taughtPrint.Load() {
			return // the teach that wrote this has reloaded it already
		}
		_ = a.Loader.Reload()
	}
	if err := content.Watch(ctx, dir, content.DefaultDebounce, reload); err != nil {
		stop()
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	a.mu.Lock()
	prev := a.watchStop
	a.watchStop = stop
	a.mu.Unlock()
	if prev != nil {
		prev()
	}
	return nil
}

// switchContent makes dir ("" = the built-in demo) the content in service: watched, loaded now.
// A folder whose pack has errors still becomes the source (as at start): the previous snapshot
// keeps serving and the errors show on the Content page.
func (a *Appliance) switchContent(dir string) error {
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("content folder %s: not a folder", dir)
		}
		if err := a.watchContent(dir); err != nil {
			return err
		}
		a.Loader.SetSource(os.DirFS(dir), dir)
	} else {
		a.mu.Lock()
		if a.watchStop != nil {
			a.watchStop()
			a.watchStop = nil
		}
		a.mu.Unlock()
		a.Loader.SetSource(vbembed.DemoContent(), "built-in demo")
	}
	a.mu.Lock()
	a.Opts.ContentDir = dir
	a.mu.Unlock()
	_ = a.Loader.Reload()
	return nil
}

// MakeEditable copies the content in service (the built-in demo, or a folder that cannot be
// written) into dir (default: content/ in the data folder), which must be new or empty, makes the
// copy the content in service, and records it as the content setting in the settings file (made
// in the config folder when the appliance has none), so that it stays after a restart. It returns
// the folder and what it did with the setting.
func (a *Appliance) MakeEditable(ctx context.Context, dir, actor, remote string) (string, string, error) {
	cur := a.ContentDir()
	if cur != "" && content.Writable(cur) == nil {
		return "", "", fmt.Errorf("the content in service (%s) is already editable", cur)
	}
	if dir == "" {
		dir = a.DefaultEditableDir()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	var src fs.FS = vbembed.DemoContent()
	if cur != "" {
		src = os.DirFS(cur)
	}
	n, err := content.Init(abs, src)
	if err != nil {
		return "", "", err
	}
	if err := a.switchContent(abs); err != nil {
		return "", "", err
	}
	saved, err := a.saveContentSetting(abs)
	if err != nil {
		saved = "not saved (" + err.Error() + "): set content: " + abs + " in the settings file to keep it after a restart"
	}
	from := "the built-in demo"
	if cur != "" {
		from = cur
	}
	a.audit(store.AuditEntry{Actor: actor, Action: "content.init", Target: abs, Remote: remote,
		Detail: fmt.Sprintf("editable copy of %s (%d files) now in service; %s", from, n, saved)})
	return abs, saved, nil
}

// saveContentSetting writes content: dir into the settings file, creating the default one when
// the appliance runs without, and then follows that file like one given at start.
func (a *Appliance) saveContentSetting(dir string) (string, error) {
	a.mu.Lock()
	file, flagged := a.Opts.ConfigFile, a.flags.ContentDir != ""
	a.mu.Unlock()
	created := false
	if file == "" {
		file = paths.SettingsFile(a.Opts.ConfigDir)
		_, err := os.Stat(file)
		created = errors.Is(err, fs.ErrNotExist)
	}
	if err := config.SetValue(file, "content", dir); err != nil {
		return "", err
	}
	a.mu.Lock()
	a.file.Content = dir
	a.flags.ContentDir = "" // the settings file decides from now on, in this run
	watch := a.Opts.ConfigFile == ""
	a.Opts.ConfigFile = file
	a.mu.Unlock()
	if watch {
		if err := config.Watch(a.ctx, file, a.settingsChanged); err != nil {
			return "", err
		}
	}
	msg := "saved as content: in " + file
	if created {
		msg = "saved as content: in a new settings file " + file
	}
	if flagged {
		msg += "; --content on the command line wins over the settings file at the next start: change it to " + dir
	}
	return msg, nil
}

// Teach writes one phrasing into the content in service (content.Apply), reloads it at once so
// that the next question is answered from it, audits who taught what, and answers the phrasing
// as a first turn would be answered now. An empty language is detected.
func (a *Appliance) Teach(ctx context.Context, t content.Teach, actor, remote string) (conversation.Taught, error) {
	dir := a.ContentDir()
	if err := content.Writable(dir); err != nil {
		return conversation.Taught{}, err
	}
	if t.Lang == "" {
		t.Lang = a.Engine.DetectLanguage(t.Text)
	}
	a.teachMu.Lock()
	ed, err := content.Apply(dir, t)
	if err == nil && ed.Changed {
		// The watcher would reload too, 100 ms later: the folder's print, taken before this
		// reload reads the files, lets it skip the same files (and not train twice).
		a.taughtPrint.Store(folderPrint(dir))
		err = a.Loader.Reload()
	}
	a.teachMu.Unlock()
	out := conversation.Taught{Edit: ed}
	if err != nil {
		return out, err
	}
	if ed.Changed {
		what := "example of intent " + ed.Intent
		switch ed.Action {
		case content.ActionNewIntent:
			what = "new intent " + ed.Intent
		case content.ActionOutOfScope:
			what = "out of scope"
		}
		a.audit(store.AuditEntry{Actor: actor, Action: "content.teach", Target: fmt.Sprintf("%s:%d", ed.File, ed.Line), Remote: remote,
			Detail: fmt.Sprintf("%q (%s) taught as %s", ed.Text, ed.Lang, what)})
	}
	out.Version = a.Loader.Status().Version
	if r, err := a.Engine.Try(ed.Text, ed.Lang); err == nil {
		out.Reply = &r
	}
	return out, nil
}

// folderPrint is a fingerprint of a content folder's files (paths, sizes, modification times),
// "" when it cannot be read.
func folderPrint(dir string) string {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
