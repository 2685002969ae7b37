package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// afterPowerCut writes a snapshot to a fresh folder, opens the store there with key (SQLite
// recovers the WAL) and returns the audit details of the given action.
func afterPowerCut(t *testing.T, snap map[string][]byte, key []byte, action string) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	for name, b := range snap {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "v.db")
	db, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatalf("open after the power cut: %v", err)
	}
	defer db.Close()
	rows, err := db.Read().Query(`SELECT detail FROM audit WHERE action = ?`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		got[d] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestAcknowledgedWritesSurvivePowerCut: every write the store acknowledged is on disk as synced
// at the moment Write returns, so a power cut right after loses none of them: the store opened
// from the synced contents alone holds it. Writes one at a time, and from concurrent writers
// whose writes share group commits. Fails with synchronous=OFF (nothing is synced) and
// synchronous=NORMAL (the WAL is synced only at checkpoints), unlike a kill -9 test, after which
// the page cache still holds every write.
func TestAcknowledgedWritesSurvivePowerCut(t *testing.T) {
	p := UseFaultVFS(t, 21)
	key := testKey(21)
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"), key)
	ctx := context.Background()
	write := func(detail string) {
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'cli', 'powercut', ?)`, detail)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	type cut struct {
		acked []string
		snap  map[string][]byte
	}
	var cuts []cut
	var acked []string
	walSyncs := p.Syncs("-wal")
	for i := 0; i < 12; i++ {
		d := fmt.Sprintf("seq-%d", i)
		write(d)
		acked = append(acked, d)
		cuts = append(cuts, cut{append([]string(nil), acked...), p.Snapshot()})
	}
	if n := p.Syncs("-wal") - walSyncs; n < 12 {
		t.Errorf("%d syncs of the WAL for 12 acknowledged writes, want one per commit at least", n)
	}

	// Concurrent writers: each takes a snapshot as soon as its write is acknowledged.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				d := fmt.Sprintf("conc-%d-%d", w, i)
				if err := db.Write(ctx, func(tx *Tx) error {
					_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'cli', 'powercut', ?)`, d)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				snap := p.Snapshot()
				mu.Lock()
				cuts = append(cuts, cut{[]string{d}, snap})
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()

	lost := 0
	for i, c := range cuts {
		got := afterPowerCut(t, c.snap, key, "powercut")
		for _, d := range c.acked {
			if !got[d] {
				lost++
				if lost <= 5 {
					t.Errorf("power cut %d: acknowledged write %q is lost (%d of the action's rows survived)", i, d, len(got))
				}
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost in %d power cuts", lost, len(cuts))
	}
}

// TestWriterConnectionsSyncFull: the connections that write (the writer, which commits, and the
// checkpointer, which copies the WAL into the database file) run with synchronous=FULL (2), the
// setting under which a commit syncs the WAL before it returns.
//
// The checkpointer holds the checkpoint pool's one connection for as long as it runs, so the
// test stops it first (as Close does) and then asks that connection; it asked while the
// checkpointer ran, and hung whenever the checkpointer had taken the connection first.
func TestWriterConnectionsSyncFull(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"), testKey(22))
	close(db.done) // Close's first steps: the writer and the checkpointer stop
	<-db.closed
	<-db.ckDone
	defer func() { db.r.Close(); db.ck.Close(); db.w.Close() }()
	for _, c := range []struct {
		name string
		q    func() (int, error)
	}{
		{"writer", func() (n int, err error) { err = db.w.QueryRow("PRAGMA synchronous").Scan(&n); return }},
		{"checkpointer", func() (n int, err error) { err = db.ck.QueryRow("PRAGMA synchronous").Scan(&n); return }},
	} {
		n, err := c.q()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n != 2 {
			t.Errorf("%s connection: PRAGMA synchronous = %d, want 2 (FULL)", c.name, n)
		}
	}
	var mode string
	if err := db.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v, want wal", mode, err)
	}
}
