// Package postgres is VoiceBot's PostgreSQL store (github.com/jackc/pgx/v5): the second
// implementation of the storage boundary (store.Backend), for appliances that share one
// database (a fleet) or whose operator keeps data in a PostgreSQL server. It is selected with
// `--store postgres://…` or `store:` in the settings file; SQLite (backend/store) stays the
// embedded default.
//
// The schema is numbered SQL embedded in the binary (sql/NNNN_*.sql, PostgreSQL's own
// numbering), applied at Open under an advisory lock, so that several appliances starting at
// once migrate the database once. Every write is one transaction that commits before the call
// returns (synchronous_commit as the server sets it: on by default); a turn is one statement, so
// one round trip. Encryption at rest is the database server's (its disk's) concern, and the
// connection's TLS and password are the DSN's (docs/OPERATIONS.md); the DSN's password never
// appears in Describe, and so in no log line or page.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"voicebot/backend/store"
)

//go:embed sql/*.sql
var migrations embed.FS

// DB is an open PostgreSQL store.
type DB struct {
	pool      *pgxpool.Pool
	name      string // the DSN without its password
	appliance string // this appliance's name: the rows it writes carry it (fleet.go)
	onCommit  atomic.Pointer[func(writes int, took time.Duration, err error)]
}

var _ store.Backend = (*DB)(nil)

// IsDSN reports whether a --store value names a PostgreSQL server.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// MaxConns bounds the connections one appliance opens to the server.
const MaxConns = 16

// Open connects to the server the DSN names and brings its schema up to date. appliance is this
// appliance's name in the fleet (config.ApplianceName): the sessions it starts, the turns it
// answers, its audit entries and its samples carry it.
func Open(ctx context.Context, dsn, appliance string) (*DB, error) {
	name := Redact(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %s", name, redactErr(err, dsn))
	}
	if cfg.MaxConns > MaxConns || !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = MaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "voicebot"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store %s: %s", name, redactErr(err, dsn))
	}
	db := &DB{pool: pool, name: name, appliance: appliance}
	if err := db.migrate(ctx, maxVersion); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate store %s: %s", name, redactErr(err, dsn))
	}
	return db, nil
}

// Redact is the DSN without its password, for logs and the dashboard.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	// not a URL Go parses (a bad port, say): the userinfo's password by pattern, and key=value pairs
	return kvPassword.ReplaceAllString(urlPassword.ReplaceAllString(dsn, "$1:xxxxx@"), "password=xxxxx")
}

var (
	kvPassword  = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)`)
	urlPassword = regexp.MustCompile(`(://[^:/@]*):[^@]*@`)
)

// redactErr is an error's text with the DSN's password taken out, should a driver quote it.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil {
		if pw, has := u.User.Password(); has && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return kvPassword.ReplaceAllString(urlPassword.ReplaceAllString(msg, "$1:xxxxx@"), "password=xxxxx")
}

// Shared reports that other appliances may write the same rows (history then caches no
// session's memory).
func (db *DB) Shared() bool { return true }

// Pool is the connection pool, for the fleet's notifications and for tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Describe names the store: the server and database, without the password.
func (db *DB) Describe() string { return "postgres " + db.name }

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// SetCommitObserver has fn told of each write transaction (one write each: the server groups
// concurrent commits itself).
func (db *DB) SetCommitObserver(fn func(writes int, took time.Duration, err error)) {
	if fn == nil {
		db.onCommit.Store(nil)
		return
	}
	db.onCommit.Store(&fn)
}

// write runs fn in a transaction and commits it.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	t0 := time.Now()
	err := pgx.BeginFunc(ctx, db.pool, fn)
	db.observe(t0, err)
	return err
}

// exec runs one statement on its own (its own transaction).
func (db *DB) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	t0 := time.Now()
	tag, err := db.pool.Exec(ctx, sql, args...)
	db.observe(t0, err)
	return tag, err
}

func (db *DB) observe(t0 time.Time, err error) {
	if fn := db.onCommit.Load(); fn != nil {
		(*fn)(1, time.Since(t0), err)
	}
}

// maxVersion means every migration.
const maxVersion = 1 << 30

// migrationLock is the advisory lock held while migrating ("vbot").
const migrationLock = 0x76626f74

// migrate applies the embedded sql/NNNN_*.sql files above the recorded version, each in its own
// transaction with the version, under an advisory lock.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	files, err := fs.Glob(migrations, "sql/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS voicebot_schema (version integer NOT NULL, applied_ms bigint NOT NULL)`); err != nil {
		return err
	}
	// The versions applied, as a set: the numbers are assigned ahead to branches (0003 the fleet
	// foundation, 0004 the outbox, 0005 the migrate command's progress), so a database may have
	// met 0005 before 0004 existed; a number not yet applied is applied whatever its place.
	applied := map[int]bool{}
	current := 0
	rows, err := conn.Query(ctx, `SELECT version FROM voicebot_schema`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
		current = max(current, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	latest := 0
	for _, f := range files {
		if n, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f, "sql/"), "_", 2)[0]); err == nil && n > latest {
			latest = n
		}
	}
	if current > latest {
		return fmt.Errorf("the database has schema version %d, newer than this program knows (%d): use the newer program", current, latest)
	}
	for _, f := range files {
		n, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f, "sql/"), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", f)
		}
		if applied[n] || n > upTo {
			continue
		}
		body, _ := migrations.ReadFile(f)
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO voicebot_schema(version, applied_ms) VALUES ($1, $2)`, n, store.Now())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", f, err)
		}
	}
	return nil
}

// SchemaVersion is the number of the last migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM voicebot_schema`).Scan(&v)
	return v, err
}

