// Package store is VoiceBot's SQLite store (github.com/ncruces/go-sqlite3, SQLite compiled to
// Wasm, no cgo): one encrypted file in WAL mode with numbered migrations embedded in the binary.
// Writes go through one writer goroutine that groups concurrent writes into one transaction
// (group commit), so that synchronous=FULL durability — an acknowledged write survives kill -9
// and power loss — costs one fsync per group, not per write. Reads use a separate pool.
// secure_delete is on: a deleted row (an erased session, a purged turn) is overwritten with
// zeros in its page, so that it does not survive in free space of the decrypted file.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
)

//go:embed sql/*.sql
var migrations embed.FS

// ErrWrongKey means the file exists but the key does not open it.
var ErrWrongKey = errors.New("the store's key does not open this database (wrong key file, or not a VoiceBot store)")

// DB is an open store.
type DB struct {
	onCommit  atomic.Pointer[func(writes int, took time.Duration, err error)] // SetCommitObserver
	path      string
	hexKey    string
	w         *sql.DB // one connection: the writer
	r         *sql.DB // read pool
	writes    chan *writeReq
	done      chan struct{}
	closed    chan struct{}
	ck        *sql.DB // checkpoint connection
	ckDone    chan struct{}
	stmts     map[string]*sql.Stmt // writer's prepared statements
	toPrepare map[string]bool

	wal        *walState
	pause      sync.Mutex // held by the writer through each transaction, by the checkpointer to restart the WAL
	frameBytes int64      // one WAL frame: a page and its header
	walLimit   int64

	full fullState // the last write failed for want of disk space (full.go)
	opts Options   // how it was opened (the outbox: outbox.go)
}

type writeReq struct {
	ctx context.Context
	fn  func(*Tx) error
	err chan error
}

// Tx is a write transaction. Its Exec runs statements prepared once on the writer's connection
// and reused, so the hot path (a turn is three inserts) does not parse SQL every time.
type Tx struct {
	*sql.Tx
	db *DB
}

// Exec runs a statement with a cached prepared statement. A query seen for the first time runs
// unprepared and is prepared after the transaction ends (the writer has a single connection,
// which the transaction holds).
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if st, ok := tx.db.stmts[query]; ok {
		return tx.Tx.Stmt(st).Exec(args...)
	}
	tx.db.toPrepare[query] = true
	return tx.Tx.Exec(query, args...)
}

// prepareNew prepares the queries first seen in the last transaction. Only the writer goroutine
// calls it, between transactions.
func (db *DB) prepareNew() {
	for q := range db.toPrepare {
		delete(db.toPrepare, q)
		if len(db.stmts) >= 256 { // queries are constants in the code; the bound is a safety net
			continue
		}
		if st, err := db.w.Prepare(q); err == nil {
			db.stmts[q] = st
		}
	}
}

// MaxBatch bounds how many writes one transaction groups.
const MaxBatch = 256

// Open opens (or creates) the encrypted store at path with a 32-byte key.
func Open(ctx context.Context, path string, key []byte) (*DB, error) {
	return OpenWith(ctx, path, key, Options{})
}

// OpenWith opens the store as Open does, with options (the fleet's outbox).
func OpenWith(ctx context.Context, path string, key []byte, opts Options) (*DB, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("store key must be 32 bytes, got %d", len(key))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	hexKey := hex.EncodeToString(key)
	// Each connection is its own SQLite (Wasm) instance with its own page cache, and Wasm memory
	// never shrinks: cacheKiB bounds what each one may hold (see docs/OPERATIONS.md, Memory).
	initCache := func(c *sqlite3.Conn, cacheKiB int) error {
		return c.Exec("PRAGMA hexkey='" + hexKey + "';" +
			"PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA temp_store=memory; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;" +
			"PRAGMA cache_size=-" + strconv.Itoa(cacheKiB) + "; PRAGMA journal_size_limit=" + strconv.FormatInt(WALLimit/4, 10) + ";")
	}
	init := func(c *sqlite3.Conn) error { return initCache(c, ReadCacheKiB) }
	wal := &walState{nudge: make(chan struct{}, 1), reset: make(chan struct{}, 1)}
	wal.nudgeAt.Store(walNudgeFrames)
	// The writer reports the WAL's length after every commit (the WAL hook, which also replaces
	// SQLite's automatic checkpoint inside commits): past nudgeAt frames it wakes the checkpointer.
	initWriter := func(c *sqlite3.Conn) error {
		if err := initCache(c, WriteCacheKiB); err != nil {
			return err
		}
		c.WALHook(func(_ *sqlite3.Conn, _ string, frames int) error {
			wal.frames.Store(int64(frames))
			if int64(frames) >= wal.nudgeAt.Load() {
				select {
				case wal.nudge <- struct{}{}:
				default:
				}
			}
			return nil
		})
		return nil
	}
	dsn := "file:" + filepath.ToSlash(path) + "?vfs=" + vfsName + "&_txlock=immediate"
	w, err := driver.Open(dsn, initWriter)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	if err := checkKey(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	useIncrementalVacuum(ctx, w, path) // before WAL: a new file takes auto_vacuum only until its first write
	if _, err := w.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: WAL: %w", path, err)
	}
	if err := migrate(ctx, w, maxVersion); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate store %s: %w", path, err)
	}
	r, err := driver.Open(dsn, func(c *sqlite3.Conn) error {
		if err := init(c); err != nil {
			return err
		}
		return c.Exec("PRAGMA query_only=1")
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(readConns)
	// Checkpoints (copying the WAL back into the database file) run on a connection of their own
	// in the background, not inside a commit of the writer, where they would stall every turn
	// waiting in that group.
	ck, err := driver.Open(dsn, func(c *sqlite3.Conn) error { return initCache(c, checkpointCacheKiB) })
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open store %s for checkpoints: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetConnMaxLifetime(0)
	var pageSize int64
	if err := w.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		w.Close()
		r.Close()
		ck.Close()
		return nil, err
	}
	db := &DB{path: path, hexKey: hexKey, stmts: map[string]*sql.Stmt{}, toPrepare: map[string]bool{}, w: w, r: r, ck: ck, writes: make(chan *writeReq, 1024), done: make(chan struct{}), closed: make(chan struct{}), ckDone: make(chan struct{}),
		wal: wal, frameBytes: pageSize + walFrameHeader, walLimit: WALLimit, opts: opts}
	go db.writer()
	go db.checkpointer()
	return db, nil
}

