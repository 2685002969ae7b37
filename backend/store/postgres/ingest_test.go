package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/internal/pgtest"
	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
)

// TestIngestIsIdempotent: a kiosk's SQLite outbox (the real store with the outbox on) shipped to
// a real PostgreSQL: the turns, audit entries and erase arrive stamped with the kiosk's name, in
// order (the erased session's shipped turns are deleted, its unshipped ones never arrive); a
// batch shipped again, whole or overlapping, is applied once (the high-water mark); a purge
// deletes only that kiosk's sessions; the kiosk's contact and backlog are recorded.
func TestIngestIsIdempotent(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	pg, err := postgres.Open(ctx, srv.NewDatabase(t), "fleet-node")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	kiosk, err := store.OpenWith(ctx, filepath.Join(t.TempDir(), "k.db"), bytes.Repeat([]byte{7}, 32), store.Options{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kiosk.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	kiosk1 := store.OutboxSource{Appliance: "kiosk-1", StoreID: kiosk.Identity(), Version: "v9", StartedMs: 500}
	heard := []byte(`{"transcript":"hello","confidence":0.3}`)
	save := func(id string, n int, at int64) {
		t.Helper()
		must(kiosk.SaveTurn(ctx, store.SessionRow{ID: id, Lang: "en", KeyID: "k", State: []byte(`{"turn":` + string(rune('0'+n)) + `}`), Turns: n, CreatedMs: 1, UpdatedMs: at},
			&store.TurnRow{Visitor: "question " + id, Heard: heard, Text: "answer", Lang: "en", Kind: "intent", Intent: "hours", Confidence: 0.9, LatencyUS: 42, KeyID: "k", AtMs: at}))
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		must(pg.Pool().QueryRow(ctx, q, args...).Scan(&n))
		return n
	}
	save("a", 1, 10)
	save("a", 2, 20)
	save("b", 1, 30)
	must(kiosk.Audit(ctx, store.AuditEntry{AtMs: 35, Actor: "cli", Action: "key.create", Target: "k2"}))
	first, err := kiosk.OutboxPeek(ctx, 2)
	must(err)
	mark, err := pg.Ingest(ctx, kiosk1, first, store.OutboxBacklog{Rows: 2, Bytes: 100, OldestMs: 30}, 1000)
	if err != nil || mark != first[1].Seq {
		t.Fatalf("ingest: %d %v", mark, err)
	}
	// the same batch again (the kiosk did not hear the commit): nothing more
	if mark2, err := pg.Ingest(ctx, kiosk1, first, store.OutboxBacklog{Rows: 2}, 1001); err != nil || mark2 != mark {
		t.Fatalf("ingest again: %d %v", mark2, err)
	}
	if n := count(`SELECT count(*) FROM messages WHERE session_id = 'a' AND appliance = 'kiosk-1'`); n != 4 {
		t.Fatalf("session a's messages after the batch shipped twice: %d, want 4", n)
	}
	var gotHeard, state string
	must(pg.Pool().QueryRow(ctx, `SELECT m.heard->>'transcript', s.state FROM messages m JOIN sessions s ON s.id = m.session_id WHERE m.session_id = 'a' AND m.role = 'visitor' AND m.turn = 2`).Scan(&gotHeard, &state))
	if gotHeard != "hello" || state != `{"turn":2}` {
		t.Errorf("heard %q, state %q", gotHeard, state)
	}
	// an erase on the kiosk of a shipped session (a) and of an unshipped one (b)
	must(kiosk.EraseSession(ctx, "a", store.AuditEntry{AtMs: 40, Actor: "k", Action: "session.erase", Target: "a"}))
	must(kiosk.EraseSession(ctx, "b", store.AuditEntry{AtMs: 41, Actor: "k", Action: "session.erase", Target: "b"}))
	save("c", 1, 50)
	rest, err := kiosk.OutboxPeek(ctx, 100)
	must(err)
	// overlapping: the first batch's rows again, then the rest
	if mark, err = pg.Ingest(ctx, kiosk1, append(append([]store.OutboxRow{}, first...), rest...), store.OutboxBacklog{}, 2000); err != nil || mark != rest[len(rest)-1].Seq {
		t.Fatalf("ingest the rest: %d %v", mark, err)
	}
	must(kiosk.OutboxDone(ctx, mark))
	if n := count(`SELECT count(*) FROM sessions WHERE id IN ('a', 'b')`); n != 0 {
		t.Errorf("erased sessions on the fleet database: %d", n)
	}
	if n := count(`SELECT count(*) FROM messages WHERE session_id IN ('a', 'b')`); n != 0 {
		t.Errorf("erased sessions' messages on the fleet database: %d", n)
	}
	if n := count(`SELECT count(*) FROM messages WHERE session_id = 'c' AND appliance = 'kiosk-1'`); n != 2 {
		t.Errorf("session c: %d messages", n)
	}
	if n := count(`SELECT count(*) FROM audit WHERE appliance = 'kiosk-1'`); n != 3 {
		t.Errorf("audit entries from the kiosk: %d, want 3 (key.create, two erases)", n)
	}
	// a purge on the kiosk deletes its sessions only
	must(pg.SaveTurn(ctx, store.SessionRow{ID: "other", State: []byte(`{}`), Turns: 1, CreatedMs: 1, UpdatedMs: 1}, &store.TurnRow{Visitor: "x", Text: "y", AtMs: 1}))
	if _, err := kiosk.PurgeSessions(ctx, 1000, func(n int64) store.AuditEntry { return store.AuditEntry{Actor: "system", Action: "session.purge"} }); err != nil {
		t.Fatal(err)
	}
	rest, err = kiosk.OutboxPeek(ctx, 100)
	must(err)
	if _, err = pg.Ingest(ctx, kiosk1, rest, store.OutboxBacklog{}, 3000); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM sessions WHERE id = 'c'`); n != 0 {
		t.Errorf("the purged session c is still on the fleet database")
	}
	if n := count(`SELECT count(*) FROM sessions WHERE id = 'other'`); n != 1 {
		t.Errorf("another appliance's session went with the kiosk's purge")
	}
	// a heartbeat records the contact; the list shows the kiosk
	if _, err := pg.Ingest(ctx, kiosk1, nil, store.OutboxBacklog{Rows: 7, Bytes: 700, OldestMs: 3500}, 4000); err != nil {
		t.Fatal(err)
	}
	list, err := pg.FleetAppliances(ctx)
	must(err)
	if len(list) != 1 || list[0].Appliance != "kiosk-1" || list[0].LastContactMs != 4000 || list[0].LastShipMs != 3000 || list[0].BacklogRows != 7 ||
		list[0].FirstContactMs != 1000 || list[0].ShippedSeq != rest[len(rest)-1].Seq {
		t.Errorf("fleet appliances: %+v", list)
	}
	if apps, err := pg.Appliances(ctx); err != nil || len(apps) != 1 || apps[0].Name != "kiosk-1" || apps[0].Version != "v9" || apps[0].StartedMs != 500 || apps[0].LastSeenMs == 0 {
		t.Errorf("the fleet's appliances list: %+v %v", apps, err)
	}
	if seq, err := pg.ShippedSeq(ctx, "kiosk-1", kiosk.Identity()); err != nil || seq != list[0].ShippedSeq {
		t.Errorf("ShippedSeq %d %v", seq, err)
	}
}

// TestIngestTwoStoresOneName: kiosks cloned from one image share a host name, the default
// appliance name. The second store shipping under the name the first ships under is refused
// (ErrOtherStore, by the batch and by ShippedSeq), with nothing written and the first one's
// sessions untouched by its purge; its outbox keeps its rows.
func TestIngestTwoStoresOneName(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, pgtest.Start(t).NewDatabase(t), "fleet-node")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	open := func(key byte) *store.DB {
		db, err := store.OpenWith(ctx, filepath.Join(t.TempDir(), "k.db"), bytes.Repeat([]byte{key}, 32), store.Options{Outbox: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(1), open(2)
	for _, k := range []*store.DB{a, b} {
		if err := k.SaveTurn(ctx, store.SessionRow{ID: "s-" + k.Identity()[:6], State: []byte(`{}`), Turns: 1, CreatedMs: 1, UpdatedMs: 1},
			&store.TurnRow{Visitor: "q", Text: "a", AtMs: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.PurgeSessions(ctx, 1000, func(int64) store.AuditEntry { return store.AuditEntry{Actor: "system", Action: "session.purge"} }); err != nil {
		t.Fatal(err)
	}
	rowsA, _ := a.OutboxPeek(ctx, 100)
	rowsB, _ := b.OutboxPeek(ctx, 100)
	if _, err := pg.Ingest(ctx, store.OutboxSource{Appliance: "voicebot", StoreID: a.Identity()}, rowsA, store.OutboxBacklog{}, 10); err != nil {
		t.Fatal(err)
	}
	_, err = pg.Ingest(ctx, store.OutboxSource{Appliance: "voicebot", StoreID: b.Identity()}, rowsB, store.OutboxBacklog{}, 20)
	if !errors.Is(err, postgres.ErrOtherStore) || !strings.Contains(err.Error(), "appliance:") {
		t.Fatalf("the second store under the same name: %v", err)
	}
	if _, err := pg.ShippedSeq(ctx, "voicebot", b.Identity()); !errors.Is(err, postgres.ErrOtherStore) {
		t.Fatalf("ShippedSeq for the second store: %v", err)
	}
	var n int
	if err := pg.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = $1`, "s-"+a.Identity()[:6]).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the first store's session after the second's refused purge: %d %v", n, err)
	}
	if err := pg.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = $1`, "s-"+b.Identity()[:6]).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the second store's session was written: %d %v", n, err)
	}
}

// TestIngestAfterRestore: a kiosk's store restored from a backup, which wrote new turns before
// its shipper connected, holds rows at or below the database's mark that were never shipped.
// OutboxAlign renumbers every waiting row above the mark instead of deleting, in one
// transaction; the backup's turns the database has already are not written twice, nor rows
// shipped again as after a crash.
func TestIngestAfterRestore(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, pgtest.Start(t).NewDatabase(t), "fleet-node")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	dir := t.TempDir()
	key := bytes.Repeat([]byte{9}, 32)
	kiosk, err := store.OpenWith(ctx, filepath.Join(dir, "k.db"), key, store.Options{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	src := store.OutboxSource{Appliance: "kiosk-r", StoreID: kiosk.Identity()}
	turn := func(db *store.DB, id string, n int) {
		t.Helper()
		if err := db.SaveTurn(ctx, store.SessionRow{ID: id, State: []byte(`{}`), Turns: n, CreatedMs: 1, UpdatedMs: int64(n)},
			&store.TurnRow{Visitor: id + " question", Text: "answer", AtMs: int64(n)}); err != nil {
			t.Fatal(err)
		}
	}
	turn(kiosk, "old", 1) // in the backup, and shipped after it was taken
	if err := kiosk.Backup(ctx, filepath.Join(dir, "backup.db")); err != nil {
		t.Fatal(err)
	}
	turn(kiosk, "old", 2)
	turn(kiosk, "old", 3)
	rows, _ := kiosk.OutboxPeek(ctx, 100)
	mark, err := pg.Ingest(ctx, src, rows, store.OutboxBacklog{}, 10)
	if err != nil || mark != 3 {
		t.Fatalf("ship before the restore: %d %v", mark, err)
	}
	kiosk.Close()

	restored, err := store.OpenWith(ctx, filepath.Join(dir, "backup.db"), key, store.Options{Outbox: true})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	turn(restored, "new", 1) // written after the restore: seq 2 here, at or below the mark
	turn(restored, "new", 2)
	moved, err := restored.OutboxAlign(ctx, mark)
	if err != nil || moved != 3 {
		t.Fatalf("align after the restore: %d rows renumbered, %v (want the backup's 1 and the 2 new)", moved, err)
	}
	rows, _ = restored.OutboxPeek(ctx, 100)
	if len(rows) != 3 || rows[0].Seq <= mark {
		t.Fatalf("after the align: %+v", rows)
	}
	if _, err := pg.Ingest(ctx, src, rows, store.OutboxBacklog{}, 20); err != nil {
		t.Fatal(err)
	}
	count := func(id string) (n int) {
		pg.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE session_id = $1`, id).Scan(&n)
		return n
	}
	if count("old") != 6 || count("new") != 4 {
		t.Fatalf("messages: old %d (want 6: three turns, none twice), new %d (want 4)", count("old"), count("new"))
	}
	// shipped again as after a crash between the commit and the delete: still one of each
	moved, err = restored.OutboxAlign(ctx, rows[len(rows)-1].Seq)
	if err != nil || moved != 3 {
		t.Fatalf("align with shipped rows left: %d %v", moved, err)
	}
	rows, _ = restored.OutboxPeek(ctx, 100)
	if _, err := pg.Ingest(ctx, src, rows, store.OutboxBacklog{}, 30); err != nil {
		t.Fatal(err)
	}
	if count("old") != 6 || count("new") != 4 {
		t.Fatalf("messages after shipping again: old %d, new %d", count("old"), count("new"))
	}
}