// Stats is what the database takes on the server (the data volume is the server's: unknown here).
func (db *DB) Stats(ctx context.Context) (store.Stats, error) {
	s := store.Stats{VolumeFree: -1, VolumeSize: -1}
	err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&s.DBBytes)
	return s, err
}

// insertAudit appends an audit entry inside a transaction.
func (db *DB) insertAudit(ctx context.Context, tx pgx.Tx, e store.AuditEntry) error {
	if e.AtMs == 0 {
		e.AtMs = store.Now()
	}
	if e.Appliance == "" {
		e.Appliance = db.appliance
	}
	_, err := tx.Exec(ctx, auditInsert, e.AtMs, e.Actor, e.Action, e.Target, e.Remote, e.Detail, e.Appliance)
	return err
}

const auditInsert = `INSERT INTO audit(at_ms, actor, action, target, remote, detail, appliance) VALUES ($1, $2, $3, $4, $5, $6, $7)`

// Audit appends an entry.
func (db *DB) Audit(ctx context.Context, e store.AuditEntry) error {
	if e.AtMs == 0 {
		e.AtMs = store.Now()
	}
	if e.Appliance == "" {
		e.Appliance = db.appliance
	}
	_, err := db.exec(ctx, auditInsert, e.AtMs, e.Actor, e.Action, e.Target, e.Remote, e.Detail, e.Appliance)
	return err
}

// AuditSearch returns the entries that match, newest first.
func (db *DB) AuditSearch(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	if f.Before <= 0 {
		f.Before = 1<<62 - 1
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT id, at_ms, actor, action, target, remote, detail, appliance FROM audit
		WHERE id < $1 AND ($2 = '' OR actor = $2) AND ($3 = '' OR left(action, length($3)) = $3) AND ($5 = '' OR appliance = $5)
		ORDER BY id DESC LIMIT $4`, f.Before, f.Actor, f.Action, f.Limit, f.Appliance)
	if err != nil {
		return nil, err
	}
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.ID, &e.AtMs, &e.Actor, &e.Action, &e.Target, &e.Remote, &e.Detail, &e.Appliance); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// InsertLink stores a link's token hash with its audit entry, and drops the expired links.
func (db *DB) InsertLink(ctx context.Context, hash []byte, createdMs, expiresMs int64, audit store.AuditEntry) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM dashboard_links WHERE expires_ms < $1`, createdMs); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO dashboard_links(token_hash, created_ms, expires_ms) VALUES ($1, $2, $3)`, hash, createdMs, expiresMs); err != nil {
			return err
		}
		return db.insertAudit(ctx, tx, audit)
	})
}

// SpendLink uses up a link's token hash: true when it was stored, unused and unexpired at nowMs.
func (db *DB) SpendLink(ctx context.Context, hash []byte, nowMs int64) (bool, error) {
	tag, err := db.exec(ctx, `UPDATE dashboard_links SET used_ms = $1 WHERE token_hash = $2 AND used_ms IS NULL AND expires_ms > $1`, nowMs, hash)
	return err == nil && tag.RowsAffected() == 1, err
}

// PutSamples writes this appliance's samples (replacing its own of the same time and name) and
// drops the samples older than dropBeforeMs.
func (db *DB) PutSamples(ctx context.Context, rows []store.SampleRow, dropBeforeMs int64) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO metrics_history(at_ms, name, value, appliance) VALUES ($1, $2, $3, $4)
				ON CONFLICT (at_ms, name, appliance) DO UPDATE SET value = excluded.value`, r.AtMs, r.Name, r.Value, db.appliance); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM metrics_history WHERE at_ms < $1`, dropBeforeMs)
		return err
	})
}

// FirstSample returns the oldest sample of a name at or after sinceMs (the fleet's, as Samples
// reads it).
func (db *DB) FirstSample(ctx context.Context, name string, sinceMs int64) (store.SampleRow, bool, error) {
	s := store.SampleRow{Name: name}
	err := db.pool.QueryRow(ctx, `SELECT at_ms, `+sampleAgg+` FROM metrics_history WHERE name = $1
		AND at_ms = (SELECT min(at_ms) FROM metrics_history WHERE name = $1 AND at_ms >= $2) GROUP BY at_ms, name`,
		name, sinceMs).Scan(&s.AtMs, &s.Value)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, err
}

// sampleAgg folds the appliances' samples of one minute into the fleet's: counts add up; the
// store's size (*_bytes), which every appliance reads of the same database, is the largest.
const sampleAgg = `CASE WHEN name LIKE '%\_bytes' THEN max(value) ELSE sum(value) END`

// Samples reads the metrics history since sinceMs: the fleet's, one value per minute and name.
func (db *DB) Samples(ctx context.Context, sinceMs int64) ([]store.SampleRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT at_ms, name, `+sampleAgg+` FROM metrics_history WHERE at_ms >= $1 GROUP BY at_ms, name ORDER BY at_ms, name`, sinceMs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SampleRow, error) {
		var s store.SampleRow
		err := r.Scan(&s.AtMs, &s.Name, &s.Value)
		return s, err
	})
}

// BotTurns calls fn with each bot message written in [fromMs, toMs).
func (db *DB) BotTurns(ctx context.Context, fromMs, toMs int64, fn func(store.BotTurn)) error {
	rows, err := db.pool.Query(ctx, `SELECT created_ms, kind, intent, key_id, coalesce(latency_us, 0) FROM messages
		WHERE role = 'bot' AND created_ms >= $1 AND created_ms < $2`, fromMs, toMs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var x store.BotTurn
		if err := rows.Scan(&x.AtMs, &x.Kind, &x.Intent, &x.Key, &x.LatencyUS); err != nil {
			return err
		}
		fn(x)
	}
	return rows.Err()
}
