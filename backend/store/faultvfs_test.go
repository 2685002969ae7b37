package store

// A fault-injecting VFS for the store's tests: it sits below the encryption (what it sees is what
// the disk holds: 4 KiB encrypted blocks) and above the operating system's files, and models
//
//   - a power cut: a file's contents survive only as they were at its last Sync. Writes and
//     truncates since are kept as pending operations; at a cut, the disk is the synced contents
//     with none of them (CutDrop), with them in order up to one that is torn, only some of its
//     512-byte sectors written (CutTorn), or with any subset of them in any order and one torn
//     (CutReorder: the disk's cache wrote back what it liked). After the cut every operation fails
//     with EIO: the machine is off, nothing more can be acknowledged.
//   - an I/O error: the Nth read, write, sync or truncate fails with EIO or ENOSPC, once or (like a
//     full disk) until cleared.
//
// It is registered under the store's VFS name (with the encryption and the store's full-disk
// mapping over it) for the rest of a test. Since the model is the durability, Sync does not call
// the operating system's fsync.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
	"github.com/ncruces/go-sqlite3/vfs/adiantum"
)

// CutMode is what reaches the disk of the writes not yet synced when the power is cut.
type CutMode int

const (
	CutDrop    CutMode = iota // none of them
	CutTorn                   // those before a point, in order, and part of the one at it
	CutReorder                // any of them, one torn
	cutModes
)

func (m CutMode) String() string { return [...]string{"drop", "torn", "reorder"}[m] }

// Op is a kind of file operation the VFS can fail.
type Op int

const (
	OpRead Op = iota
	OpWrite
	OpSync
	OpTruncate
	opKinds
)

func (o Op) String() string { return [...]string{"read", "write", "sync", "truncate"}[o] }

// sector is the unit a torn write is cut at: the disk writes 512-byte sectors whole or not at all.
const sector = 512

type pendingOp struct {
	off   int64
	data  []byte // nil: a truncate to off
	trunc bool
}

type diskModel struct {
	synced  []byte
	pending []pendingOp
}

// FaultVFS is the fault-injecting VFS (see the top of the file).
type FaultVFS struct {
	vfs.VFS
	mu    sync.Mutex
	files map[string]*diskModel // path -> what the disk holds of it

	syncs      int            // syncs since the VFS was made
	syncsOf    map[string]int // by path
	cutAt      int            // cut the power at this sync (syncs counts it), 0: never
	cutMode    CutMode
	rng        *rand.Rand
	cut        bool
	snap       map[string][]byte // the disk at the cut, by file name
	cutOnPath  string            // the file whose sync the cut fell on
	cutPending int               // writes not yet synced at the cut

	failOp    Op
	failAt    int // fail the failAt-th operation of failOp counted from arming, 0: none
	failCount int
	failStick bool // keep failing from the failAt-th on until ClearFault
	failErr   syscall.Errno
	failed    int // operations failed since arming
}

// UseFaultVFS registers a new FaultVFS under the store's VFS name until the test ends (the store's
// tests do not run in parallel). seed drives the torn writes.
func UseFaultVFS(t testing.TB, seed uint64) *FaultVFS {
	t.Helper()
	f := newFaultVFS(seed)
	vfs.Register(vfsName, adiantum.Wrap(diskVFS{f}, nil))
	t.Cleanup(RestoreVFS)
	return f
}

func newFaultVFS(seed uint64) *FaultVFS {
	return &FaultVFS{VFS: vfs.Find(""), files: map[string]*diskModel{}, syncsOf: map[string]int{}, rng: rand.New(rand.NewPCG(seed, 17))}
}

// RestoreVFS puts the store's real VFS back (for reopening what a cut left, in the same test).
func RestoreVFS() { vfs.Register(vfsName, storeVFS) }

// CutPowerAt arms a power cut at the nth sync from the VFS's start.
func (f *FaultVFS) CutPowerAt(n int, mode CutMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutAt, f.cutMode = n, mode
}

// Cut reports whether the power was cut, and the disk then (file name -> contents).
func (f *FaultVFS) Cut() (bool, map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut, f.snap
}

// CutInfo says which file's sync the cut fell on and how many writes were pending then.
func (f *FaultVFS) CutInfo() (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return filepath.Base(f.cutOnPath), f.cutPending
}

// Syncs counts the syncs so far, of the files whose path ends with suffix ("" for all).
func (f *FaultVFS) Syncs(suffix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for p, c := range f.syncsOf {
		if strings.HasSuffix(p, suffix) {
			n += c
		}
	}
	return n
}

