package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
	"github.com/ncruces/go-sqlite3/vfs/adiantum"
)

// powerCutVFS wraps the operating system's VFS and models a power cut: a file's contents
// survive only as they were at its last Sync. At every Sync it copies the file as it is on disk
// into a shadow; Snapshot returns the shadows, which are what a machine that lost power at that
// moment would find on its disk when no write that was not synced reached the platter (a
// behaviour SQLite must be, and is, robust to). The shared-memory index (-shm) is never kept:
// SQLite rebuilds it from the WAL after a crash.
type powerCutVFS struct {
	vfs.VFS
	mu     sync.Mutex
	shadow map[string][]byte // path -> contents at the last Sync
	syncs  map[string]int    // path -> Sync calls
}

func (p *powerCutVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	f, flags, err := vfsutil.WrapOpenFilename(p.VFS, name, flags)
	if err != nil || name == nil {
		return f, flags, err
	}
	return &powerCutFile{File: f, vfs: p, path: name.String()}, flags, nil
}

func (p *powerCutVFS) Delete(name string, syncDir bool) error {
	p.mu.Lock()
	delete(p.shadow, name)
	p.mu.Unlock()
	return p.VFS.Delete(name, syncDir)
}

// Snapshot is the disk after a power cut now: file name (base) -> contents.
func (p *powerCutVFS) Snapshot() map[string][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]byte{}
	for path, b := range p.shadow {
		out[filepath.Base(path)] = append([]byte(nil), b...)
	}
	return out
}

func (p *powerCutVFS) Syncs(suffix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for path, c := range p.syncs {
		if strings.HasSuffix(path, suffix) {
			n += c
		}
	}
	return n
}

type powerCutFile struct {
	vfs.File
	vfs  *powerCutVFS
	path string
}

func (f *powerCutFile) Sync(flags vfs.SyncFlag) error {
	if err := f.File.Sync(flags); err != nil {
		return err
	}
	if strings.HasSuffix(f.path, "-shm") {
		return nil
	}
	f.vfs.mu.Lock()
	defer f.vfs.mu.Unlock()
	b, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	f.vfs.shadow[f.path] = b
	f.vfs.syncs[f.path]++
	return nil
}

// The optional methods, passed through (the encrypting VFS above needs SharedMemory for WAL).

func (f *powerCutFile) Unwrap() vfs.File                   { return f.File }
func (f *powerCutFile) SharedMemory() vfs.SharedMemory     { return vfsutil.WrapSharedMemory(f.File) }
func (f *powerCutFile) LockState() vfs.LockLevel           { return vfsutil.WrapLockState(f.File) }
func (f *powerCutFile) PersistWAL() bool                   { return vfsutil.WrapPersistWAL(f.File) }
func (f *powerCutFile) SetPersistWAL(keep bool)            { vfsutil.WrapSetPersistWAL(f.File, keep) }
func (f *powerCutFile) HasMoved() (bool, error)            { return vfsutil.WrapHasMoved(f.File) }
func (f *powerCutFile) ChunkSize(size int)                 { vfsutil.WrapChunkSize(f.File, size) }
func (f *powerCutFile) SizeHint(size int64) error          { return vfsutil.WrapSizeHint(f.File, size) }
func (f *powerCutFile) CheckpointStart()                   { vfsutil.WrapCheckpointStart(f.File) }
func (f *powerCutFile) CheckpointDone()                    { vfsutil.WrapCheckpointDone(f.File) }
func (f *powerCutFile) BusyHandler(handler func() bool)    { vfsutil.WrapBusyHandler(f.File, handler) }
func (f *powerCutFile) Pragma(n, v string) (string, error) { return vfsutil.WrapPragma(f.File, n, v) }

// withPowerCutVFS puts the power-cut model under the store's encryption for the rest of the
// test. Open names vfs=adiantum in its DSN, and SQLite looks a VFS up by name at every open, so
// the test registers an encrypting VFS over powerCutVFS under that name and puts the real one
// back when it ends (the store's tests do not run in parallel).
func withPowerCutVFS(t *testing.T) *powerCutVFS {
	t.Helper()
	real := vfs.Find("adiantum")
	if real == nil {
		t.Fatal("the adiantum VFS is not registered")
	}
	p := &powerCutVFS{VFS: vfs.Find(""), shadow: map[string][]byte{}, syncs: map[string]int{}}
	vfs.Register("adiantum", adiantum.Wrap(p, nil))
	t.Cleanup(func() { vfs.Register("adiantum", real) })
	return p
}

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
	p := withPowerCutVFS(t)
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
func TestWriterConnectionsSyncFull(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"), testKey(22))
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
