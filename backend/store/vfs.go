package store

import (
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
	_ "github.com/ncruces/go-sqlite3/vfs/adiantum" // registers the encrypting VFS we wrap
)

// vfsName is the VFS the store opens its files with: the Adiantum encrypting VFS, with the WAL
// file's writes coalesced.
//
// Why: Adiantum encrypts in 4 KiB blocks, while a WAL frame is a 24-byte header and a 4 KiB page,
// written as two calls; no frame is block-aligned, so every call was a read-decrypt-modify-
// encrypt-write of two blocks. Contiguous WAL writes are appended to a buffer and handed to the
// encrypting file as one write when SQLite syncs, reads, truncates or closes the WAL, so only the
// two ends of a commit's run of frames are partial blocks. Correctness rests on SQLite syncing
// the WAL before it publishes a commit to other connections, which it does at synchronous=FULL
// (the store's setting, not changeable).
const vfsName = "voicebot"

func init() {
	vfs.Register(vfsName, &walCoalescingVFS{VFS: vfs.Find("adiantum")})
}

type walCoalescingVFS struct{ vfs.VFS }

func (v *walCoalescingVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	f, flags, err := vfsutil.WrapOpenFilename(v.VFS, name, flags)
	if err != nil || flags&vfs.OPEN_WAL == 0 {
		return f, flags, err
	}
	return &walFile{File: f}, flags, nil
}

// maxCoalesce bounds the buffer: a longer run is written out as it grows.
const maxCoalesce = 1 << 20

type walFile struct {
	vfs.File
	buf       []byte
	off       int64 // file offset of buf[0]
	synced    bool  // the last call was a Sync
	syncedEnd int64 // where the run written before that Sync ended
}

func (w *walFile) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.File.WriteAt(w.buf, w.off)
	w.buf = w.buf[:0]
	return err
}

func (w *walFile) WriteAt(p []byte, off int64) (int, error) {
	if w.synced {
		w.synced = false
		if off == w.syncedEnd { // the tail of a commit frame, written after the sync
			return w.File.WriteAt(p, off)
		}
	}
	if len(w.buf) > 0 && off != w.off+int64(len(w.buf)) {
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	if len(w.buf) == 0 {
		w.off = off
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= maxCoalesce {
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *walFile) ReadAt(p []byte, off int64) (int, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.File.ReadAt(p, off)
}

func (w *walFile) Sync(flags vfs.SyncFlag) error {
	end := w.off + int64(len(w.buf))
	if err := w.flush(); err != nil {
		return err
	}
	w.synced, w.syncedEnd = true, end
	return w.File.Sync(flags)
}

func (w *walFile) Truncate(size int64) error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.File.Truncate(size)
}

func (w *walFile) Size() (int64, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.File.Size()
}

func (w *walFile) Close() error {
	err := w.flush()
	if cerr := w.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// Unwrap lets the VFS helpers see the encrypting file underneath.
func (w *walFile) Unwrap() vfs.File { return w.File }