// Snapshot is the disk if the power were cut now with none of the writes not yet synced
// reaching it (file name -> contents).
func (f *FaultVFS) Snapshot() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for p, m := range f.files {
		out[filepath.Base(p)] = bytes.Clone(m.synced)
	}
	return out
}

// FailNth makes the nth operation of kind op from now fail with errno: only that one, or (stick)
// every one from it on until ClearFault.
func (f *FaultVFS) FailNth(op Op, n int, errno syscall.Errno, stick bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failOp, f.failAt, f.failCount, f.failErr, f.failStick, f.failed = op, n, 0, errno, stick, 0
}

// Fired is how many operations failed since FailNth.
func (f *FaultVFS) Fired() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// ClearFault disarms FailNth and returns how many operations failed.
func (f *FaultVFS) ClearFault() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.failed
	f.failAt, f.failed = 0, 0
	return n
}

// fault is the injected error of this operation, if any. Called with mu held.
func (f *FaultVFS) fault(op Op, path string) error {
	if f.cut {
		return &fs.PathError{Op: op.String(), Path: path, Err: syscall.EIO}
	}
	if f.failAt == 0 || op != f.failOp {
		return nil
	}
	f.failCount++
	if f.failCount == f.failAt || (f.failStick && f.failCount > f.failAt) {
		f.failed++
		return &fs.PathError{Op: op.String(), Path: path, Err: f.failErr}
	}
	return nil
}

func (f *FaultVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	file, flags, err := vfsutil.WrapOpenFilename(f.VFS, name, flags)
	if err != nil || name == nil {
		return file, flags, err
	}
	path := name.String()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut {
		file.Close()
		return nil, flags, &fs.PathError{Op: "open", Path: path, Err: syscall.EIO}
	}
	if _, ok := f.files[path]; !ok {
		b, err := os.ReadFile(path) // a file already there is on the disk as it is
		if err != nil {
			file.Close()
			return nil, flags, err
		}
		f.files[path] = &diskModel{synced: b}
	}
	return &faultFile{PassFile: PassFile{file}, vfs: f, path: path}, flags, nil
}

func (f *FaultVFS) Delete(name string, syncDir bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut {
		return &fs.PathError{Op: "delete", Path: name, Err: syscall.EIO}
	}
	delete(f.files, name)
	return f.VFS.Delete(name, syncDir)
}

type faultFile struct {
	PassFile
	vfs  *FaultVFS
	path string
}

func (ff *faultFile) ReadAt(p []byte, off int64) (int, error) {
	f := ff.vfs
	f.mu.Lock()
	err := f.fault(OpRead, ff.path)
	f.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return ff.File.ReadAt(p, off)
}

func (ff *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f := ff.vfs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpWrite, ff.path); err != nil {
		return 0, err
	}
	n, err := ff.File.WriteAt(p, off)
	if m := f.files[ff.path]; m != nil && n > 0 {
		m.pending = append(m.pending, pendingOp{off: off, data: bytes.Clone(p[:n])})
	}
	return n, err
}

func (ff *faultFile) Truncate(size int64) error {
	f := ff.vfs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpTruncate, ff.path); err != nil {
		return err
	}
	if err := ff.File.Truncate(size); err != nil {
		return err
	}
	if m := f.files[ff.path]; m != nil {
		m.pending = append(m.pending, pendingOp{off: size, trunc: true})
	}
	return nil
}

func (ff *faultFile) Sync(flags vfs.SyncFlag) error {
	f := ff.vfs
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fault(OpSync, ff.path); err != nil {
		return err
	}
	f.syncs++
	if f.cutAt > 0 && f.syncs == f.cutAt {
		f.powerCut(ff.path)
		return &fs.PathError{Op: "sync", Path: ff.path, Err: syscall.EIO}
	}
	f.syncsOf[ff.path]++
	if m := f.files[ff.path]; m != nil {
		for _, op := range m.pending {
			m.synced = apply(m.synced, op, -1)
		}
		m.pending = m.pending[:0]
	}
	return nil
}

