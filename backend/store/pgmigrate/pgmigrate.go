// Package pgmigrate copies an appliance's SQLite store (backend/store) into a PostgreSQL database
// (backend/store/postgres): `voicebot migrate --to postgres://…`, the way from one kiosk's file to
// a fleet's server.
//
// The copy reads the SQLite store in one read transaction (one consistent snapshot) with the
// appliance stopped (the command holds the data folder's instance socket, so it cannot start
// meanwhile), and writes PostgreSQL in batches: each batch in one transaction with the progress
// row that says how far the table has come (voicebot_migration, PostgreSQL migration 0005). A copy
// killed at any point goes on, when run again, from the last committed batch, with no row
// written twice. The source is named by its Identity (derived from its key) and the appliance's
// name, and described by a fingerprint (its row counts and high-water marks): a resumed run
// refuses another store, or the same store changed since the copy began. At the end the counts,
// and a summary of the content (lengths, NULLs, sums), are compared on both sides, per table.
//
// Messages and audit entries get new ids on the server (its identity columns), in the source's
// order, so that several appliances' stores can be merged into one database (--merge); sessions
// and keys keep theirs (random: a clash is refused, naming the row, unless it is the very same
// key). The TLS material: the CA keeps its name ("ca", the fleet's CA when this is the first
// appliance), the server certificate goes under "server@" and the appliance's name, as a fleet
// appliance looks it up.
package pgmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
)

// Options say what to copy where.
type Options struct {
	Source    *store.DB    // the SQLite store, opened (the appliance stopped)
	Target    *postgres.DB // the PostgreSQL database, opened (its migrations applied)
	Appliance string       // the appliance's name on the shared database (the server certificate's)
	Batch     int          // rows per transaction (DefaultBatch when 0)
	Merge     bool         // copy into a database that already holds data (other appliances')
	Restart   bool         // throw away an unfinished or outdated copy of this store and start again
	Progress  io.Writer    // where progress goes (nil: nowhere)
	Terminal  bool         // Progress is a terminal: redraw a line per table as it goes
	// AfterBatch is called after each committed batch (tests: a pause to kill the process in).
	AfterBatch func(table string, copied int64)
	Now        func() time.Time
}

// DefaultBatch is how many rows one transaction writes by default.
const DefaultBatch = 10000

// MaxBatch bounds --batch.
const MaxBatch = 50000

// TableResult is one table's outcome.
type TableResult struct {
	Table  string
	Source int64 // rows in the source (for dashboard_links: the unused, unexpired ones)
	Copied int64 // rows written to PostgreSQL
	Kept   int64 // rows not written on purpose: the same row already there, or the fleet's CA kept
	Target int64 // rows the target holds for this source, counted afresh (-1 where it cannot tell)
	// Content: the rows' content summed on both sides (lengths of texts, NULLs, use counts):
	// "ok", "DIFFERENT", or "" where not compared
	Content string
	OK      bool
}

// Result is the outcome of a run.
type Result struct {
	SourceID        string
	AlreadyComplete bool // an earlier run had finished: nothing was copied
	Resumed         bool // an earlier, unfinished run was continued
	Merge           bool
	Tables          []TableResult
	Notes           []string // what the operator must know (a CA not copied, ...)
}

// OK reports whether every table's counts agree.
func (r Result) OK() bool {
	for _, t := range r.Tables {
		if !t.OK {
			return false
		}
	}
	return len(r.Tables) > 0
}

// ErrSourceChanged means the SQLite store is not as it was when this copy began.
var ErrSourceChanged = errors.New("the SQLite store changed since this copy began")

// dataTables are the target's tables that hold an appliance's data (the check for an empty
// database, and what --restart empties).
var dataTables = []string{"sessions", "messages", "api_keys", "audit", "metrics_history", "tls_material", "pairings", "dashboard_links", "appliances"}

