package conversation

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"voicebot/backend/content"
	vbembed "voicebot/embed"
)

// reloadWait is how long a test waits for the watcher's reload: a deadline for polling, not a
// timing promise (the debounce is 100 ms; save to answer has its own benchmark). Under -race
// beside the other packages' tests a reload of the demo takes seconds, and a folder swap is
// followed by two or three (10 s was once too short in CI).
const reloadWait = 30 * time.Second

// watchedContent copies the demo pack into parent/content and serves it the way the appliance
// does: a Loader on os.DirFS(dir), reloaded by content.Watch on dir.
func watchedContent(t *testing.T) (e *Engine, l *Loader, parent, dir string) {
	t.Helper()
	parent = t.TempDir()
	dir = filepath.Join(parent, "content")
	if err := os.CopyFS(dir, vbembed.DemoContent()); err != nil {
		t.Fatal(err)
	}
	e = New(NewMemorySessions(1000, time.Hour))
	l = NewLoader(e, os.DirFS(dir), dir)
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := content.Watch(ctx, dir, content.DefaultDebounce, func() { _ = l.Reload() }); err != nil {
		t.Fatal(err)
	}
	return e, l, parent, dir
}

func ask(t *testing.T, e *Engine, q string) Reply {
	t.Helper()
	r, err := e.Reply(context.Background(), Request{Text: q})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// setWifiNetwork rewrites the demo's wifi answer in dir to name another network.
func setWifiNetwork(t *testing.T, dir, network string) {
	t.Helper()
	p := filepath.Join(dir, "intents", "en.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "join the network '")
	if i < 0 {
		t.Fatal("test setup: the wifi answer was not found")
	}
	i += len("join the network '")
	j := strings.Index(s[i:], "'")
	saveByRename(t, p, s[:i]+network+s[i+j:])
}

// extraIntents is an intents file of its own with one intent no other file has.
const extraIntents = `language: en
intents:
  night_market:
    templates:
      - "when is the night market"
    examples:
      - "is there a night market on the quay"
    responses:
      - "The night market fills the quay on the first Friday of every month."
`

// TestReloadFileDeleted: deleting an intents file (the pack stays valid) takes its intents out of
// service; deleting bot.yaml (the pack becomes invalid) keeps the last good content serving
// while Status reports why; putting bot.yaml back loads the folder again.
func TestReloadFileDeleted(t *testing.T) {
	e, l, _, dir := watchedContent(t)
	extra := filepath.Join(dir, "intents", "night.yaml")
	if err := os.WriteFile(extra, []byte(extraIntents), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the added intents file", reloadWait, func() bool { return ask(t, e, "when is the night market").Intent == "night_market" })
	v := e.Snapshot().Version

	if err := os.Remove(extra); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted file's intent out of service", reloadWait, func() bool { return e.Snapshot().Version > v })
	if r := ask(t, e, "when is the night market"); r.Intent == "night_market" || strings.Contains(r.Text, "first Friday") {
		t.Errorf("after deleting intents/night.yaml: answered %s %q", answered(r), r.Text)
	}
	if st := l.Status(); !st.OK {
		t.Errorf("after deleting an intents file the pack is valid, status: %+v", st.Errors)
	}
	for _, f := range l.Status().Files {
		if f.Path == "intents/night.yaml" {
			t.Errorf("the deleted file is still listed in the status: %+v", f)
		}
	}
	if r := ask(t, e, "what are the opening hours"); r.Intent != "opening_hours" {
		t.Errorf("the other files' intents after the delete: %s", answered(r))
	}

	// bot.yaml deleted: the pack is invalid, the last good one keeps serving.
	v = e.Snapshot().Version
	bot := filepath.Join(dir, "bot.yaml")
	botYAML, err := os.ReadFile(bot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bot); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status to report the missing bot.yaml", reloadWait, func() bool { return !l.Status().OK })
	st := l.Status()
	if len(st.Errors) == 0 || st.Errors[0].File != "bot.yaml" || !strings.Contains(st.Errors[0].Msg, "bot.yaml") {
		t.Errorf("status after deleting bot.yaml: %+v", st.Errors)
	}
	if st.Version != v || e.Snapshot().Version != v {
		t.Errorf("deleting bot.yaml replaced the content in service: status version %d, snapshot %d, want %d", st.Version, e.Snapshot().Version, v)
	}
	if r := ask(t, e, "what are the opening hours"); r.Intent != "opening_hours" {
		t.Errorf("the last good content after deleting bot.yaml: %s", answered(r))
	}

	if err := os.WriteFile(bot, botYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the folder loaded again once bot.yaml is back", reloadWait, func() bool { return l.Status().OK && e.Snapshot().Version > v })
}

// TestReloadFolderDeleted: the content folder deleted outright: the last good content keeps
// serving and Status says the folder cannot be read (not that bot.yaml is missing).
func TestReloadFolderDeleted(t *testing.T) {
	e, l, _, dir := watchedContent(t)
	v := e.Snapshot().Version
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status to report the deleted folder", reloadWait, func() bool { return !l.Status().OK })
	st := l.Status()
	if len(st.Errors) == 0 {
		t.Fatal("no error in the status after the folder was deleted")
	}
	msg := st.Errors[0].Msg
	if !strings.Contains(msg, "content folder") {
		t.Errorf("status after deleting the folder does not say the folder is gone: %+v", st.Errors)
	}
	if st.Version != v || e.Snapshot().Version != v {
		t.Errorf("deleting the folder replaced the content in service: status version %d, snapshot %d, want %d", st.Version, e.Snapshot().Version, v)
	}
	if r := ask(t, e, "what are the opening hours"); r.Intent != "opening_hours" {
		t.Errorf("the last good content after deleting the folder: %s", answered(r))
	}
}

// TestReloadFolderSwappedByRename: a deploy tool replaces the whole content folder by renaming
// the old one away and a new one into its place. The new folder's content is served, and the
// new folder is watched from then on (an edit made in it afterwards is served too), whether
// the two renames come back to back or the path is missing for a moment between them.
func TestReloadFolderSwappedByRename(t *testing.T) {
	for _, gap := range []time.Duration{0, 500 * time.Millisecond} {
		t.Run("gap_"+gap.String(), func(t *testing.T) {
			e, l, parent, dir := watchedContent(t)
			if r := ask(t, e, "is there wifi"); !strings.Contains(r.Text, "HCM-Visitors") {
				t.Fatalf("before the swap: %q", r.Text)
			}

			next := filepath.Join(parent, "content.new")
			if err := os.CopyFS(next, vbembed.DemoContent()); err != nil {
				t.Fatal(err)
			}
			setWifiNetwork(t, next, "DEPLOYED-1")
			if err := os.Rename(dir, filepath.Join(parent, "content.old")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(gap)
			if err := os.Rename(next, dir); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the swapped-in folder's answer", reloadWait, func() bool {
				return strings.Contains(ask(t, e, "is there wifi").Text, "DEPLOYED-1")
			})
			waitFor(t, "a status that is OK", reloadWait, func() bool { return l.Status().OK })

			// The new folder is the one watched now: an edit in it is served.
			setWifiNetwork(t, dir, "EDITED-AFTER-SWAP")
			waitFor(t, "an edit made in the swapped-in folder", reloadWait, func() bool {
				return strings.Contains(ask(t, e, "is there wifi").Text, "EDITED-AFTER-SWAP")
			})
			// And an edit in the old folder, now elsewhere, is not.
			setWifiNetwork(t, filepath.Join(parent, "content.old"), "OLD-FOLDER")
			time.Sleep(3 * content.DefaultDebounce)
			if r := ask(t, e, "is there wifi"); !strings.Contains(r.Text, "EDITED-AFTER-SWAP") {
				t.Errorf("after editing the renamed-away folder: %q, want the live folder's answer", r.Text)
			}
		})
	}
}

// TestReloadFolderRestored: the content folder deleted, then a folder put back at the same path
// (a restore): it is loaded and watched again.
func TestReloadFolderRestored(t *testing.T) {
	e, l, _, dir := watchedContent(t)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status to report the deleted folder", reloadWait, func() bool { return !l.Status().OK })
	// A restore at the same path is loaded and watched again.
	restored := dir + ".restore"
	if err := os.CopyFS(restored, vbembed.DemoContent()); err != nil {
		t.Fatal(err)
	}
	setWifiNetwork(t, restored, "RESTORED")
	if err := os.Rename(restored, dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restored folder's answer", reloadWait, func() bool {
		return strings.Contains(ask(t, e, "is there wifi").Text, "RESTORED")
	})
	setWifiNetwork(t, dir, "EDITED-AFTER-RESTORE")
	waitFor(t, "an edit in the restored folder", reloadWait, func() bool {
		return strings.Contains(ask(t, e, "is there wifi").Text, "EDITED-AFTER-RESTORE")
	})
}