func checkKey(ctx context.Context, w *sql.DB) error {
	var n int
	err := w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
	if err != nil {
		if errors.Is(err, sqlite3.NOTADB) || errors.Is(err, sqlite3.CORRUPT) {
			return ErrWrongKey
		}
		return err
	}
	return nil
}

// Path is the store's file.
func (db *DB) Path() string { return db.path }

// Read returns the read pool, for queries.
func (db *DB) Read() *sql.DB { return db.r }

// Write runs fn in a transaction shared with other concurrent writes, and returns once that
// transaction is durably committed (or failed). fn runs inside a savepoint: its error rolls back
// only its own changes.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, err: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.done:
		return errors.New("store is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.err:
		return db.noteWrite(err)
	case <-db.closed:
		return errors.New("store closed before the write was committed")
	}
}

func (db *DB) writer() {
	defer close(db.closed)
	defer func() {
		for _, st := range db.stmts {
			st.Close()
		}
	}()
	batch := make([]*writeReq, 0, MaxBatch)
	for {
		var first *writeReq
		select {
		case first = <-db.writes:
		case <-db.done:
			// finish what was queued before Close
			for {
				select {
				case first = <-db.writes:
					db.commit(append(batch[:0], first))
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < MaxBatch {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.pause.Lock() // a RESTART checkpoint runs between two transactions (wal.go)
		db.commit(batch)
		db.pause.Unlock()
		db.holdIfWALLong()
	}
}

// commit runs a batch in one transaction. If any write fails, the batch is rolled back and each
// write is run again in a transaction of its own, so that one bad write fails alone; the common
// path pays for no savepoints.
func (db *DB) commit(batch []*writeReq) {
	defer db.prepareNew()
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	t0 := time.Now()
	err := db.runTx(live)
	if fn := db.onCommit.Load(); fn != nil {
		(*fn)(len(live), time.Since(t0), err)
	}
	if err == nil {
		for _, r := range live {
			r.err <- nil
		}
		return
	}
	if len(live) == 1 {
		live[0].err <- err
		return
	}
	for _, r := range live {
		r.err <- db.runTx([]*writeReq{r})
	}
}

// runTx runs writes in one transaction and commits it.
func (db *DB) runTx(batch []*writeReq) error {
	stx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: stx, db: db}
	for _, r := range batch {
		if err := r.fn(tx); err != nil {
			_ = stx.Rollback()
			return err
		}
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Close finishes queued writes and closes the store.
func (db *DB) Close() error {
	select {
	case <-db.done:
		return nil
	default:
	}
	close(db.done)
	<-db.closed
	<-db.ckDone
	_, _ = db.ck.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return errors.Join(db.r.Close(), db.ck.Close(), db.w.Close())
}

// SchemaVersion is the number of the last migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// maxVersion means every migration.
const maxVersion = 1 << 30

// migrate applies the embedded sql/NNNN_*.sql files above PRAGMA user_version and up to upTo,
// each in its own transaction with the version bump.
func migrate(ctx context.Context, w *sql.DB, upTo int) error {
	files, err := fs.Glob(migrations, "sql/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	var current int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	if latest := len(files); current > latest {
		return fmt.Errorf("the store has schema version %d, newer than this program knows (%d): use the newer program, or restore a backup made by this one", current, latest)
	}
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", f)
		}
		if n <= current || n > upTo {
			continue
		}
		body, _ := migrations.ReadFile(f)
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version=%d", n)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", f, err)
		}
		current = n
	}
	return nil
}

// Backup writes a consistent copy of the live store to dst, encrypted with the same key (an
// online backup: the service keeps running).
func (db *DB) Backup(ctx context.Context, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("backup: %s already exists", dst)
	}
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("backup: unexpected driver connection")
		}
		return c.Raw().Backup("main", "file:"+filepath.ToSlash(dst)+"?vfs="+vfsName+"&hexkey="+db.hexKey)
	})
}

// Now is the store's clock in Unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }

// SetCommitObserver has fn told of each group commit of the writer: how many writes it held,
// how long the transaction took (its sync included) and whether it failed (the metrics:
// voicebot_store_commit_*). nil stops it.
func (db *DB) SetCommitObserver(fn func(writes int, took time.Duration, err error)) {
	if fn == nil {
		db.onCommit.Store(nil)
		return
	}
	db.onCommit.Store(&fn)
}