// Run copies o.Source into o.Target, or goes on with an earlier run's copy.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Batch > MaxBatch {
		return Result{}, fmt.Errorf("--batch is at most %d", MaxBatch)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if strings.TrimSpace(o.Appliance) == "" {
		return Result{}, errors.New("the appliance's name is empty")
	}
	// The copy is this store's as this appliance: a store restored on two kiosks (one key, one
	// identity) and merged under two names is two sources, whose shared rows then clash by id.
	res := Result{SourceID: o.Source.Identity() + "@" + o.Appliance}
	// One snapshot of the source for the whole run.
	src, err := o.Source.Read().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return res, fmt.Errorf("read the SQLite store: %w", err)
	}
	defer src.Rollback()
	fp, err := fingerprint(ctx, src)
	if err != nil {
		return res, fmt.Errorf("read the SQLite store: %w", err)
	}
	m := &run{o: o, src: src, pool: o.Target, id: res.SourceID, nowMs: o.Now().UnixMilli()}
	state, err := m.begin(ctx, fp)
	if err != nil {
		return res, err
	}
	res.Merge = state.merge
	res.Resumed = state.resumed
	if state.finished {
		res.AlreadyComplete = true
		m.finishedBefore = true
	} else {
		for _, t := range m.tables() {
			if err := m.copyTable(ctx, t); err != nil {
				return res, fmt.Errorf("copy %s: %w", t.name, err)
			}
		}
	}
	res.Tables, err = m.verify(ctx)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	res.Notes = m.notes
	if !state.finished && res.OK() {
		if _, err := o.Target.Pool().Exec(ctx, `UPDATE voicebot_migration_source SET finished_ms = $1 WHERE source_id = $2`, o.Now().UnixMilli(), m.id); err != nil {
			return res, err
		}
	}
	if notes, err := m.tlsNotes(ctx); err == nil {
		res.Notes = append(res.Notes, notes...)
	}
	return res, nil
}

// run is one run's state.
type run struct {
	o     Options
	src   *sql.Tx
	pool  *postgres.DB
	id    string
	merge bool
	nowMs int64 // the links still valid at this time are copied
	// finishedBefore: the copy was complete before this run (the target may have grown since)
	finishedBefore bool
	notes          []string
}

type beginState struct {
	merge, resumed, finished bool
}

