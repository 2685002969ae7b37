package httpapi

// Shutdown (issue 16): turns under way are answered and saved, new ones are refused with
// shutting_down, open voice streams end.

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"voicebot/backend/conversation"
)

// heldSessions holds the next Put until released (a turn under way, not yet saved).
type heldSessions struct {
	conversation.SessionStore
	mu      sync.Mutex
	entered chan struct{}
	release chan struct{}
}

func (h *heldSessions) Put(ctx context.Context, st *conversation.State, t *conversation.Turn) error {
	h.mu.Lock()
	entered, release := h.entered, h.release
	h.entered = nil
	h.mu.Unlock()
	if entered != nil {
		close(entered)
		<-release
	}
	return h.SessionStore.Put(ctx, st, t)
}

// streamConn is a voice connection that sends nothing until its context ends.
type streamConn struct{}

func (c streamConn) Read(ctx context.Context) (bool, []byte, error) {
	<-ctx.Done()
	return false, nil, ctx.Err()
}
func (c streamConn) Write(context.Context, bool, []byte) error { return nil }

func TestShutdownDrainsTurns(t *testing.T) {
	f := newFixture(t, Config{})
	entered, release := make(chan struct{}), make(chan struct{})
	held := &heldSessions{SessionStore: f.history, entered: entered, release: release}
	f.engine = conversation.New(held)
	f.engine.Swap(demoSnapshot(t))
	f.api.Engine = f.engine
	k := f.key("", "chat")

	answered := make(chan response, 1)
	go func() { answered <- f.do("POST", "/v1/chat", k, `{"text":"what are the opening hours"}`) }()
	<-entered // the turn is under way

	stream := make(chan struct{})
	go func() {
		f.api.ServeVoice(context.Background(), streamConn{}, "en", "", "test")
		close(stream)
	}()

	done := make(chan error, 1)
	go func() { done <- f.api.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a turn under way", err)
	case <-time.After(300 * time.Millisecond):
	}
	if r := f.do("POST", "/v1/chat", k, `{"text":"hello"}`); r.status != http.StatusServiceUnavailable || r.code() != CodeShuttingDown || r.header.Get("Retry-After") == "" {
		t.Errorf("a turn asked during shutdown: %d %s", r.status, r.body)
	}
	close(release)
	if r := <-answered; r.status != 200 {
		t.Errorf("the turn under way: %d %s", r.status, r.body)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	select {
	case <-stream:
	case <-time.After(5 * time.Second):
		t.Error("the voice stream did not end with Shutdown")
	}
	if list, _ := f.history.List(context.Background(), historyListAll()); len(list) != 1 {
		t.Errorf("stored sessions: %d, want 1", len(list))
	}
}

// TestShutdownDeadline: a turn that does not finish lets Shutdown return at the deadline.
func TestShutdownDeadline(t *testing.T) {
	f := newFixture(t, Config{})
	entered, release := make(chan struct{}), make(chan struct{})
	held := &heldSessions{SessionStore: f.history, entered: entered, release: release}
	e := conversation.New(held)
	e.Swap(demoSnapshot(t))
	f.api.Engine = e
	k := f.key("", "chat")
	answered := make(chan response, 1)
	go func() { answered <- f.do("POST", "/v1/chat", k, `{"text":"hello"}`) }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := f.api.Shutdown(ctx); err == nil {
		t.Error("Shutdown with a turn stuck past the deadline returned nil")
	}
	close(release)
	<-answered
}
