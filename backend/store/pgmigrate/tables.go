package pgmigrate

// The tables copied, in an order the foreign keys accept (sessions before their messages): how
// each is read from SQLite in key order after the last key copied, and written to PostgreSQL.

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// table is one table's copy.
type table struct {
	name  string
	count string // SQLite: the rows to copy
	// read returns the next rows after the key `after` ("" = from the first), at most limit, and
	// the last one's key.
	read func(ctx context.Context, src *sql.Tx, after string, limit int) (rows [][]any, last string, err error)
	// write writes rows in tx: how many it wrote and how many it kept out on purpose.
	write func(ctx context.Context, tx pgx.Tx, rows [][]any) (copied, kept int64, err error)
	// target counts what the target holds of this source (-1: it cannot tell, on a merge).
	target func(ctx context.Context, db pgx.Tx) (int64, error)
	// sums is a summary of the rows' content (SQL that both databases run alike, one text
	// value): the same on both sides when no value was lost or changed on the way. mine is the
	// target's version for this appliance's rows on a merge ("": not checked on a merge).
	sums, mine string
}

func (m *run) tables() []table {
	return []table{m.tlsTable(), m.keysTable(), m.sessionsTable(), m.messagesTable(), m.auditTable(), m.samplesTable(), m.pairingsTable(), m.linksTable()}
}

// scanRows reads every row of a query as []any, with the key of the last row made by key.
func scanRows(ctx context.Context, src *sql.Tx, q string, ncol int, key func(row []any) string, args ...any) ([][]any, string, error) {
	rs, err := src.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rs.Close()
	var out [][]any
	for rs.Next() {
		row := make([]any, ncol)
		ptrs := make([]any, ncol)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, "", err
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		return nil, "", err
	}
	last := ""
	if len(out) > 0 {
		last = key(out[len(out)-1])
	}
	return out, last, nil
}

// text is a TEXT column as a string (SQLite hands TEXT to Go as a string, a BLOB as []byte).
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// nullText is a nullable TEXT column: nil stays nil (NULL).
func nullText(v any) any {
	if v == nil {
		return nil
	}
	return text(v)
}

func intKey(row []any) string  { return strconv.FormatInt(row[0].(int64), 10) }
func textKey(row []any) string { return text(row[0]) }
func blobKey(row []any) string { return hex.EncodeToString(row[0].([]byte)) }

func intAfter(after string) int64 {
	n, _ := strconv.ParseInt(after, 10, 64)
	return n
}

func blobAfter(after string) []byte {
	b, _ := hex.DecodeString(after)
	return b
}

// copyInto writes rows with COPY (the fastest way in): tables whose rows cannot clash.
func copyInto(ctx context.Context, tx pgx.Tx, tbl string, cols []string, rows [][]any) (int64, error) {
	return tx.CopyFrom(ctx, pgx.Identifier{tbl}, cols, pgx.CopyFromRows(rows))
}

func (m *run) sessionsTable() table {
	return table{
		name:  "sessions",
		count: `SELECT count(*) FROM sessions`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			rows, last, err := scanRows(ctx, src, `SELECT id, lang, state, key_id, turns, created_ms, updated_ms FROM sessions WHERE id > ? ORDER BY id LIMIT ?`, 7, textKey, after, limit)
			for i, r := range rows {
				r[0], r[1], r[2], r[3] = text(r[0]), text(r[1]), text(r[2]), text(r[3])
				rows[i] = append(r, m.o.Appliance) // after: append may copy r
			}
			return rows, last, err
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			// Session ids are random (48 bits of time, 80 of chance): a clash means this very store
			// was copied into the database before (a restored backup of it, say), and is refused.
			n, err := copyInto(ctx, tx, "sessions", []string{"id", "lang", "state", "key_id", "turns", "created_ms", "updated_ms", "appliance"}, rows)
			if isUniqueViolation(err) {
				return 0, 0, clash("session", rows)
			}
			return n, 0, err
		},
		target: m.countOf(`SELECT count(*) FROM sessions`, `SELECT count(*) FROM sessions WHERE appliance = $1`),
		sums:   `SELECT coalesce(sum(length(state)), 0) || '/' || coalesce(sum(turns), 0) || '/' || coalesce(sum(length(key_id) + length(lang)), 0) || '/' || coalesce(sum(updated_ms - created_ms), 0) FROM sessions`,
		mine:   `SELECT coalesce(sum(length(state)), 0) || '/' || coalesce(sum(turns), 0) || '/' || coalesce(sum(length(key_id) + length(lang)), 0) || '/' || coalesce(sum(updated_ms - created_ms), 0) FROM sessions WHERE appliance = $1`,
	}
}

