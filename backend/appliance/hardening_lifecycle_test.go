package appliance

// Shutdown (issue 16): Close stops accepting, lets the turns under way finish, stops the
// background work and waits for it, flushes the key usage and only then closes the store, so
// nothing in flight loses its write and nothing outlives the store.

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// TestCloseKeepsInFlightUsageFlush: the background usage flush is under way (its write queued
// behind a commit the test holds) when Close runs; the uses it carried are in the store after
// Close.
func TestCloseKeepsInFlightUsageFlush(t *testing.T) {
	o := Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0"}
	a, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain, k, err := a.Keys.Create(ctx, keys.Spec{Name: "tablet", Scopes: []string{"chat"}}, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	const uses = 7
	for range uses {
		if r := do(t, a, "GET", "/v1/bot", plain, ""); r.status != 200 {
			t.Fatalf("bot: %d", r.status)
		}
	}
	// Hold the store's writer inside its next commit.
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	a.DB.SetCommitObserver(func(int, time.Duration, error) {
		once.Do(func() {
			close(held)
			<-release
		})
	})
	go func() { _ = a.DB.Audit(ctx, store.AuditEntry{Actor: "test", Action: "test.hold"}) }()
	<-held
	// Wait for the background flush (every 2 s) to take the counts: they leave memory, and
	// its write waits behind the held commit.
	waitUntil(t, "the background flush to take the uses", func() bool {
		got, err := a.Keys.Get(ctx, k.ID)
		return err == nil && got.Uses == 0
	})
	closed := make(chan error, 1)
	go func() { closed <- a.Close(context.Background()) }()
	// Let Close get past its own flush before the writer goes on.
	waitUntil(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", a.ln.Addr().String(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	time.Sleep(200 * time.Millisecond)
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}

	db, err := OpenStore(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := keys.NewService(db).Get(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Uses != uses {
		t.Errorf("after Close the key has %d uses stored, want %d", got.Uses, uses)
	}
}

// TestCloseWaitsForReload: a reload (as the content watcher's debounced one) is under way when
// Close runs; Close waits for it, its audit entry reaches the store, and a reload after Close
// does nothing.
func TestCloseWaitsForReload(t *testing.T) {
	o := Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0"}
	a, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	inReload, release := make(chan struct{}), make(chan struct{})
	prev := a.Loader.OnReload
	a.Loader.OnReload = func(st conversation.Status) {
		close(inReload)
		<-release
		prev(st)
	}
	go func() { _ = a.Loader.Reload() }()
	<-inReload
	closed := make(chan error, 1)
	go func() { closed <- a.Close(context.Background()) }()
	select {
	case err := <-closed:
		close(release)
		t.Fatalf("Close returned (%v) while a reload was under way", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := a.Loader.Reload(); err == nil {
		t.Error("a reload after Close ran")
	}
	ctx := context.Background()
	db, err := OpenStore(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, _ := db.AuditSearch(ctx, store.AuditFilter{Action: "content.reload"})
	if len(log) != 2 {
		t.Errorf("%d content.reload entries, want 2 (the start's and the one under way at Close)", len(log))
	}
}
