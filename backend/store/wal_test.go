package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWALStaysBoundedUnderLoad: sixteen writers and four readers that never all pause at once (the
// load under which PASSIVE checkpoints alone let the WAL grow without end) commit twelve times the
// WAL's bound; the WAL file never passes the bound, nothing written is lost, and once the load
// stops the idle store truncates its WAL to nothing.
func TestWALStaysBoundedUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("sustained load; not in -short")
	}
	const limit = 2 << 20 // small, so that the test commits many times the bound in seconds
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(7))
	if err := db.SetWALLimit(limit); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var maxWAL atomic.Int64
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() { // the WAL file's size, sampled often
		defer watch.Done()
		for {
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > maxWAL.Load() {
				maxWAL.Store(fi.Size())
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var readers sync.WaitGroup
	var reads atomic.Int64
	for i := 0; i < 4; i++ {
		readers.Add(1)
		go func(i int) {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n, sum int64
				q := `SELECT count(*), coalesce(sum(length(detail)),0) FROM audit WHERE id > (SELECT coalesce(max(id),0) - 20 FROM audit)`
				if i == 0 { // one reader reads the latest 500 rows, as a dashboard page would
					q = `SELECT count(*), coalesce(sum(length(detail)),0) FROM audit WHERE id > (SELECT coalesce(max(id),0) - 500 FROM audit)`
				}
				if err := db.Read().QueryRowContext(ctx, q).Scan(&n, &sum); err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				time.Sleep(time.Duration(i+1) * 100 * time.Microsecond) // staggered, so that some reader is mostly in a transaction
			}
		}(i)
	}

	detail := make([]byte, 2048)
	rand.Read(detail)
	row := hex.EncodeToString(detail) // 4 KB a row, incompressible
	const writers, rowsEach = 16, 400 // 26 MB of rows: twelve times the bound
	var written atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rowsEach; i++ {
				err := db.Write(ctx, func(tx *Tx) error {
					_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (?, 'test', 'load', ?)`, i, row)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	watch.Wait()

	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows written, %d reads; WAL at most %.1f MB (bound %.1f MB); %d passive checkpoints, %d restarts, %d truncates, %d busy retries",
		written.Load(), reads.Load(), float64(maxWAL.Load())/1e6, float64(limit)/1e6, st.Checkpoints, st.Restarts, st.Truncates, st.BusyRetries)
	if maxWAL.Load() > limit {
		t.Errorf("the WAL reached %d bytes, over its bound of %d", maxWAL.Load(), limit)
	}
	if st.Restarts == 0 {
		t.Errorf("no checkpoint restarted the WAL under load: %+v", st)
	}
	var n int64
	if err := db.Read().QueryRow(`SELECT count(*) FROM audit WHERE action = 'load'`).Scan(&n); err != nil || n != writers*rowsEach {
		t.Fatalf("%d rows stored of %d written (%v)", n, writers*rowsEach, err)
	}

	// Idle: the checkpointer truncates the WAL (within two of its rounds; 5 s is the promise).
	deadline := time.Now().Add(5 * time.Second)
	for db.walFileSize() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := db.walFileSize(); n > 0 {
		t.Errorf("5 s after the load stopped the WAL still holds %d bytes", n)
	}
}

// TestStatsReportsSizes: the sizes the dashboard and /metrics show come from the files.
func TestStatsReportsSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(8))
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'test', 'size', ?)`, string(make([]byte, 4000)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if st.DBBytes != fi.Size() || st.WALLimit != WALLimit {
		t.Errorf("stats %+v, database file %d bytes", st, fi.Size())
	}
	if st.WALBytes <= 0 {
		t.Errorf("20 commits and no WAL: %+v", st)
	}
	if st.VolumeFree <= 0 || st.VolumeSize < st.VolumeFree {
		t.Errorf("volume free %d of %d", st.VolumeFree, st.VolumeSize)
	}
}