// clash is the refusal of rows whose ids the database holds already.
func clash(what string, rows [][]any) error {
	return fmt.Errorf("a %s of this store is already in the database (ids %s … %s): was this store, or a copy of it, migrated into it before? "+
		"Nothing of this batch was written", what, text(rows[0][0]), text(rows[len(rows)-1][0]))
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (m *run) messagesTable() table {
	return table{
		name:  "messages",
		count: `SELECT count(*) FROM messages`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			rows, last, err := scanRows(ctx, src, `SELECT id, session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer
				FROM messages WHERE id > ? ORDER BY id LIMIT ?`, 15, intKey, intAfter(after), limit)
			for i, r := range rows {
				// the id stays behind: the server numbers the rows (in this order), so that stores merge
				rows[i] = []any{text(r[1]), r[2], text(r[3]), text(r[4]), text(r[5]), text(r[6]), text(r[7]), r[8], text(r[9]), r[10], text(r[11]), r[12], nullText(r[13]), nullText(r[14]), m.o.Appliance}
			}
			return rows, last, err
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			n, err := copyInto(ctx, tx, "messages", []string{"session_id", "turn", "role", "text", "lang", "kind", "intent", "confidence", "sources", "latency_us", "key_id", "created_ms", "heard", "offer", "appliance"}, rows)
			return n, 0, err
		},
		target: m.countOf(`SELECT count(*) FROM messages`, `SELECT count(*) FROM messages WHERE appliance = $1`),
		sums:   `SELECT count(heard) || '/' || count(offer) || '/' || count(confidence) || '/' || coalesce(sum(length(text)), 0) || '/' || coalesce(sum(turn), 0) || '/' || coalesce(sum(length(sources)), 0) FROM messages`,
		mine:   `SELECT count(heard) || '/' || count(offer) || '/' || count(confidence) || '/' || coalesce(sum(length(text)), 0) || '/' || coalesce(sum(turn), 0) || '/' || coalesce(sum(length(sources)), 0) FROM messages WHERE appliance = $1`,
	}
}

func (m *run) auditTable() table {
	return table{
		name:  "audit",
		count: `SELECT count(*) FROM audit`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			rows, last, err := scanRows(ctx, src, `SELECT id, at_ms, actor, action, target, remote, detail FROM audit WHERE id > ? ORDER BY id LIMIT ?`, 7, intKey, intAfter(after), limit)
			for i, r := range rows {
				rows[i] = []any{r[1], text(r[2]), text(r[3]), text(r[4]), text(r[5]), text(r[6]), m.o.Appliance}
			}
			return rows, last, err
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			n, err := copyInto(ctx, tx, "audit", []string{"at_ms", "actor", "action", "target", "remote", "detail", "appliance"}, rows)
			return n, 0, err
		},
		target: m.countOf(`SELECT count(*) FROM audit`, `SELECT count(*) FROM audit WHERE appliance = $1`),
		sums:   `SELECT coalesce(sum(length(action) + length(target) + length(detail)), 0) FROM audit`,
		mine:   `SELECT coalesce(sum(length(action) + length(target) + length(detail)), 0) FROM audit WHERE appliance = $1`,
	}
}

func (m *run) samplesTable() table {
	return table{
		name:  "metrics_history",
		count: `SELECT count(*) FROM metrics_history`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			at, name := int64(-1<<62), ""
			if a, n, ok := strings.Cut(after, " "); ok {
				at, name = intAfter(a), n
			}
			return scanRows(ctx, src, `SELECT at_ms, name, value FROM metrics_history WHERE (at_ms, name) > (?, ?) ORDER BY at_ms, name LIMIT ?`, 3,
				func(r []any) string { return strconv.FormatInt(r[0].(int64), 10) + " " + text(r[1]) }, at, name, limit)
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			// the samples are the appliance's own (part of the key: several appliances' minutes
			// stand side by side, read summed)
			for i, r := range rows {
				rows[i] = []any{r[0], text(r[1]), r[2], m.o.Appliance}
			}
			n, err := copyInto(ctx, tx, "metrics_history", []string{"at_ms", "name", "value", "appliance"}, rows)
			return n, 0, err
		},
		target: m.countOf(`SELECT count(*) FROM metrics_history`, `SELECT count(*) FROM metrics_history WHERE appliance = $1`),
	}
}

