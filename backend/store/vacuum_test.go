package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDeletedRowsGiveSpaceBack: 8 MB of rows written then deleted (as a retention purge or an
// erase does) are handed back to the filesystem: the database file shrinks once the free pages
// are reclaimed and the WAL checkpointed.
func TestDeletedRowsGiveSpaceBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(9))
	ctx := context.Background()
	row := strings.Repeat("visitor question ", 240) // ~4 KB
	for b := 0; b < 20; b++ {
		if err := db.Write(ctx, func(tx *Tx) error {
			for i := 0; i < 100; i++ {
				if _, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'test', 'purge-me', ?)`, row); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	full := waitFileSettles(t, db, path)
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM audit WHERE action = 'purge-me'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st, _ := db.Stats(ctx)
	if st.FreeBytes < 7<<20 {
		t.Fatalf("after deleting 8 MB of rows, %d bytes free inside the file", st.FreeBytes)
	}
	var got int64
	for {
		n, err := db.Reclaim(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		got += n
	}
	shrunk := waitFileSettles(t, db, path)
	t.Logf("database file %d bytes full, %d after the delete and reclaim (%d bytes reclaimed)", full, shrunk, got)
	if got < 7<<20 || shrunk > full-7<<20 {
		t.Errorf("reclaimed %d bytes; the file went from %d to %d bytes", got, full, shrunk)
	}
	if st, _ := db.Stats(ctx); st.FreeBytes != 0 {
		t.Errorf("free pages left after reclaiming: %d bytes", st.FreeBytes)
	}
}

// waitFileSettles waits for the idle checkpointer to copy the WAL back (the database file takes
// its new size then) and returns the file's size.
func waitFileSettles(t *testing.T, db *DB, path string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.walFileSize() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if db.walFileSize() > 0 {
		t.Fatal("the idle store did not truncate its WAL within 10 s")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestOlderStoreConvertsToIncrementalVacuum: a store made without auto_vacuum (every store before
// this change) is converted once when opened, its data kept.
func TestOlderStoreConvertsToIncrementalVacuum(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(10))
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'test', 'kept', 'a row from before')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec("PRAGMA auto_vacuum=NONE"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec("VACUUM"); err != nil {
		t.Fatal(err)
	}
	var mode int
	db.w.QueryRow("PRAGMA auto_vacuum").Scan(&mode)
	if mode != 0 {
		t.Fatalf("could not make an older store: auto_vacuum %d", mode)
	}
	db.Close()
	db2 := openTest(t, path, testKey(10))
	var n int
	if err := db2.Read().QueryRow("SELECT auto_vacuum, (SELECT count(*) FROM audit WHERE action = 'kept') FROM pragma_auto_vacuum()").Scan(&mode, &n); err != nil {
		t.Fatal(err)
	}
	if mode != 2 || n != 1 {
		t.Errorf("after reopening: auto_vacuum %d (want 2, incremental), %d rows kept", mode, n)
	}
}
