package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
)

func openOutbox(t *testing.T) *DB {
	t.Helper()
	db, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "v.db"), testKey(9), Options{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func outboxKinds(t *testing.T, db *DB) ([]string, []OutboxRow) {
	t.Helper()
	rows, err := db.OutboxPeek(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range rows {
		kinds = append(kinds, r.Kind+":"+r.SessionID)
	}
	return kinds, rows
}

// TestOutboxWrittenWithTheChange: with the outbox on, each turn, audit entry (of a change, or on
// its own), erase and purge writes its outbox row in the same transaction, in order, with a
// self-contained payload; an erase drops its session's turns not yet shipped; a write that fails
// (a later turn of an erased session) leaves no outbox row; OutboxDone deletes what was shipped,
// and seqs are never reused after the outbox empties (AUTOINCREMENT), nor below OutboxRaise. A
// store opened without the option writes no outbox row.
func TestOutboxWrittenWithTheChange(t *testing.T) {
	ctx := context.Background()
	db := openOutbox(t)
	offer := "tortoise"
	save := func(id string, n int, at int64) error {
		return db.SaveTurn(ctx, SessionRow{ID: id, Lang: "en", KeyID: "k1", State: []byte(`{"n":1}`), Turns: n, CreatedMs: 1, UpdatedMs: at},
			&TurnRow{Visitor: "hello " + id, Heard: []byte(`{"confidence":0.4}`), Text: "hi", Lang: "en", Kind: "repair", Offer: &offer, KeyID: "k1", AtMs: at})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(save("s1", 1, 10))
	must(save("s1", 2, 20))
	must(save("s2", 1, 30))
	must(db.Audit(ctx, AuditEntry{AtMs: 40, Actor: "cli", Action: "key.create", Target: "k2"}))
	must(db.EraseSession(ctx, "s1", AuditEntry{AtMs: 50, Actor: "k1", Action: "session.erase", Target: "s1"}))
	if err := save("s1", 3, 60); !errors.Is(err, ErrGone) {
		t.Fatalf("a later turn of an erased session: %v", err)
	}
	kinds, rows := outboxKinds(t, db)
	want := []string{"turn:s2", "audit:", "erase:s1", "audit:"}
	if len(kinds) != len(want) {
		t.Fatalf("outbox %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("outbox %v, want %v", kinds, want)
		}
	}
	var te TurnEvent
	if err := json.Unmarshal(rows[0].Payload, &te); err != nil || te.Session.ID != "s2" || te.Session.State != `{"n":1}` || te.Turn == nil ||
		te.Turn.Visitor != "hello s2" || te.Turn.Heard == nil || *te.Turn.Heard != `{"confidence":0.4}` || te.Turn.Offer == nil || *te.Turn.Offer != "tortoise" {
		t.Errorf("the turn's payload: %s %v", rows[0].Payload, err)
	}
	var ae AuditEntry
	if err := json.Unmarshal(rows[3].Payload, &ae); err != nil || ae.Action != "session.erase" || ae.Target != "s1" || ae.AtMs != 50 {
		t.Errorf("the erase's audit payload: %s", rows[3].Payload)
	}
	// a purge: its event, its audit entry, and the purged sessions' unshipped turns dropped
	must(save("s3", 1, 100))
	n, err := db.PurgeSessions(ctx, 70, func(n int64) AuditEntry { return AuditEntry{AtMs: 70, Actor: "system", Action: "session.purge"} })
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	kinds, rows = outboxKinds(t, db)
	if got := kinds[len(kinds)-3:]; got[0] != "turn:s3" || got[1] != "purge:" || got[2] != "audit:" || kinds[0] != "audit:" {
		t.Fatalf("after the purge: %v (s2's turn dropped, s3's kept)", kinds)
	}
	st, err := db.OutboxStats(ctx)
	if err != nil || st.Rows != int64(len(rows)) || st.Bytes <= 0 || st.OldestMs != rows[0].AtMs || st.LastSeq != rows[len(rows)-1].Seq {
		t.Errorf("stats %+v %v (rows %d)", st, err, len(rows))
	}
	last := rows[len(rows)-1].Seq
	must(db.OutboxDone(ctx, last))
	if st, _ := db.OutboxStats(ctx); st.Rows != 0 || st.Bytes != 0 || st.OldestMs != 0 || st.LastSeq != last {
		t.Errorf("after OutboxDone: %+v", st)
	}
	must(db.Audit(ctx, AuditEntry{Actor: "cli", Action: "x"}))
	if _, rows = outboxKinds(t, db); len(rows) != 1 || rows[0].Seq != last+1 {
		t.Errorf("the seq after an emptied outbox: %+v, want %d (never reused)", rows, last+1)
	}
	must(db.OutboxRaise(ctx, 1000))
	must(db.OutboxRaise(ctx, 10)) // never lowers
	must(db.Audit(ctx, AuditEntry{Actor: "cli", Action: "y"}))
	if _, rows = outboxKinds(t, db); len(rows) != 2 || rows[1].Seq != 1001 {
		t.Errorf("the seq after OutboxRaise(1000): %+v", rows)
	}

	plain := openTest(t, filepath.Join(t.TempDir(), "p.db"), testKey(3))
	must(plain.SaveTurn(ctx, SessionRow{ID: "p", State: []byte(`{}`), Turns: 1, CreatedMs: 1, UpdatedMs: 1}, &TurnRow{Visitor: "a", Text: "b", AtMs: 1}))
	must(plain.Audit(ctx, AuditEntry{Actor: "cli", Action: "x"}))
	if st, err := plain.OutboxStats(ctx); err != nil || st.Rows != 0 {
		t.Errorf("a store without the outbox: %+v %v", st, err)
	}
}

// TestOutboxRaiseOnFreshStore: a store that never gave out a seq (no sqlite_sequence row yet)
// starts above the raised one.
func TestOutboxRaiseOnFreshStore(t *testing.T) {
	ctx := context.Background()
	db := openOutbox(t)
	if err := db.OutboxRaise(ctx, 500); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, AuditEntry{Actor: "cli", Action: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, rows := outboxKinds(t, db); len(rows) != 1 || rows[0].Seq != 501 {
		t.Errorf("%+v", rows)
	}
}