func (m *run) keysTable() table {
	return table{
		name:  "api_keys",
		count: `SELECT count(*) FROM api_keys`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			rows, last, err := scanRows(ctx, src, `SELECT id, name, hash, scopes, origins, rate, created_ms, expires_ms, revoked_ms, last_used_ms, use_count, rotated_from
				FROM api_keys WHERE id > ? ORDER BY id LIMIT ?`, 12, textKey, after, limit)
			for _, r := range rows {
				r[0], r[1], r[3], r[4], r[5], r[11] = text(r[0]), text(r[1]), text(r[3]), text(r[4]), text(r[5]), text(r[11])
			}
			return rows, last, err
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			var copied, kept int64
			for _, r := range rows {
				tag, err := tx.Exec(ctx, `INSERT INTO api_keys(id, name, hash, scopes, origins, rate, created_ms, expires_ms, revoked_ms, last_used_ms, use_count, rotated_from)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`, r...)
				if err != nil {
					return 0, 0, err
				}
				if tag.RowsAffected() == 1 {
					copied++
					continue
				}
				// The same key already there (this store was a copy of another that was merged
				// before): kept as it is. A different key under the same id is refused.
				var hash []byte
				err = tx.QueryRow(ctx, `SELECT hash FROM api_keys WHERE id = $1`, r[0]).Scan(&hash)
				if err == nil && string(hash) == string(r[2].([]byte)) {
					kept++
					continue
				}
				return 0, 0, fmt.Errorf("key %s: the database holds another key with this id or this key under another id: "+
					"revoke and remake it on one of the two appliances, then run again", text(r[0]))
			}
			return copied, kept, nil
		},
		target: m.countOf(`SELECT count(*) FROM api_keys`, ""),
		sums:   `SELECT count(revoked_ms) || '/' || count(expires_ms) || '/' || coalesce(sum(use_count), 0) || '/' || coalesce(sum(length(scopes) + length(origins) + length(rate)), 0) FROM api_keys`,
	}
}

// serverCertName is where this appliance's server certificate goes on the shared database.
func (m *run) serverCertName() string { return "server@" + m.o.Appliance }

func (m *run) tlsTable() table {
	return table{
		name:  "tls_material",
		count: `SELECT count(*) FROM tls_material`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			rows, last, err := scanRows(ctx, src, `SELECT name, cert_pem, key_pem, created_ms FROM tls_material WHERE name > ? ORDER BY name LIMIT ?`, 4, textKey, after, limit)
			for _, r := range rows {
				r[0], r[1], r[2] = text(r[0]), text(r[1]), text(r[2])
			}
			return rows, last, err
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			var copied, kept int64
			for _, r := range rows {
				name := r[0].(string)
				switch name {
				case "ca":
					tag, err := tx.Exec(ctx, `INSERT INTO tls_material(name, cert_pem, key_pem, created_ms) VALUES ('ca', $1, $2, $3) ON CONFLICT (name) DO NOTHING`, r[1], r[2], r[3])
					if err != nil {
						return 0, 0, err
					}
					if tag.RowsAffected() == 1 {
						copied++
					} else {
						kept++ // the fleet's CA stays; tlsNotes says what that means for the tablets
					}
					continue
				case "server":
					name = m.serverCertName()
				}
				tag, err := tx.Exec(ctx, `INSERT INTO tls_material(name, cert_pem, key_pem, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`, name, r[1], r[2], r[3])
				if err != nil {
					return 0, 0, err
				}
				if tag.RowsAffected() == 0 {
					return 0, 0, fmt.Errorf("the database already holds a server certificate for an appliance named %q: "+
						"each appliance on a shared database needs a name of its own (--appliance, or appliance: in the settings file)", m.o.Appliance)
				}
				copied++
			}
			return copied, kept, nil
		},
		target: m.countOf(`SELECT count(*) FROM tls_material`, ""),
	}
}

