package history

// Erase against a turn in flight (issue 16): once Erase returns, nothing of the session exists,
// whatever was under way; and the erased words are not left in the free space of the decrypted
// database file.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lukechampine.com/adiantum"

	"voicebot/backend/conversation"
	"voicebot/backend/store"
	vbembed "voicebot/embed"
)

// gatedStore holds the engine's Put until released, so a test can act while a turn is in flight
// (after the engine read the session, before the turn is saved).
type gatedStore struct {
	*Store
	mu      sync.Mutex
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) arm() (entered, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.entered, g.release = make(chan struct{}), make(chan struct{})
	return g.entered, g.release
}

func (g *gatedStore) Put(ctx context.Context, st *conversation.State, t *conversation.Turn) error {
	g.mu.Lock()
	entered, release := g.entered, g.release
	g.entered, g.release = nil, nil
	g.mu.Unlock()
	if entered != nil {
		close(entered)
		<-release
	}
	return g.Store.Put(ctx, st, t)
}

func gatedEngine(t *testing.T, db *store.DB) (*conversation.Engine, *Store, *gatedStore) {
	t.Helper()
	h := New(db)
	g := &gatedStore{Store: h}
	e := conversation.New(g)
	if err := conversation.NewLoader(e, vbembed.DemoContent(), "demo").Reload(); err != nil {
		t.Fatal(err)
	}
	return e, h, g
}

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// gone fails the test unless nothing of the session is left: no transcript, no memory, no row
// in the list.
func gone(t *testing.T, h *Store, id string) {
	t.Helper()
	ctx := context.Background()
	if msgs, err := h.Messages(ctx, id); !errors.Is(err, ErrNoSession) {
		t.Errorf("after erase the session has %d messages (%v)", len(msgs), err)
	}
	if _, ok, err := h.Get(ctx, id); ok || err != nil {
		t.Errorf("after erase the session's memory is still there (%v)", err)
	}
	if list, _ := h.List(ctx, ListQuery{}); len(list) != 0 {
		t.Errorf("after erase the list has %+v", list)
	}
}

// TestEraseWaitsForTurnInFlight: a turn has read the session and is about to save it when the
// session is erased; the erase must win: once it returns, the session does not exist.
func TestEraseWaitsForTurnInFlight(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	defer db.Close()
	ctx := context.Background()
	e, h, g := gatedEngine(t, db)
	r, err := e.Reply(ctx, conversation.Request{Text: "what are the opening hours"})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := g.arm()
	turn := make(chan error, 1)
	go func() {
		_, err := e.Reply(ctx, conversation.Request{SessionID: r.SessionID, Text: "and on sunday?"})
		turn <- err
	}()
	<-entered // the turn holds the session's memory and waits to save it
	erased := make(chan error, 1)
	go func() { erased <- h.Erase(ctx, r.SessionID, "test", "") }()
	select {
	case err := <-erased: // erase did not wait for the turn: let the turn save, then look
		close(release)
		<-turn
		if err != nil {
			t.Fatalf("erase: %v", err)
		}
	case <-time.After(300 * time.Millisecond): // erase waits for the turn, as it should
		close(release)
		if err := <-turn; err != nil {
			t.Fatalf("the turn in flight: %v", err)
		}
		if err := <-erased; err != nil {
			t.Fatalf("erase: %v", err)
		}
	}
	gone(t, h, r.SessionID)
}

// TestEraseFromAnotherProcessDuringTurn: `voicebot erase` runs in a process of its own (no
// shared locks) while a turn of the running appliance is in flight; the turn must not write the
// erased session back.
func TestEraseFromAnotherProcessDuringTurn(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	defer db.Close()
	ctx := context.Background()
	e, h, g := gatedEngine(t, db)
	r, err := e.Reply(ctx, conversation.Request{Text: "what are the opening hours"})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := g.arm()
	turn := make(chan error, 1)
	go func() {
		_, err := e.Reply(ctx, conversation.Request{SessionID: r.SessionID, Text: "and on sunday?"})
		turn <- err
	}()
	<-entered
	if err := New(db).Erase(ctx, r.SessionID, "cli", ""); err != nil { // the command line's store
		t.Fatal(err)
	}
	close(release)
	if err := <-turn; !errors.Is(err, ErrSessionErased) {
		t.Errorf("the turn whose session was erased under it: %v, want ErrSessionErased", err)
	}
	gone(t, h, r.SessionID)
	// the same id may start afresh
	if r2, err := e.Reply(ctx, conversation.Request{SessionID: r.SessionID, Text: "hello"}); err != nil || r2.Turn != 1 {
		t.Errorf("a new turn on the erased id: %+v %v", r2, err)
	}
}

// decryptedContains reports whether the decrypted bytes of the store's files (the database and
// its WAL, each 4 KiB block decrypted as the Adiantum VFS does) contain needle.
func decryptedContains(t *testing.T, path string, key []byte, needle string) bool {
	t.Helper()
	c := adiantum.New(key)
	found := false
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var tweak [8]byte
		for off := 0; off+4096 <= len(b); off += 4096 {
			binary.LittleEndian.PutUint64(tweak[:], uint64(off))
			if bytes.Contains(c.Decrypt(b[off:off+4096], tweak[:]), []byte(needle)) {
				found = true
			}
		}
	}
	return found
}

// TestErasedTextNotInFile: an erased conversation's words are in neither the decrypted database
// file nor its WAL once the store is closed (secure_delete zeroes deleted cells; the last
// checkpoint empties the WAL that held the earlier page images).
func TestErasedTextNotInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	key := bytes.Repeat([]byte{7}, 32)
	ctx := context.Background()
	const secret = "zanzibar quokka telescope"
	db := openStore(t, path)
	e, _, _ := gatedEngine(t, db)
	var ids []string
	for i := range 3 { // a few sessions so the erased one shares pages with kept ones
		r, err := e.Reply(ctx, conversation.Request{Text: "is there wifi"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := e.Reply(ctx, conversation.Request{SessionID: r.SessionID, Text: "my name is " + secret}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, r.SessionID)
	}
	db.Close()
	if !decryptedContains(t, path, key, secret) {
		t.Fatal("the secret is not found in the decrypted file before the erase: the test cannot see the file")
	}
	db = openStore(t, path)
	if err := New(db).Erase(ctx, ids[1], "test", ""); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if decryptedContains(t, path, key, secret) {
		t.Error("the erased conversation's words survive in the decrypted database file")
	}
	db = openStore(t, path)
	defer db.Close()
	if list, _ := New(db).List(ctx, ListQuery{}); len(list) != 2 {
		t.Errorf("the other sessions: %+v", list)
	}
}
