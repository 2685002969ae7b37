package fleet

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"voicebot/backend/internal/pgtest"
	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
)

// kiosk is a SQLite store with the outbox on and n turns in it.
func kiosk(tb testing.TB, n int) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.OpenWith(ctx, filepath.Join(tb.TempDir(), "k.db"), bytes.Repeat([]byte{5}, 32), store.Options{Outbox: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	for i := range n {
		id := fmt.Sprintf("s%d", i/5)
		err := db.SaveTurn(ctx, store.SessionRow{ID: id, Lang: "en", KeyID: "k", State: bytes.Repeat([]byte("x"), 300), Turns: i%5 + 1, CreatedMs: 1, UpdatedMs: int64(i + 1)},
			&store.TurnRow{Visitor: fmt.Sprintf("what are the opening hours t%d", i), Text: "We open at ten, every day but Monday, and close at six.", Lang: "en", Kind: "intent", Intent: "opening_hours", Confidence: 0.9, Sources: "[]", LatencyUS: 900, KeyID: "k", AtMs: int64(i + 1)})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

func opener(dsn string) func(ctx context.Context) (Remote, error) {
	return func(ctx context.Context) (Remote, error) {
		db, err := postgres.Open(ctx, dsn, "test")
		if err != nil {
			return nil, err
		}
		return db, nil
	}
}

// TestShipperStartsWithTheDatabaseAway: a kiosk whose fleet database is down when it starts
// (the shipper's first connection fails) ships its whole outbox once the database comes up,
// reports the failures and then the contact, and the database holds each turn once.
func TestShipperStartsWithTheDatabaseAway(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	if err := srv.Halt(); err != nil {
		t.Fatal(err)
	}
	local := kiosk(t, 1200)
	s := New(local, Config{Appliance: "kiosk-a", Batch: 500, Interval: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Open: opener(dsn)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	time.Sleep(500 * time.Millisecond)
	if st := s.Status(); st.Errors == 0 || st.Reachable || !st.LastContact.IsZero() || st.Backlog.Rows != 1200 {
		t.Errorf("with the database down: %+v", st)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st := s.Status(); st.Shipped == 1200 && st.Backlog.Rows == 0 && st.Reachable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not shipped: %+v", s.Status())
		}
	}
	pg, err := postgres.Open(context.Background(), dsn, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var n, distinct int
	if err := pg.Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT text) FROM messages WHERE role = 'visitor' AND appliance = 'kiosk-a'`).Scan(&n, &distinct); err != nil || n != 1200 || distinct != 1200 {
		t.Errorf("the fleet database holds %d visitor messages (%d distinct), want 1200: %v", n, distinct, err)
	}
	if b, _ := local.OutboxStats(context.Background()); b.Rows != 0 {
		t.Errorf("the local outbox after shipping: %+v", b)
	}
}

// BenchmarkShip is the catch-up rate: a kiosk's outbox of 5,000 turns (a backlog) shipped to a
// PostgreSQL server on loopback in batches of 500, deleted locally as it goes.
func BenchmarkShip(b *testing.B) {
	srv := pgtest.Start(b)
	const turns = 5000
	for b.Loop() {
		b.StopTimer()
		local := kiosk(b, turns)
		s := New(local, Config{Appliance: "bench", Batch: 500, Interval: time.Hour, Open: opener(srv.NewDatabase(b))})
		b.StartTimer()
		for {
			more, err := s.attempt(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if !more {
				break
			}
		}
		b.StopTimer()
		if st := s.Status(); st.Shipped != turns {
			b.Fatalf("shipped %d", st.Shipped)
		}
		s.remote.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(turns*b.N)/b.Elapsed().Seconds(), "rows/s")
}
