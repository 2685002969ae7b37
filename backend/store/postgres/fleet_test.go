package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"voicebot/backend/internal/pgtest"
	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
)

// fleetOf opens n stores on one fresh database, as n appliances named a0, a1, ... would.
func fleetOf(t *testing.T, n int) []*postgres.DB {
	t.Helper()
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	var out []*postgres.DB
	for i := range n {
		db, err := postgres.Open(context.Background(), dsn, fmt.Sprintf("a%d", i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out = append(out, db)
	}
	return out
}

// TestFleetRowsByAppliance: the rows each appliance writes carry its name, and the session list
// and the audit log filter by it; the heartbeats list the fleet; the per-minute samples of two
// appliances add up instead of overwriting each other.
func TestFleetRowsByAppliance(t *testing.T) {
	ctx := context.Background()
	f := fleetOf(t, 2)
	a, b := f[0], f[1]
	turn := func(db *postgres.DB, id string, n int) {
		t.Helper()
		now := store.Now()
		err := db.SaveTurn(ctx, store.SessionRow{ID: id, Lang: "en", State: []byte(`{}`), Turns: n, CreatedMs: now, UpdatedMs: now},
			&store.TurnRow{Visitor: "hello " + id, Text: "hi", Lang: "en", Kind: "intent", Intent: "greeting", Confidence: 0.9, AtMs: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	turn(a, "s1", 1) // s1 starts on a and continues on b
	turn(b, "s1", 2)
	turn(b, "s2", 1)
	if err := a.Audit(ctx, store.AuditEntry{Actor: "cli", Action: "key.created", Target: "k1"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Audit(ctx, store.AuditEntry{Actor: "cli", Action: "key.revoked", Target: "k1"}); err != nil {
		t.Fatal(err)
	}

	ids := func(q store.SessionQuery) string {
		rows, err := a.ListSessions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var s string
		for _, r := range rows {
			s += r.ID + "@" + r.Appliance + " "
		}
		return s
	}
	if got := ids(store.SessionQuery{}); got != "s2@a1 s1@a0 " {
		t.Errorf("all sessions: %q", got)
	}
	if got := ids(store.SessionQuery{Appliance: "a0"}); got != "s1@a0 " {
		t.Errorf("sessions a0 answered: %q", got)
	}
	if got := ids(store.SessionQuery{Appliance: "a1"}); got != "s2@a1 s1@a0 " {
		t.Errorf("sessions a1 answered: %q", got)
	}
	if got := ids(store.SessionQuery{Appliance: "nope"}); got != "" {
		t.Errorf("sessions of no appliance: %q", got)
	}
	msgs, err := b.SessionMessages(ctx, "s1")
	if err != nil || len(msgs) != 4 || msgs[0].Appliance != "a0" || msgs[3].Appliance != "a1" {
		t.Fatalf("s1's messages: %+v %v", msgs, err)
	}
	au, err := a.AuditSearch(ctx, store.AuditFilter{Appliance: "a1"})
	if err != nil || len(au) != 1 || au[0].Action != "key.revoked" || au[0].Appliance != "a1" {
		t.Fatalf("a1's audit: %+v %v", au, err)
	}
	if au, _ := a.AuditSearch(ctx, store.AuditFilter{}); len(au) != 2 {
		t.Fatalf("the whole audit: %+v", au)
	}

	for i, db := range f {
		if err := db.Heartbeat(ctx, "v1", int64(1000+i)); err != nil {
			t.Fatal(err)
		}
	}
	fleet, err := b.Appliances(ctx)
	if err != nil || len(fleet) != 2 || fleet[0].LastSeenMs < store.Now()-60_000 || fleet[1].Version != "v1" {
		t.Fatalf("appliances: %+v %v", fleet, err)
	}

	for i, db := range f {
		err := db.PutSamples(ctx, []store.SampleRow{{AtMs: 60_000, Name: "cache_hits", Value: float64(10 * (i + 1))},
			{AtMs: 60_000, Name: "store_used_bytes", Value: 5000}}, 0)
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, err := a.Samples(ctx, 0)
	if err != nil || len(rows) != 2 || rows[0] != (store.SampleRow{AtMs: 60_000, Name: "cache_hits", Value: 30}) ||
		rows[1] != (store.SampleRow{AtMs: 60_000, Name: "store_used_bytes", Value: 5000}) {
		t.Fatalf("the fleet's samples (10 + 20 cache hits; one store of 5000 bytes): %+v %v", rows, err)
	}
	if first, ok, err := b.FirstSample(ctx, "cache_hits", 0); err != nil || !ok || first.Value != 30 {
		t.Fatalf("first sample: %+v %v %v", first, ok, err)
	}
}

// TestFleetRateLimit: one key's bucket is one for the whole fleet. Three appliances spend from a
// bucket of 50 requests a minute (burst 50) at once, 40 requests each: exactly 50 go through,
// and the look (n = 0) tells what is left.
func TestFleetRateLimit(t *testing.T) {
	ctx := context.Background()
	f := fleetOf(t, 3)
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, db := range f {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range 10 {
					allowed, _, err := db.TakeRate(ctx, "k1\x00chat", 50.0/60, 50, 1)
					if err != nil {
						t.Error(err)
						return
					}
					if allowed {
						ok.Add(1)
					} else {
						refused.Add(1)
					}
				}
			}()
		}
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	// at 50/m, one more request refills every 1.2 s: the test's few hundred ms may add one
	extra := int64(time.Since(t0) / (1200 * time.Millisecond))
	if got := ok.Load(); got < 50 || got > 50+extra {
		t.Fatalf("%d of 120 requests went through a bucket of 50 (refill allows %d more), %d refused", got, extra, refused.Load())
	}
	if allowed, left, err := f[1].TakeRate(ctx, "k1\x00chat", 50.0/60, 50, 0); err != nil || allowed || left >= 1 {
		t.Fatalf("a look at the spent bucket: allowed %v, left %.2f, %v", allowed, left, err)
	}
	if allowed, left, err := f[2].TakeRate(ctx, "k2\x00chat", 50.0/60, 50, 0); err != nil || !allowed || left < 49.99 {
		t.Fatalf("a look at a new bucket: allowed %v, left %.2f, %v", allowed, left, err)
	}
	if allowed, left, err := f[2].TakeRate(ctx, "k2\x00chat", 50.0/60, 50, 1); err != nil || !allowed || left < 48.9 || left > 49.01 {
		t.Fatalf("the first request of a new bucket: allowed %v, left %.2f, %v", allowed, left, err)
	}
	if err := f[0].PruneRates(ctx); err != nil {
		t.Fatal(err)
	}
}