func (m *run) pairingsTable() table {
	return table{
		name:  "pairings",
		count: `SELECT count(*) FROM pairings`,
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			rows, last, err := scanRows(ctx, src, `SELECT code_hash, screen, created_by, created_ms, expires_ms, used_ms, key_id FROM pairings WHERE code_hash > ? ORDER BY code_hash LIMIT ?`, 7, blobKey, blobAfter(after), limit)
			for _, r := range rows {
				r[1], r[2], r[6] = text(r[1]), text(r[2]), text(r[6])
			}
			return rows, last, err
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			return insertEach(ctx, tx, `INSERT INTO pairings(code_hash, screen, created_by, created_ms, expires_ms, used_ms, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, rows)
		},
		target: m.countOf(`SELECT count(*) FROM pairings`, ""),
	}
}

// linksTable copies the dashboard sign-in links still usable (unused, unexpired): a link printed
// a minute before the switch still signs in after it. The others are of no use to anyone.
func (m *run) linksTable() table {
	return table{
		name:  "dashboard_links",
		count: `SELECT count(*) FROM dashboard_links WHERE used_ms IS NULL AND expires_ms > ` + strconv.FormatInt(m.nowMs, 10),
		read: func(ctx context.Context, src *sql.Tx, after string, limit int) ([][]any, string, error) {
			return scanRows(ctx, src, `SELECT token_hash, created_ms, expires_ms FROM dashboard_links WHERE used_ms IS NULL AND expires_ms > ? AND token_hash > ? ORDER BY token_hash LIMIT ?`, 3, blobKey, m.nowMs, blobAfter(after), limit)
		},
		write: func(ctx context.Context, tx pgx.Tx, rows [][]any) (int64, int64, error) {
			return insertEach(ctx, tx, `INSERT INTO dashboard_links(token_hash, created_ms, expires_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, rows)
		},
		target: m.countOf(`SELECT count(*) FROM dashboard_links`, ""),
	}
}

// insertEach inserts row by row, counting the rows already there as kept.
func insertEach(ctx context.Context, tx pgx.Tx, q string, rows [][]any) (int64, int64, error) {
	var copied, kept int64
	for _, r := range rows {
		tag, err := tx.Exec(ctx, q, r...)
		if err != nil {
			return 0, 0, err
		}
		copied += tag.RowsAffected()
		kept += 1 - tag.RowsAffected()
	}
	return copied, kept, nil
}

// countOf counts the target's rows of a table: all of them (q), or on a merge those stamped with
// this appliance's name (mine; "" where the table's rows carry no name: -1, the count cannot
// tell this store's rows from others'); -1 after a copy that finished in an earlier run (the
// appliance may have written since).
func (m *run) countOf(q, mine string) func(ctx context.Context, tx pgx.Tx) (int64, error) {
	return func(ctx context.Context, tx pgx.Tx) (int64, error) {
		var args []any
		switch {
		case m.finishedBefore, m.merge && mine == "":
			return -1, nil
		case m.merge:
			q, args = mine, []any{m.o.Appliance}
		}
		var n int64
		err := tx.QueryRow(ctx, q, args...).Scan(&n)
		return n, err
	}
}

