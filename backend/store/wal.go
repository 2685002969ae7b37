package store

// The write-ahead log kept bounded. SQLite only restarts a WAL from its beginning when a writer
// finds every frame copied back into the database and no reader still reading from the WAL. Under
// continuous reads and writes a PASSIVE checkpoint copies frames but never meets that moment, so the
// WAL grows for as long as the load lasts (5.5 GB in 3 minutes at 2,700 turns/s before this file).
// So checkpoints escalate: a background goroutine copies frames PASSIVE (every CheckpointEvery, and
// sooner when a commit leaves the WAL long); once the WAL passes a quarter of WALLimit it
// checkpoints RESTART between two of the writer's transactions, with a short busy wait, so that
// readers start on the database file and the next commit writes the WAL from its start; when the
// store falls idle it truncates the WAL, so that an idle store holds none. journal_size_limit cuts the file back to a quarter of the bound at each
// restart.

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
)

const (
	// WALLimit is the size the WAL file stays under, whatever the load.
	WALLimit int64 = 64 << 20
	// CheckpointEvery is how often the background checkpointer runs when nothing wakes it sooner.
	CheckpointEvery = 500 * time.Millisecond
	// restartWait bounds how long a RESTART or TRUNCATE checkpoint waits for readers (and so how
	// long a commit can wait behind it): if readers remain, it is tried again on the next round.
	restartWait = 100 * time.Millisecond
	// hardHold bounds how long the writer waits for a restart once the WAL is past three quarters
	// of its bound (holdIfWALLong): only a reader that never ends keeps it waiting that long.
	hardHold = 10 * time.Second
	// checkpointGap is the least time between two checkpoints woken by commits.
	checkpointGap = 50 * time.Millisecond
	// walNudgeFrames is the WAL length (in frames, about 4 MB) past which a commit wakes the
	// checkpointer rather than leaving it to its timer.
	walNudgeFrames = 1000
	// walFrameHeader is the size of a WAL frame's header, before its page.
	walFrameHeader = 24

	// Page caches, per connection (KiB): the writer's holds the indexes every turn touches; each
	// of the four readers' serves history and dashboard queries; the checkpointer's copies pages
	// without keeping them.
	WriteCacheKiB      = 16 << 10
	ReadCacheKiB       = 8 << 10
	checkpointCacheKiB = 512
	readConns          = 4
)

// walState is what the writer's WAL hook tells the checkpointer.
type walState struct {
	frames  atomic.Int64  // frames in the WAL after the last commit
	nudgeAt atomic.Int64  // frames past which a commit wakes the checkpointer
	nudge   chan struct{} // a commit left the WAL long
	reset   chan struct{} // a RESTART or TRUNCATE went through (the writer may wait for it)
	// counters for Stats
	passive, restarts, truncates, busy atomic.Int64
	maxWAL                             atomic.Int64
	reclaimed                          atomic.Int64 // bytes handed back to the filesystem
	holds                              atomic.Int64 // times the writer waited for a restart
}

// restartAt is the WAL length past which the checkpointer makes the WAL restart.
func (db *DB) restartAt() int64 { return db.walLimit / 4 }

// SetWALLimit changes the bound the WAL is kept under (tests use a small one to reach it fast).
// Call it before the store is in use.
func (db *DB) SetWALLimit(n int64) error {
	db.walLimit = n
	db.wal.nudgeAt.Store(min(walNudgeFrames, n/4/db.frameBytes))
	// The writer's connection is the one that resets the WAL, and cuts the file at that moment.
	_, err := db.w.Exec("PRAGMA journal_size_limit=" + strconv.FormatInt(n/4, 10))
	return err
}

// checkpointer runs until Close: on its timer, and when a commit leaves the WAL long.
func (db *DB) checkpointer() {
	defer close(db.ckDone)
	conn, err := db.ck.Conn(context.Background())
	if err != nil {
		slog.Error("store checkpointer: no connection; the WAL will grow until restart", "err", err)
		return
	}
	defer conn.Close()
	t := time.NewTicker(CheckpointEvery)
	defer t.Stop()
	var last time.Time
	lastReclaim := time.Now()
	lastFrames := int64(-1)
	for {
		select {
		case <-db.done:
			return
		case <-t.C:
		case <-db.wal.nudge:
			if gap := checkpointGap - time.Since(last); gap > 0 {
				select {
				case <-db.done:
					return
				case <-time.After(gap):
				}
			}
		}
		last = time.Now()
		if last.Sub(lastReclaim) >= ReclaimEvery {
			lastReclaim = last
			db.reclaimIfWorth()
		}
		frames := db.wal.frames.Load()
		idle := frames == lastFrames
		lastFrames = frames
		if err := conn.Raw(func(dc any) error { return db.checkpoint(dc.(driver.Conn).Raw(), idle) }); err != nil {
			slog.Warn("store checkpoint", "err", err)
		}
	}
}

