package store

import (
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
	_ "github.com/ncruces/go-sqlite3/vfs/adiantum" // registers the encrypting VFS we wrap
)

// vfsName is the VFS the store opens its files with: the Adiantum encrypting VFS, with each WAL
// frame written in one call.
//
// Why: Adiantum encrypts in 4 KiB blocks; SQLite writes a WAL frame as two calls, its 24-byte
// header and then its page, and neither is block-aligned, so each call was a read-decrypt-
// modify-encrypt-write of the blocks it touches. Holding the 24-byte header until the page that
// always follows it lets one call write both. Nothing else is held: any other call first writes
// a held header, so no data waits across a sync, a read or a commit.
const vfsName = "voicebot"

// VFS is the VFS new stores open with: vfsName, or "adiantum" for the plain encrypting VFS (the
// baseline of the store benchmarks).
var VFS = vfsName

func init() {
	vfs.Register(vfsName, &walFrameVFS{VFS: vfs.Find("adiantum")})
}

type walFrameVFS struct{ vfs.VFS }

func (v *walFrameVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	f, flags, err := vfsutil.WrapOpenFilename(v.VFS, name, flags)
	if err != nil || flags&vfs.OPEN_WAL == 0 {
		return f, flags, err
	}
	return &walFile{File: f}, flags, nil
}

// walFrameHeader is the size of a WAL frame header.
const walFrameHeader = 24

type walFile struct {
	vfs.File
	hdr    [walFrameHeader]byte
	hdrOff int64
	held   bool
}

// release writes a held frame header on its own.
func (w *walFile) release() error {
	if !w.held {
		return nil
	}
	w.held = false
	_, err := w.File.WriteAt(w.hdr[:], w.hdrOff)
	return err
}

func (w *walFile) WriteAt(p []byte, off int64) (int, error) {
	if w.held && off == w.hdrOff+walFrameHeader {
		// the page that follows its header: one write for the frame
		w.held = false
		buf := make([]byte, 0, walFrameHeader+len(p))
		buf = append(append(buf, w.hdr[:]...), p...)
		n, err := w.File.WriteAt(buf, w.hdrOff)
		return max(0, n-walFrameHeader), err
	}
	if err := w.release(); err != nil {
		return 0, err
	}
	if len(p) == walFrameHeader {
		copy(w.hdr[:], p)
		w.hdrOff, w.held = off, true
		return len(p), nil
	}
	return w.File.WriteAt(p, off)
}

func (w *walFile) ReadAt(p []byte, off int64) (int, error) {
	if err := w.release(); err != nil {
		return 0, err
	}
	return w.File.ReadAt(p, off)
}

func (w *walFile) Sync(flags vfs.SyncFlag) error {
	if err := w.release(); err != nil {
		return err
	}
	return w.File.Sync(flags)
}

func (w *walFile) Truncate(size int64) error {
	if err := w.release(); err != nil {
		return err
	}
	return w.File.Truncate(size)
}

func (w *walFile) Size() (int64, error) {
	if err := w.release(); err != nil {
		return 0, err
	}
	return w.File.Size()
}

func (w *walFile) Close() error {
	err := w.release()
	if cerr := w.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// Unwrap lets the VFS helpers see the encrypting file underneath.
func (w *walFile) Unwrap() vfs.File { return w.File }
