package conversation

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"voicebot/backend/content"
	"voicebot/backend/internal/testcontent"
)

// saveByRename saves a file the way many editors do: write a temp file, rename it over.
func saveByRename(t testing.TB, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHotReloadUnderLoad edits the content folder while requests keep coming (run it with the
// race detector): a good edit is answered, a broken edit keeps the last good snapshot serving and
// reports the file and line, and the fix applies again. No request fails meanwhile.
func TestHotReloadUnderLoad(t *testing.T) {
	dir := testcontent.CopyDemo(t)
	e := New(NewMemorySessions(10000, time.Hour))
	loader := NewLoader(e, os.DirFS(dir), dir)
	if err := loader.Reload(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := content.Watch(ctx, dir, content.DefaultDebounce, func() { _ = loader.Reload() }); err != nil {
		t.Fatal(err)
	}

	var served, failures atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			qs := []string{"what are the opening hours", "where is the cafe", "¿cuánto cuesta la entrada?", "can I hire the museum for a wedding"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.Reply(ctx, Request{Text: qs[(i+w)%len(qs)]}); err != nil {
					failures.Add(1)
				}
				served.Add(1)
			}
		}(w)
	}

	ask := func(q string) Reply {
		r, err := e.Reply(ctx, Request{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	intents := filepath.Join(dir, "intents", "en.yaml")
	orig, _ := os.ReadFile(intents)

	// 1. a good edit: the wifi answer changes
	v1 := e.Snapshot().Version
	edited := strings.Replace(string(orig), "join the network 'HCM-Visitors'", "join the network 'HARBOUR-FREE'", 1)
	saved := time.Now()
	saveByRename(t, intents, edited)
	waitFor(t, "the edited answer", 20*time.Second, func() bool { return strings.Contains(ask("is there wifi").Text, "HARBOUR-FREE") })
	t.Logf("edit answered %v after saving", time.Since(saved).Round(time.Millisecond))
	if e.Snapshot().Version <= v1 {
		t.Errorf("version did not move")
	}

	// 2. a broken edit: the last good snapshot keeps serving; the error names file and line
	v2 := e.Snapshot().Version
	broken := strings.Replace(edited, "- \"(is there|do you have) [free] (wifi|wi fi|internet)\"", "- \"(is there|do you have [free] (wifi|wi fi|internet)\"", 1)
	if broken == edited {
		t.Fatal("test setup: the template to break was not found")
	}
	saveByRename(t, intents, broken)
	waitFor(t, "the error report", 20*time.Second, func() bool { return !loader.Status().OK })
	st := loader.Status()
	if len(st.Errors) == 0 || st.Errors[0].File != "intents/en.yaml" || st.Errors[0].Line == 0 || !strings.Contains(st.Errors[0].Msg, "never closed") {
		t.Errorf("error report: %+v", st.Errors)
	}
	if e.Snapshot().Version != v2 || !strings.Contains(ask("is there wifi").Text, "HARBOUR-FREE") {
		t.Errorf("the broken edit replaced the last good content")
	}

	// 3. the fix applies, and a new sub-folder with a new document is picked up
	saveByRename(t, intents, edited)
	waitFor(t, "the fix", 20*time.Second, func() bool { return loader.Status().OK && e.Snapshot().Version > v2 })
	sub := filepath.Join(dir, "knowledge", "en", "events")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the watcher add the new folder
	if err := os.WriteFile(filepath.Join(sub, "night-market.md"), []byte("# The Night Market\n\nOn the first Friday of every month a night market with street food and local makers fills the museum quay from 18:00 to 23:00.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new document", 20*time.Second, func() bool {
		r := ask("when is the night market on the quay")
		return r.Kind == KindKnowledge && r.Sources[0].Path == "knowledge/en/events/night-market.md"
	})

	close(stop)
	wg.Wait()
	if failures.Load() > 0 {
		t.Errorf("%d of %d requests failed during reloads", failures.Load(), served.Load())
	}
	t.Logf("%d requests served during the reloads", served.Load())
}