// begin records the source (a first run) or checks it against the record (a later run).
func (m *run) begin(ctx context.Context, fp string) (beginState, error) {
	var st beginState
	pool := m.pool.Pool()
	var recFP, recSource string
	var recMerge bool
	var finished *int64
	var startedMs int64
	err := pool.QueryRow(ctx, `SELECT fingerprint, source, merge, finished_ms, started_ms FROM voicebot_migration_source WHERE source_id = $1`, m.id).
		Scan(&recFP, &recSource, &recMerge, &finished, &startedMs)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return st, err
	default:
		if recFP == fp && !m.o.Restart {
			m.merge = recMerge || m.o.Merge
			// the links still valid when the copy began are the ones it copies and counts, on
			// every run of it (a link expiring between two runs would leave it never verified)
			m.nowMs = startedMs
			return beginState{merge: m.merge, resumed: finished == nil, finished: finished != nil}, nil
		}
		if !m.o.Restart {
			what := "this copy began"
			if finished != nil {
				what = "it was copied"
			}
			return st, fmt.Errorf("%w: it is not as it was when %s (did the appliance run on it since?): "+
				"run again with --restart to copy it afresh%s\n  then: %s\n  now:  %s", ErrSourceChanged, what, restartHint(recMerge), recFP, fp)
		}
		if err := m.restart(ctx, recMerge); err != nil {
			return st, err
		}
	}
	// A first run (or a restarted one): the database must hold nothing else, unless merging.
	m.merge = m.o.Merge
	if !m.merge {
		var others []string
		rows, err := pool.Query(ctx, `SELECT source, appliance, finished_ms IS NOT NULL FROM voicebot_migration_source WHERE source_id <> $1`, m.id)
		if err != nil {
			return st, err
		}
		for rows.Next() {
			var s, name string
			var fin bool
			if err := rows.Scan(&s, &name, &fin); err != nil {
				rows.Close()
				return st, err
			}
			state := "unfinished"
			if fin {
				state = "finished"
			}
			others = append(others, fmt.Sprintf("%s as %q (%s)", s, name, state))
		}
		if err := rows.Err(); err != nil {
			return st, err
		}
		if len(others) > 0 {
			return st, fmt.Errorf("the database holds a copy of another SQLite store, or of this one under another appliance name (%s): "+
				"to go on with that copy, give the same --appliance; to add this appliance's data beside it, run again with --merge", strings.Join(others, ", "))
		}
		for _, t := range dataTables {
			var any bool
			if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&any); err != nil {
				return st, err
			}
			if any {
				return st, fmt.Errorf("the database already holds data (table %s is not empty: an appliance has used it?): "+
					"to add this appliance's data to it, run again with --merge (docs/OPERATIONS.md)", t)
			}
		}
	}
	if m.merge {
		// The rows are told apart by the appliance's name: another appliance's under the same
		// name would be counted as this store's, and the dashboard could not tell them apart.
		for _, t := range []string{"sessions", "messages", "audit", "metrics_history"} {
			var any bool
			if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+` WHERE appliance = $1)`, m.o.Appliance).Scan(&any); err != nil {
				return st, err
			}
			if any {
				return st, fmt.Errorf("the database already holds rows of an appliance named %q (table %s): "+
					"give this one a name of its own (--appliance, then appliance: in its settings file)", m.o.Appliance, t)
			}
		}
	}
	_, err = pool.Exec(ctx, `INSERT INTO voicebot_migration_source(source_id, source, appliance, fingerprint, merge, started_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
		m.id, m.o.Source.Path(), m.o.Appliance, fp, m.merge, m.nowMs)
	return beginState{merge: m.merge}, err
}

func restartHint(merge bool) string {
	if merge {
		return " (a merged copy cannot be taken out of a database others write to: restore the database from the dump made before the merge first)"
	}
	return " (this empties the database's VoiceBot tables)"
}

// restart throws an earlier copy of this source away: the database's tables are emptied, which
// is only right when this copy is all they hold.
func (m *run) restart(ctx context.Context, wasMerge bool) error {
	pool := m.pool.Pool()
	var others int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM voicebot_migration_source WHERE source_id <> $1`, m.id).Scan(&others); err != nil {
		return err
	}
	if wasMerge || others > 0 {
		return errors.New("--restart: this store's copy was merged into a database that holds other data, and its rows cannot be told from theirs: " +
			"restore the database from the dump taken before the merge, then run again")
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(dataTables, ", ")); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM voicebot_migration_source WHERE source_id = $1`, m.id)
		return err
	})
}

// fingerprint describes the source: each table's rows and high-water marks, and the sums that
// move when a row is updated in place (a session's turns, a key's uses and revocation).
func fingerprint(ctx context.Context, src *sql.Tx) (string, error) {
	queries := []struct{ name, q string }{
		{"sessions", `SELECT count(*), coalesce(max(updated_ms), 0), coalesce(sum(turns), 0) FROM sessions`},
		{"messages", `SELECT count(*), coalesce(max(id), 0), 0 FROM messages`},
		{"api_keys", `SELECT count(*), coalesce(sum(use_count), 0), count(revoked_ms) FROM api_keys`},
		{"audit", `SELECT count(*), coalesce(max(id), 0), 0 FROM audit`},
		{"metrics_history", `SELECT count(*), coalesce(max(at_ms), 0), 0 FROM metrics_history`},
		{"tls_material", `SELECT count(*), coalesce(max(created_ms), 0), 0 FROM tls_material`},
		{"pairings", `SELECT count(*), coalesce(max(created_ms), 0), count(used_ms) FROM pairings`},
		{"dashboard_links", `SELECT count(*), coalesce(max(created_ms), 0), count(used_ms) FROM dashboard_links`},
	}
	var parts []string
	for _, x := range queries {
		var a, b, c int64
		if err := src.QueryRowContext(ctx, x.q).Scan(&a, &b, &c); err != nil {
			return "", fmt.Errorf("%s: %w", x.name, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d/%d/%d", x.name, a, b, c))
	}
	return strings.Join(parts, " "), nil
}
