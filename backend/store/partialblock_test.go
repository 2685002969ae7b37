package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestPartialBlockAtEnd: a store whose WAL (or database file) ends in a partial 4 KiB block
// opens, with every committed row, and takes writes again. The encryption writes whole blocks, so
// a partial one at the end is left only by a write cut short: by a disk that filled up in the
// middle of it (on a filesystem of blocks smaller than 4 KiB), or by a power cut that tore the
// write extending the file. SQLite read the partial block as part of the file and the store failed
// to open with "disk I/O error" (found by TestPowerCutAtEverySyncPoint's torn writes).
func TestPartialBlockAtEnd(t *testing.T) {
	p := UseFaultVFS(t, 1)
	key := testKey(23)
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"), key)
	write := func(db *DB, d string) error {
		return db.Write(context.Background(), func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'cli', 'partial', ?)`, d)
			return err
		})
	}
	for i := 0; i < 5; i++ {
		if err := write(db, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	synced := p.Snapshot()
	if err := write(db, "unsynced"); err != nil { // the next commit's blocks: their start is what a cut write leaves
		t.Fatal(err)
	}
	later := p.Snapshot()
	RestoreVFS()
	wal := synced["v.db-wal"]
	if len(later["v.db-wal"]) < len(wal)+4096 || len(wal)%4096 != 0 {
		t.Fatalf("WAL %d -> %d bytes: want whole blocks, and a block more", len(wal), len(later["v.db-wal"]))
	}
	for _, c := range []struct {
		file  string
		extra int
	}{{"v.db-wal", 512}, {"v.db-wal", 1024}, {"v.db-wal", 2048}, {"v.db-wal", 3584}, {"v.db", 1536}} {
		disk := map[string][]byte{"v.db": synced["v.db"], "v.db-wal": wal}
		if c.file == "v.db-wal" {
			disk["v.db-wal"] = later["v.db-wal"][:len(wal)+c.extra]
		} else {
			disk["v.db"] = append(bytes.Clone(synced["v.db"]), bytes.Repeat([]byte{0xa5}, c.extra)...)
		}
		db2, err := OpenAfterCut(t, t.TempDir(), disk, key)
		if err != nil {
			t.Errorf("%s ending in a partial block of %d bytes: %v", c.file, c.extra, err)
			continue
		}
		var n int
		if err := db2.Read().QueryRow(`SELECT count(*) FROM audit WHERE action = 'partial'`).Scan(&n); err != nil || n != 5 {
			t.Errorf("%s +%d: %d rows (%v), want the 5 committed", c.file, c.extra, n, err)
		}
		if err := write(db2, "after"); err != nil {
			t.Errorf("%s +%d: a write after opening: %v", c.file, c.extra, err)
		} else if err := IntegrityCheck(db2); err != nil {
			t.Errorf("%s +%d: after a write: %v", c.file, c.extra, err)
		}
		db2.Close()
	}
}
