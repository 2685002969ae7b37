package store

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// TestCommitsAreVisibleAtOnce: every committed write is readable from the read pool right
// after Write returns, for rows of every size (frames that straddle SQLite's sync point, runs
// longer than the coalescing buffer), while other writers run, and after reopening.
func TestCommitsAreVisibleAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(11))
	ctx := context.Background()
	sizes := []int{1, 100, 3000, 4096, 4097, 9000, 40000, 300000, 1 << 21}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				size := sizes[(i+w)%len(sizes)]
				want := bytes.Repeat([]byte{byte('a' + (i+w)%26)}, size)
				key := string(rune('A'+w)) + string(rune('0'+i%10)) + string(rune('a'+i/10))
				if err := db.Write(ctx, func(tx *Tx) error {
					_, err := tx.Exec(`INSERT OR REPLACE INTO cache_entries(key, value, expires_ms) VALUES (?, ?, 0)`, key, want)
					return err
				}); err != nil {
					t.Error(err)
					return
				}
				var got []byte
				if err := db.Read().QueryRow(`SELECT value FROM cache_entries WHERE key = ?`, key).Scan(&got); err != nil || !bytes.Equal(got, want) {
					t.Errorf("writer %d write %d (%d bytes): read back %d bytes, %v", w, i, size, len(got), err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	var n int
	db.Read().QueryRow(`SELECT count(*) FROM cache_entries`).Scan(&n)
	db.Close()
	db2 := openTest(t, path, testKey(11))
	var n2 int
	if err := db2.Read().QueryRow(`SELECT count(*) FROM cache_entries`).Scan(&n2); err != nil || n2 != n || n == 0 {
		t.Errorf("rows before close %d, after reopening %d (%v)", n, n2, err)
	}
}