// powerCut takes the disk as the cut leaves it. Called with mu held.
func (f *FaultVFS) powerCut(path string) {
	f.cut, f.cutOnPath, f.snap = true, path, map[string][]byte{}
	for p, m := range f.files {
		f.cutPending += len(m.pending)
		b := bytes.Clone(m.synced)
		switch f.cutMode {
		case CutTorn:
			upTo := f.rng.IntN(len(m.pending) + 1)
			for i, op := range m.pending[:upTo] {
				keep := -1
				if i == upTo-1 && !op.trunc {
					keep = f.rng.IntN(sectors(op.data) + 1) // the last one written only in part
				}
				b = applySectors(b, op, keep, nil)
			}
		case CutReorder:
			torn := -1
			if len(m.pending) > 0 {
				torn = f.rng.IntN(len(m.pending))
			}
			for i, op := range m.pending {
				if f.rng.IntN(2) == 0 && i != torn {
					continue
				}
				if i == torn && !op.trunc {
					b = applySectors(b, op, 0, f.rng) // a random choice of its sectors
					continue
				}
				b = apply(b, op, -1)
			}
		}
		f.snap[filepath.Base(p)] = b
	}
}

func sectors(p []byte) int { return (len(p) + sector - 1) / sector }

// apply writes op over b, the first keep sectors of it (-1: all).
func apply(b []byte, op pendingOp, keep int) []byte { return applySectors(b, op, keep, nil) }

// applySectors writes op over b: all of it (keep -1), its first keep sectors, or (rng set) each
// sector with even odds.
func applySectors(b []byte, op pendingOp, keep int, rng *rand.Rand) []byte {
	if op.trunc {
		if int64(len(b)) > op.off {
			return b[:op.off]
		}
		return append(b, make([]byte, op.off-int64(len(b)))...)
	}
	// A write torn at random (CutReorder) extends the file whole, its sectors not written holding
	// zeros, as a filesystem that sets the size before the data reaches the disk leaves it; one
	// torn after its first sectors (CutTorn) extends it only as far as they go, as a short write
	// leaves it.
	if end := op.off + int64(len(op.data)); rng != nil {
		if int64(len(b)) < end {
			b = append(b, make([]byte, end-int64(len(b)))...)
		}
	}
	for i := 0; i < sectors(op.data); i++ {
		if keep >= 0 && rng == nil && i >= keep {
			break
		}
		if rng != nil && rng.IntN(2) == 0 {
			continue
		}
		lo := i * sector
		hi := min(lo+sector, len(op.data))
		at := op.off + int64(lo)
		if end := at + int64(hi-lo); int64(len(b)) < end {
			b = append(b, make([]byte, end-int64(len(b)))...)
		}
		copy(b[at:], op.data[lo:hi])
	}
	return b
}

// writeDisk puts a disk's files in dir and returns the store's path there.
func writeDisk(t testing.TB, dir string, disk map[string][]byte, name string) string {
	t.Helper()
	for n, b := range disk {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, name)
}

// OpenAfterCut puts the files a disk holds after a power cut in dir, opens the store there with
// the real VFS (SQLite recovers the WAL), and checks it with PRAGMA integrity_check. The caller
// closes it.
//
// The VFS under it is a FaultVFS with nothing armed: the store's own, but for the syncs it models
// rather than makes (the disk's durability is not what is checked here, and fsync made most of
// the time of a power-cut point).
func OpenAfterCut(t testing.TB, dir string, disk map[string][]byte, key []byte) (*DB, error) {
	t.Helper()
	vfs.Register(vfsName, adiantum.Wrap(diskVFS{newFaultVFS(0)}, nil))
	path := writeDisk(t, dir, disk, "v.db")
	db, err := Open(context.Background(), path, key)
	if err != nil {
		sizes := map[string]int{}
		for n, b := range disk {
			sizes[n] = len(b)
		}
		return nil, fmt.Errorf("open after the power cut (files %v): %w", sizes, err)
	}
	if err := IntegrityCheck(db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// IntegrityCheck runs PRAGMA integrity_check and PRAGMA foreign_key_check on the writer's
// connection (which reads the WAL as recovered).
func IntegrityCheck(db *DB) error {
	rows, err := db.w.Query("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		msgs = append(msgs, s)
	}
	rows.Close()
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity_check: %s", strings.Join(msgs, "; "))
	}
	var n int
	if err := db.w.QueryRow("SELECT count(*) FROM pragma_foreign_key_check()").Scan(&n); err != nil || n != 0 {
		return fmt.Errorf("foreign_key_check: %d rows, %v", n, err)
	}
	return nil
}

// TruncateWAL runs a TRUNCATE checkpoint on the writer's connection, as the checkpointer does
// when the store falls idle (so a test can make the WAL's truncate happen when it wants).
func (db *DB) TruncateWAL() error {
	_, err := db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
