// Package store is VoiceBot's SQLite store (github.com/ncruces/go-sqlite3, SQLite compiled to
// Wasm, no cgo): one encrypted file in WAL mode with numbered migrations embedded in the binary.
// Writes go through one writer goroutine that groups concurrent writes into one transaction
// (group commit), so that synchronous=FULL durability — an acknowledged write survives kill -9
// and power loss — costs one fsync per group, not per write. Reads use a separate pool.
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
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	_ "github.com/ncruces/go-sqlite3/vfs/adiantum" // registers the encrypting VFS
)

//go:embed sql/*.sql
var migrations embed.FS

// ErrWrongKey means the file exists but the key does not open it.
var ErrWrongKey = errors.New("the store's key does not open this database (wrong key file, or not a VoiceBot store)")

// DB is an open store.
type DB struct {
	path   string
	hexKey string
	w      *sql.DB // one connection: the writer
	r      *sql.DB // read pool
	writes chan *writeReq
	done   chan struct{}
	closed chan struct{}
}

type writeReq struct {
	ctx context.Context
	fn  func(*sql.Tx) error
	err chan error
}

// MaxBatch bounds how many writes one transaction groups.
const MaxBatch = 256

// Open opens (or creates) the encrypted store at path with a 32-byte key.
func Open(ctx context.Context, path string, key []byte) (*DB, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("store key must be 32 bytes, got %d", len(key))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	hexKey := hex.EncodeToString(key)
	init := func(c *sqlite3.Conn) error {
		return c.Exec("PRAGMA hexkey='" + hexKey + "';" +
			"PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA temp_store=memory; PRAGMA synchronous=FULL;")
	}
	dsn := "file:" + filepath.ToSlash(path) + "?vfs=adiantum&_txlock=immediate"
	w, err := driver.Open(dsn, init)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	if err := checkKey(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
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
	r.SetMaxOpenConns(4)
	db := &DB{path: path, hexKey: hexKey, w: w, r: r, writes: make(chan *writeReq, 1024), done: make(chan struct{}), closed: make(chan struct{})}
	go db.writer()
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
func (db *DB) Write(ctx context.Context, fn func(*sql.Tx) error) error {
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
		return err
	case <-db.closed:
		return errors.New("store closed before the write was committed")
	}
}

func (db *DB) writer() {
	defer close(db.closed)
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
		db.commit(batch)
	}
}

func (db *DB) commit(batch []*writeReq) {
	ctx := context.Background()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.err <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	errs := make([]error, len(batch))
	for i, r := range batch {
		if r.ctx.Err() != nil {
			errs[i] = r.ctx.Err()
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			errs[i] = err
			continue
		}
		if err := r.fn(tx); err != nil {
			errs[i] = err
			_, _ = tx.Exec("ROLLBACK TO w")
		}
		_, _ = tx.Exec("RELEASE w")
	}
	if err := tx.Commit(); err != nil {
		for _, r := range batch {
			r.err <- fmt.Errorf("commit: %w", err)
		}
		return
	}
	for i, r := range batch {
		r.err <- errs[i]
	}
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
	return errors.Join(db.r.Close(), db.w.Close())
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
		return c.Raw().Backup("main", "file:"+filepath.ToSlash(dst)+"?vfs=adiantum&hexkey="+db.hexKey)
	})
}

// Now is the store's clock in Unix milliseconds.
func Now() int64 { return time.Now().UnixMilli() }
