package store

// A full data volume. A write that SQLite cannot save for want of space fails with ErrFull and
// leaves nothing behind (its transaction is rolled back; SQLite needs no extra space to roll back
// in WAL mode); reads go on. The store remembers that the volume filled, so that /readyz can say
// so before the next write is tried, and forgets it when a write succeeds or when the volume has
// FullHeadroom more space free than when the write failed (an operator freed space): nothing has
// to be restarted.

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// ErrFull means the data volume has no space left: the write was not saved. Match it with
// errors.Is; the error that carries it also wraps SQLite's.
var ErrFull = errors.New("the data volume is full")

// FullHeadroom is how much more free space than at the failed write makes the store try writes
// again before one succeeds (a write needs a few pages; the WAL grows in frames of a page).
const FullHeadroom int64 = 1 << 20

type fullError struct {
	msg string
	err error // SQLite's, for a write
}

func (e *fullError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + " (" + e.err.Error() + ")"
}
func (e *fullError) Is(target error) bool { return target == ErrFull }
func (e *fullError) Unwrap() error        { return e.err }

type fullState struct {
	flagged atomic.Bool
	mu      sync.Mutex
	since   time.Time // when the first write failed
	last    time.Time // when the last write failed
	free    int64     // the volume's free bytes after the last failed write (-1: unknown)
	failed  int64     // writes refused since the volume filled
}

// noteWrite is what a write's outcome says of the volume: a write that failed for want of space
// is reported as ErrFull and marks the store full; one that succeeded clears the mark.
func (db *DB) noteWrite(err error) error {
	if err == nil {
		if db.full.flagged.Load() {
			db.full.mu.Lock()
			db.full.flagged.Store(false)
			db.full.mu.Unlock()
		}
		return nil
	}
	if !isDiskFull(err) {
		return err
	}
	free, _ := volumeSpace(db.path)
	now := time.Now()
	db.full.mu.Lock()
	if !db.full.flagged.Load() {
		db.full.since, db.full.failed = now, 0
		db.full.flagged.Store(true)
	}
	db.full.last, db.full.free = now, free
	db.full.failed++
	db.full.mu.Unlock()
	return &fullError{"storage full: the data volume has no space left; the write was not saved", err}
}

// fullRetryUnknown is how long the store reports itself full when the volume's free space cannot
// be read (then only a write that succeeds can tell it was freed).
const fullRetryUnknown = 30 * time.Second

// StorageFull returns nil while writes can be saved, or, after a write failed for want of space,
// an error (errors.Is ErrFull) saying since when, until a write succeeds or the volume has
// FullHeadroom more free space than after the last failed write.
func (db *DB) StorageFull() error {
	if !db.full.flagged.Load() {
		return nil
	}
	db.full.mu.Lock()
	defer db.full.mu.Unlock()
	if !db.full.flagged.Load() {
		return nil
	}
	free, _ := volumeSpace(db.path)
	switch {
	case free >= 0 && db.full.free >= 0 && free >= db.full.free+FullHeadroom:
		db.full.flagged.Store(false) // space was freed: the next write will tell
		return nil
	case (free < 0 || db.full.free < 0) && time.Since(db.full.last) > fullRetryUnknown:
		db.full.flagged.Store(false)
		return nil
	}
	return &fullError{msg: fmt.Sprintf("storage full: the data volume of %s filled at %s; %d writes refused since, %s free now; turns are refused until space is freed",
		db.path, db.full.since.UTC().Format(time.RFC3339), db.full.failed, sizeText(free))}
}

func sizeText(n int64) string {
	switch {
	case n < 0:
		return "unknown space"
	case n < 1<<20:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