// checkpoint copies what it can without blocking; then, when the WAL has grown past a quarter of
// its bound, restarts it, and when the store is idle (no commit since the previous round) and
// every frame has been copied back, truncates it.
//
// RESTART and TRUNCATE need SQLite's writer lock. Polled for, the lock is never caught free: the
// writer goroutine takes it again the moment a commit ends (measured: 113 of 142 rounds busy). So
// the checkpointer takes db.pause, which the writer holds through each transaction: the writer
// stops between two transactions, the PASSIVE round just before has copied most frames, and the
// wait is for the rest and for readers still reading the WAL, at most restartWait.
func (db *DB) checkpoint(c *sqlite3.Conn, idle bool) error {
	db.noteWALSize()
	nLog, nCkpt, err := c.WALCheckpoint("main", sqlite3.CHECKPOINT_PASSIVE)
	if err != nil && !errors.Is(err, sqlite3.BUSY) {
		return err
	}
	db.wal.passive.Add(1)
	var mode sqlite3.CheckpointMode
	switch {
	case idle && nLog > 0 && nLog == nCkpt:
		mode = sqlite3.CHECKPOINT_TRUNCATE
	case int64(nLog)*db.frameBytes >= db.restartAt():
		mode = sqlite3.CHECKPOINT_RESTART
	default:
		return nil
	}
	if err := c.BusyTimeout(restartWait); err != nil {
		return err
	}
	defer c.BusyTimeout(10 * time.Second)
	db.pause.Lock()
	_, _, err = c.WALCheckpoint("main", mode)
	db.pause.Unlock()
	switch {
	case errors.Is(err, sqlite3.BUSY):
		db.wal.busy.Add(1) // a reader stayed longer than restartWait: next round
	case err != nil:
		return err
	case mode == sqlite3.CHECKPOINT_TRUNCATE:
		db.wal.truncates.Add(1)
	default:
		db.wal.restarts.Add(1)
	}
	if err == nil {
		select {
		case db.wal.reset <- struct{}{}:
		default:
		}
	}
	return nil
}

// holdIfWALLong is the writer's back-pressure, between two transactions: when writes outpace the
// checkpointer and the WAL passes half its bound, the writer waits (at most 3 x restartWait) for
// a restart before its next commit. Past three quarters it waits until the restart (up to
// hardHold, nudging the checkpointer to try again every restartWait), so that the bound holds
// however fast the writes come and however busy the machine is: on two cores under -race at a
// load of 17, readers kept the restart away for longer than 3 x restartWait and commits let
// through after each wait took the WAL 4% past its bound.
func (db *DB) holdIfWALLong() {
	walBytes := db.wal.frames.Load() * db.frameBytes
	if walBytes < db.walLimit/2 {
		return
	}
	select { // a restart signalled before this point is stale
	case <-db.wal.reset:
	default:
	}
	nudge := func() {
		select {
		case db.wal.nudge <- struct{}{}:
		default:
		}
	}
	nudge()
	db.wal.holds.Add(1)
	wait := 3 * restartWait
	if walBytes >= db.walLimit/4*3 {
		wait = hardHold
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	retry := time.NewTicker(restartWait)
	defer retry.Stop()
	for {
		select {
		case <-db.wal.reset:
			return
		case <-retry.C:
			nudge()
		case <-deadline.C:
			if wait == hardHold {
				slog.Warn("store: the WAL is near its bound and readers kept a checkpoint from restarting it; writing on", "wal_bytes", walBytes, "limit", db.walLimit, "waited", wait)
			}
			return
		case <-db.done:
			return
		}
	}
}

// noteWALSize keeps the largest WAL file size seen, for Stats.
func (db *DB) noteWALSize() {
	if n := db.walFileSize(); n > db.wal.maxWAL.Load() {
		db.wal.maxWAL.Store(n)
	}
}

func (db *DB) walFileSize() int64 {
	fi, err := os.Stat(db.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Stats is what the store's files take and how its checkpoints went.
type Stats struct {
	DBBytes     int64 // the database file
	WALBytes    int64 // the write-ahead log file now
	MaxWALBytes int64 // the largest the WAL file was seen at a checkpoint since Open
	WALLimit    int64
	FreeBytes   int64 // pages inside the database file free for reuse (freelist)
	VolumeFree  int64 // free space on the data volume, -1 if unknown
	VolumeSize  int64 // size of the data volume, -1 if unknown

	Checkpoints, Restarts, Truncates, BusyRetries int64
	Reclaimed                                     int64 // bytes of free pages handed back since Open
}

// Stats reports the store's sizes and checkpoint counters.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	s := Stats{WALBytes: db.walFileSize(), WALLimit: db.walLimit,
		Checkpoints: db.wal.passive.Load(), Restarts: db.wal.restarts.Load(),
		Truncates: db.wal.truncates.Load(), BusyRetries: db.wal.busy.Load(), Reclaimed: db.wal.reclaimed.Load()}
	s.MaxWALBytes = max(db.wal.maxWAL.Load(), s.WALBytes)
	if fi, err := os.Stat(db.path); err == nil {
		s.DBBytes = fi.Size()
	}
	var free, pageSize int64
	if err := db.r.QueryRowContext(ctx, "SELECT freelist_count, page_size FROM pragma_freelist_count(), pragma_page_size()").Scan(&free, &pageSize); err != nil {
		return s, err
	}
	s.FreeBytes = free * pageSize
	s.VolumeFree, s.VolumeSize = volumeSpace(db.path)
	return s, nil
}
