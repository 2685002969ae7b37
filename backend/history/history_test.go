package history

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/store"
	vbembed "voicebot/embed"
)

func open(t *testing.T, path string) (*store.DB, *conversation.Engine, *Store) {
	t.Helper()
	db, err := store.Open(context.Background(), path, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	h := New(db)
	e := conversation.New(h)
	if err := conversation.NewLoader(e, vbembed.DemoContent(), "demo").Reload(); err != nil {
		t.Fatal(err)
	}
	return db, e, h
}

// TestSessionsSurviveARestart: a follow-up after reopening the store still knows the last intent.
func TestSessionsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	ctx := context.Background()
	db, e, _ := open(t, path)
	r, err := e.Reply(ctx, conversation.Request{Text: "what are the opening hours", KeyID: "abcd1234"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db2, e2, h2 := open(t, path)
	defer db2.Close()
	r2, err := e2.Reply(ctx, conversation.Request{SessionID: r.SessionID, Text: "and on sunday?"})
	if err != nil || r2.Intent != "opening_hours" || r2.Slots["day"] != "sunday" {
		t.Fatalf("follow-up after restart: %+v %v", r2, err)
	}
	msgs, err := h2.Messages(ctx, r.SessionID)
	if err != nil || len(msgs) != 4 || msgs[0].Role != "visitor" || msgs[1].Intent != "opening_hours" || msgs[3].Text != r2.Text {
		t.Fatalf("transcript: %+v %v", msgs, err)
	}
	list, _ := h2.List(ctx, ListQuery{Search: "sunday"})
	if len(list) != 1 || list[0].ID != r.SessionID || list[0].Turns != 2 || list[0].KeyID != "abcd1234" {
		t.Errorf("search: %+v", list)
	}
	if list, _ := h2.List(ctx, ListQuery{Search: "100%_nothing"}); len(list) != 0 {
		t.Errorf("LIKE wildcards not escaped: %+v", list)
	}
	x, err := h2.Export(ctx, r.SessionID, "cli", "")
	if err != nil || len(x.Messages) != 4 {
		t.Fatalf("export: %v", err)
	}
	if err := h2.Erase(ctx, r.SessionID, "cli", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h2.Messages(ctx, r.SessionID); !errors.Is(err, ErrNoSession) {
		t.Errorf("after erase: %v", err)
	}
	if err := h2.Erase(ctx, r.SessionID, "cli", ""); !errors.Is(err, ErrNoSession) {
		t.Errorf("erase twice: %v", err)
	}
	log, _ := db2.AuditLog(ctx, 0, 10)
	if len(log) < 2 || log[0].Action != "session.erase" || log[1].Action != "session.export" {
		t.Errorf("audit: %+v", log)
	}
}

func TestRetentionPurge(t *testing.T) {
	db, e, h := open(t, filepath.Join(t.TempDir(), "v.db"))
	defer db.Close()
	ctx := context.Background()
	e.Reply(ctx, conversation.Request{Text: "hello"})
	if n, err := h.Purge(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("purge of recent: %d %v", n, err)
	}
	if n, err := h.Purge(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Errorf("purge: %d %v", n, err)
	}
}
