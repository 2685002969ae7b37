package store

// Space given back. Deleted rows (retention's purge, an erased session) leave free pages inside
// the database file; SQLite reuses them for new rows but never shrinks the file by itself. With
// auto_vacuum=INCREMENTAL the free pages can be handed back to the filesystem a batch at a time,
// inside an ordinary write transaction, without rewriting the file as VACUUM does. The
// checkpointer does it once a minute when free pages pass ReclaimAt and a tenth of the file: below
// that they are left for new rows to reuse, which costs nothing.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

const (
	// ReclaimAt is how much free space inside the database file is left for reuse before pages
	// are handed back to the filesystem.
	ReclaimAt int64 = 4 << 20
	// reclaimPages bounds one incremental vacuum (8 MB of 4 KiB pages), so that the write
	// transaction it runs in stays short.
	reclaimPages = 2048
	// ReclaimEvery is how often the checkpointer looks at the free pages.
	ReclaimEvery = time.Minute
)

// useIncrementalVacuum sets auto_vacuum=INCREMENTAL before the first table is made; a store made
// before it (auto_vacuum NONE) is converted once with VACUUM, which rewrites the file (it needs as
// much free disk as the file takes; if it fails, the store works on without giving space back).
func useIncrementalVacuum(ctx context.Context, w *sql.DB, path string) {
	var mode, tables int
	if err := w.QueryRowContext(ctx, "SELECT auto_vacuum, (SELECT count(*) FROM sqlite_master) FROM pragma_auto_vacuum()").Scan(&mode, &tables); err != nil || mode == 2 {
		return
	}
	if _, err := w.ExecContext(ctx, "PRAGMA auto_vacuum=INCREMENTAL"); err != nil {
		slog.Warn("store: auto_vacuum", "err", err)
		return
	}
	if tables == 0 {
		return // a new store: the setting takes effect with the first table
	}
	t0 := time.Now()
	slog.Info("store: converting to incremental vacuum, once (the file is rewritten)", "path", path)
	if _, err := w.ExecContext(ctx, "VACUUM"); err != nil {
		slog.Warn("store: could not convert to incremental vacuum; deleted rows' space is reused but not given back", "err", err)
		return
	}
	slog.Info("store: converted to incremental vacuum", "took", time.Since(t0).Round(time.Millisecond))
}

// Reclaim hands free pages back to the filesystem, up to reclaimPages, if there are at least
// min bytes of them. It returns the bytes given back.
func (db *DB) Reclaim(ctx context.Context, min int64) (int64, error) {
	var free, pageSize, mode int64
	if err := db.r.QueryRowContext(ctx, "SELECT freelist_count, page_size, auto_vacuum FROM pragma_freelist_count(), pragma_page_size(), pragma_auto_vacuum()").Scan(&free, &pageSize, &mode); err != nil {
		return 0, err
	}
	if mode != 2 || free*pageSize < min || free == 0 {
		return 0, nil
	}
	before := free
	err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(fmt.Sprintf("PRAGMA incremental_vacuum(%d)", reclaimPages))
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := db.r.QueryRowContext(ctx, "SELECT freelist_count FROM pragma_freelist_count()").Scan(&free); err != nil {
		return 0, err
	}
	return (before - free) * pageSize, nil
}

// reclaimIfWorth is the checkpointer's minute check: free pages past ReclaimAt and a tenth of the
// file are handed back.
func (db *DB) reclaimIfWorth() {
	fileBytes := int64(0)
	if st, err := db.Stats(context.Background()); err == nil {
		fileBytes = st.DBBytes
	}
	got, err := db.Reclaim(context.Background(), max(ReclaimAt, fileBytes/10))
	if err != nil {
		slog.Warn("store: giving free pages back", "err", err)
	} else if got > 0 {
		db.wal.reclaimed.Add(got)
	}
}
