package conversation

// Status never waits on a reload (issue 16): /readyz, the dashboard and the tray read the
// loader's status while a reload parses, trains or runs its OnReload.

import (
	"io/fs"
	"sync"
	"testing"
	"time"

	vbembed "voicebot/embed"
)

// gatedFS blocks the first Open of bot.yaml until released: a reload held while it parses.
type gatedFS struct {
	fs.FS
	once    sync.Once
	opened  chan struct{}
	release chan struct{}
}

func (g *gatedFS) Open(name string) (fs.File, error) {
	if name == "bot.yaml" {
		g.once.Do(func() {
			close(g.opened)
			<-g.release
		})
	}
	return g.FS.Open(name)
}

// statusWithin fails the test unless Status returns within a generous bound (it must not wait
// for the reload the test holds, which never ends on its own).
func statusWithin(t *testing.T, l *Loader, phase string) Status {
	t.Helper()
	got := make(chan Status, 1)
	go func() { got <- l.Status() }()
	select {
	case st := <-got:
		return st
	case <-time.After(10 * time.Second):
		t.Fatalf("Status waited for the reload held in %s", phase)
		return Status{}
	}
}

func TestStatusDoesNotWaitForReload(t *testing.T) {
	e := New(NewMemorySessions(10, time.Hour))
	g := &gatedFS{FS: vbembed.DemoContent(), opened: make(chan struct{}), release: make(chan struct{})}
	l := NewLoader(e, g, "demo")
	inHook, releaseHook := make(chan struct{}), make(chan struct{})
	var hookOnce sync.Once
	l.OnReload = func(Status) {
		hookOnce.Do(func() {
			close(inHook)
			<-releaseHook
		})
	}
	reloaded := make(chan error, 1)
	go func() { reloaded <- l.Reload() }()

	<-g.opened // parsing
	if st := statusWithin(t, l, "parsing"); st.Version != 0 {
		t.Errorf("status during the first load: version %d", st.Version)
	}
	close(g.release)

	<-inHook // loaded, swapped, in OnReload
	if st := statusWithin(t, l, "OnReload"); st.Version != 1 || !st.OK {
		t.Errorf("status during OnReload: version %d ok %v", st.Version, st.OK)
	}
	close(releaseHook)
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	// Reloads stay one at a time, and the status follows them.
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = l.Reload() }()
	}
	wg.Wait()
	if st := l.Status(); st.Version != 4 || !st.OK {
		t.Errorf("after three more reloads: version %d ok %v", st.Version, st.OK)
	}
}