// copyTable copies one table from where the last committed batch left it.
func (m *run) copyTable(ctx context.Context, t table) error {
	pool := m.pool.Pool()
	var total int64
	if err := m.src.QueryRowContext(ctx, t.count).Scan(&total); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `INSERT INTO voicebot_migration(source_id, tbl, total) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, m.id, t.name, total); err != nil {
		return err
	}
	var last string
	var copied, kept int64
	var done bool
	if err := pool.QueryRow(ctx, `SELECT last_key, copied, kept, done FROM voicebot_migration WHERE source_id = $1 AND tbl = $2`, m.id, t.name).
		Scan(&last, &copied, &kept, &done); err != nil {
		return err
	}
	p := newProgress(m.o.Progress, m.o.Terminal, t.name, total, copied+kept)
	if done {
		p.finish("already copied")
		return nil
	}
	// The next batch is read from SQLite while this one is written to PostgreSQL.
	batches := m.readAhead(ctx, t, last)
	defer batches.stop()
	for b := range batches.ch {
		rows, next, err := b.rows, b.next, b.err
		if err != nil {
			p.abort()
			return fmt.Errorf("read: %w", err)
		}
		end := len(rows) < m.o.Batch
		var c, k int64
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if len(rows) > 0 {
				if c, k, err = t.write(ctx, tx, rows); err != nil {
					return err
				}
			} else {
				next = last
			}
			_, err := tx.Exec(ctx, `UPDATE voicebot_migration SET last_key = $3, copied = copied + $4, kept = kept + $5, done = $6 WHERE source_id = $1 AND tbl = $2`,
				m.id, t.name, next, c, k, end)
			return err
		})
		if err != nil {
			p.abort()
			return err
		}
		last, copied, kept = next, copied+c, kept+k
		p.update(copied + kept)
		if m.o.AfterBatch != nil {
			m.o.AfterBatch(t.name, copied)
		}
		if end {
			p.finish("")
			return nil
		}
	}
	p.abort()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("the reader stopped early")
}

// batch is one batch read from the source.
type batch struct {
	rows [][]any
	next string
	err  error
}

// reader reads a table's batches ahead, one at a time, on a goroutine of its own.
type reader struct {
	ch     chan batch
	cancel context.CancelFunc
}

func (m *run) readAhead(ctx context.Context, t table, after string) *reader {
	rctx, cancel := context.WithCancel(ctx)
	r := &reader{ch: make(chan batch, 1), cancel: cancel}
	go func() {
		defer close(r.ch)
		for {
			rows, next, err := t.read(rctx, m.src, after, m.o.Batch)
			select {
			case r.ch <- batch{rows, next, err}:
			case <-rctx.Done():
				return
			}
			if err != nil || len(rows) < m.o.Batch {
				return
			}
			after = next
		}
	}()
	return r
}

// stop ends the reader and waits for it: the source's transaction is used by one goroutine at a
// time.
func (r *reader) stop() {
	r.cancel()
	for range r.ch {
	}
}

// verify compares, per table, the source's rows now with those recorded at the start and those
// copied and kept, and (when the database holds only this store) with the target's rows.
func (m *run) verify(ctx context.Context) ([]TableResult, error) {
	var out []TableResult
	err := pgx.BeginTxFunc(ctx, m.pool.Pool(), pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		for _, t := range m.tables() {
			r := TableResult{Table: t.name, Target: -1}
			var recorded int64
			var done bool
			err := tx.QueryRow(ctx, `SELECT total, copied, kept, done FROM voicebot_migration WHERE source_id = $1 AND tbl = $2`, m.id, t.name).
				Scan(&recorded, &r.Copied, &r.Kept, &done)
			if errors.Is(err, pgx.ErrNoRows) {
				out = append(out, r)
				continue
			}
			if err != nil {
				return err
			}
			r.Source = recorded
			if t.name != "dashboard_links" { // links expire as time passes: the count recorded is the one
				if err := m.src.QueryRowContext(ctx, t.count).Scan(&r.Source); err != nil {
					return err
				}
			}
			if r.Target, err = t.target(ctx, tx); err != nil {
				return err
			}
			if r.Content, err = m.compareSums(ctx, tx, t); err != nil {
				return err
			}
			r.OK = done && r.Source == recorded && r.Copied+r.Kept == r.Source && (r.Target < 0 || r.Target == r.Copied) && r.Content != "DIFFERENT"
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// compareSums compares a table's content summary on both sides: "ok", "DIFFERENT", or "" where it
// is not checked (no summary; a merge without this appliance's rows told apart; a copy finished
// in an earlier run, the target since written to).
func (m *run) compareSums(ctx context.Context, tx pgx.Tx, t table) (string, error) {
	q, args := t.sums, []any(nil)
	switch {
	case t.sums == "", m.finishedBefore, m.merge && t.mine == "":
		return "", nil
	case m.merge:
		q, args = t.mine, []any{m.o.Appliance}
	}
	var src, dst string
	if err := m.src.QueryRowContext(ctx, t.sums).Scan(&src); err != nil {
		return "", fmt.Errorf("%s (SQLite): %w", t.name, err)
	}
	if err := tx.QueryRow(ctx, q, args...).Scan(&dst); err != nil {
		return "", fmt.Errorf("%s (PostgreSQL): %w", t.name, err)
	}
	if src != dst {
		return "DIFFERENT", nil
	}
	return "ok", nil
}

// tlsNotes says what the operator must know of the TLS material after the copy.
func (m *run) tlsNotes(ctx context.Context) ([]string, error) {
	var srcCA string
	if err := m.src.QueryRowContext(ctx, `SELECT cert_pem FROM tls_material WHERE name = 'ca'`).Scan(&srcCA); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, err
	}
	var dstCA string
	if err := m.pool.Pool().QueryRow(ctx, `SELECT cert_pem FROM tls_material WHERE name = 'ca'`).Scan(&dstCA); err != nil {
		return nil, err
	}
	if dstCA == srcCA {
		return []string{"TLS: this appliance's CA is the database's CA: the tablets that trust this appliance go on trusting it, and every appliance on the database"}, nil
	}
	return []string{"TLS: the database already had a CA (another appliance's, the fleet's); it is kept and this appliance's is not copied. " +
		"On its first start on PostgreSQL this appliance issues itself a server certificate from the fleet's CA: " +
		"the tablets that trusted this appliance's own CA must be given the fleet's (voicebot tls ca --store …) or be paired again"}, nil
}

// elapsed formats a duration for the progress lines.
func elapsed(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
