package store

// The store's VFS: adiantum's encryption over the operating system's files, with a full disk
// reported to SQLite as a full disk. The OS VFS means to return SQLITE_FULL on ENOSPC, but it
// looks for a bare errno where *os.File returns an *os.PathError, so a full disk reached SQLite
// as SQLITE_IOERR_WRITE ("disk I/O error"), and by the time the error reached the store SQLite's
// rollback had cleared the system error it carried: nothing told a full disk from a failing one.
// diskFile reports ENOSPC (and, on Windows, ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL) as
// SQLITE_FULL, which SQLite hands back as such, and which the store reports as ErrFull.

import (
	"errors"
	"syscall"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
	"github.com/ncruces/go-sqlite3/vfs/adiantum"
)

// vfsName is the VFS the store's connections open their files with.
const vfsName = "voicebot"

// storeVFS is the store's VFS (tests register others under its name, and put it back).
var storeVFS = adiantum.Wrap(diskVFS{vfs.Find("")}, nil)

func init() { vfs.Register(vfsName, storeVFS) }

// diskVFS wraps the operating system's VFS (below the encryption: what it sees is what the disk
// holds).
type diskVFS struct{ vfs.VFS }

func (d diskVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	f, flags, err := vfsutil.WrapOpenFilename(d.VFS, name, flags)
	if err != nil {
		return f, flags, err
	}
	return diskFile{PassFile{f}, flags&(vfs.OPEN_MAIN_DB|vfs.OPEN_WAL|vfs.OPEN_MAIN_JOURNAL) != 0}, flags, nil
}

type diskFile struct {
	PassFile
	blocks bool // a file the encryption writes in whole blocks
}

// encryptedBlock is the block the encrypting VFS reads and writes whole.
const encryptedBlock = 4096

// Size of a file the encryption writes in whole blocks leaves out a partial block at its end.
// Such a block can hold nothing readable (it cannot be decrypted), but SQLite, finding it inside
// the file's size, would read it and fail: a WAL left ending in a partial block (by a write the
// disk filled up in the middle of, on a filesystem of blocks smaller than 4 KiB, or by a power
// cut that tore the write extending it) made the store fail to open with "disk I/O error" until
// the block was cut off by hand. Found by TestPowerCutAtEverySyncPoint; TestPartialBlockAtEnd.
func (f diskFile) Size() (int64, error) {
	n, err := f.File.Size()
	if f.blocks {
		n &^= encryptedBlock - 1
	}
	return n, err
}

func (f diskFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, fullCode(err)
}

func (f diskFile) Truncate(size int64) error { return fullCode(f.File.Truncate(size)) }

// Sync: fsync too can find the disk full (space allocated when cached writes are written back).
func (f diskFile) Sync(flags vfs.SyncFlag) error { return fullCode(f.File.Sync(flags)) }

func (f diskFile) SizeHint(size int64) error {
	return fullCode(vfsutil.WrapSizeHint(f.File, size))
}

// fullCode tags an out-of-space error with SQLITE_FULL.
func fullCode(err error) error {
	if err != nil && isDiskFull(err) {
		return vfs.SystemError(err, sqlite3.FULL)
	}
	return err
}

// isDiskFull reports whether err says the disk is full (SQLite's SQLITE_FULL, or the system's
// out-of-space error).
func isDiskFull(err error) bool {
	if errors.Is(err, sqlite3.FULL) || errors.Is(err, syscall.ENOSPC) {
		return true
	}
	return isDiskFullOS(err)
}

// PassFile passes a wrapped file's optional methods through to it, so that a wrapper overrides
// only what it changes (the encrypting VFS above needs SharedMemory for WAL, for one). The fault
// injection of the store's tests builds on it.
type PassFile struct{ vfs.File }

func (f PassFile) Unwrap() vfs.File                   { return f.File }
func (f PassFile) SharedMemory() vfs.SharedMemory     { return vfsutil.WrapSharedMemory(f.File) }
func (f PassFile) LockState() vfs.LockLevel           { return vfsutil.WrapLockState(f.File) }
func (f PassFile) PersistWAL() bool                   { return vfsutil.WrapPersistWAL(f.File) }
func (f PassFile) SetPersistWAL(keep bool)            { vfsutil.WrapSetPersistWAL(f.File, keep) }
func (f PassFile) PowersafeOverwrite() bool           { return vfsutil.WrapPowersafeOverwrite(f.File) }
func (f PassFile) SetPowersafeOverwrite(psow bool)    { vfsutil.WrapSetPowersafeOverwrite(f.File, psow) }
func (f PassFile) HasMoved() (bool, error)            { return vfsutil.WrapHasMoved(f.File) }
func (f PassFile) ChunkSize(size int)                 { vfsutil.WrapChunkSize(f.File, size) }
func (f PassFile) SizeHint(size int64) error          { return vfsutil.WrapSizeHint(f.File, size) }
func (f PassFile) Overwrite() error                   { return vfsutil.WrapOverwrite(f.File) }
func (f PassFile) SyncSuper(super string) error       { return vfsutil.WrapSyncSuper(f.File, super) }
func (f PassFile) CommitPhaseTwo() error              { return vfsutil.WrapCommitPhaseTwo(f.File) }
func (f PassFile) BeginAtomicWrite() error            { return vfsutil.WrapBeginAtomicWrite(f.File) }
func (f PassFile) CommitAtomicWrite() error           { return vfsutil.WrapCommitAtomicWrite(f.File) }
func (f PassFile) RollbackAtomicWrite() error         { return vfsutil.WrapRollbackAtomicWrite(f.File) }
func (f PassFile) CheckpointStart()                   { vfsutil.WrapCheckpointStart(f.File) }
func (f PassFile) CheckpointDone()                    { vfsutil.WrapCheckpointDone(f.File) }
func (f PassFile) BusyHandler(handler func() bool)    { vfsutil.WrapBusyHandler(f.File, handler) }
func (f PassFile) Pragma(n, v string) (string, error) { return vfsutil.WrapPragma(f.File, n, v) }
