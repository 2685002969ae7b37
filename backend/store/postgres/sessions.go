package postgres

// Sessions and messages on PostgreSQL (history's Backend). A turn is one statement: the
// session's row (made by the first turn, updated by the later ones) and the turn's two
// messages, so one round trip and one commit.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
)

// SessionState returns a session's stored memory (JSON), false when there is none.
func (db *DB) SessionState(ctx context.Context, id string) ([]byte, bool, error) {
	var raw string
	err := db.pool.QueryRow(ctx, `SELECT state FROM sessions WHERE id = $1`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return []byte(raw), true, nil
}

// insertTurn inserts the turn's two messages after the session's row s (a CTE), only if it is
// there; its parameters are numbered from $n+1.
func insertTurn(n int) string {
	p := func(i int) string { return "$" + strconv.Itoa(n+i) }
	return ` INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer, appliance)
	SELECT s.id, s.turns, m.role, m.text, ` + p(1) + `::text, m.kind, m.intent, m.confidence, m.sources, m.latency_us, ` + p(2) + `::text, ` + p(3) + `::bigint, m.heard, m.offer, ` + p(13) + `::text
	FROM s CROSS JOIN (VALUES
		(0, 'visitor', ` + p(4) + `::text, '', '', NULL::double precision, '', NULL::bigint, ` + p(5) + `::jsonb, NULL::text),
		(1, 'bot', ` + p(6) + `::text, ` + p(7) + `::text, ` + p(8) + `::text, ` + p(9) + `::double precision, ` + p(10) + `::text, ` + p(11) + `::bigint, NULL::jsonb, ` + p(12) + `::text)
	) AS m(ord, role, text, kind, intent, confidence, sources, latency_us, heard, offer)
	ORDER BY m.ord`
}

// SaveTurn writes a session's memory and, when t is not nil, the turn's two messages, committed
// before it returns. A later turn (s.Turns > 1) finding no row for its session (erased or purged
// meanwhile) writes nothing: store.ErrGone.
func (db *DB) SaveTurn(ctx context.Context, s store.SessionRow, t *store.TurnRow) error {
	first := s.Turns <= 1
	var row string
	var args []any
	if first {
		row = `INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms, appliance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT(id) DO UPDATE SET lang = excluded.lang, state = excluded.state, turns = excluded.turns, updated_ms = excluded.updated_ms
			RETURNING id, turns`
		args = []any{s.ID, s.Lang, string(s.State), s.KeyID, s.Turns, s.CreatedMs, s.UpdatedMs, db.appliance}
	} else {
		row = `UPDATE sessions SET lang = $2, state = $3, turns = $4, updated_ms = $5 WHERE id = $1 RETURNING id, turns`
		args = []any{s.ID, s.Lang, string(s.State), s.Turns, s.UpdatedMs}
	}
	if t == nil {
		tag, err := db.exec(ctx, row, args...)
		if err == nil && !first && tag.RowsAffected() == 0 {
			return store.ErrGone
		}
		return err
	}
	var heard, offer any
	if t.Heard != nil {
		heard = string(t.Heard)
	}
	if t.Offer != nil {
		offer = *t.Offer
	}
	n := len(args)
	args = append(args, t.Lang, t.KeyID, t.AtMs, t.Visitor, heard, t.Text, t.Kind, t.Intent, t.Confidence, t.Sources, t.LatencyUS, offer, db.appliance)
	tag, err := db.exec(ctx, `WITH s AS (`+row+`)`+insertTurn(n), args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if first {
			return fmt.Errorf("session %s: the turn's messages were not written", s.ID)
		}
		return store.ErrGone
	}
	return nil
}

// ListSessions returns sessions, most recently updated first, with the visitor's first words.
func (db *DB) ListSessions(ctx context.Context, q store.SessionQuery) ([]store.SessionRow, error) {
	q = q.Normalized()
	where := []string{"true"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.Before > 0 {
		where = append(where, "s.updated_ms < "+arg(q.Before))
	}
	if q.Lang != "" {
		where = append(where, "s.lang = "+arg(q.Lang))
	}
	if q.KeyID != "" {
		where = append(where, "s.key_id = "+arg(q.KeyID))
	}
	if q.Intent != "" {
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.role = 'bot' AND m.intent = "+arg(q.Intent)+")")
	}
	if q.Appliance != "" { // sessions this appliance answered a turn of
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.appliance = "+arg(q.Appliance)+" AND m.session_id = s.id)")
	}
	if q.From > 0 {
		where = append(where, "s.updated_ms >= "+arg(q.From))
	}
	if q.To > 0 {
		where = append(where, "s.updated_ms < "+arg(q.To))
	}
	if q.Search != "" {
		// ILIKE: case-insensitive, as SQLite's LIKE is (for ASCII)
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.text ILIKE "+arg("%"+store.LikeEscape(q.Search)+"%")+` ESCAPE '\')`)
	}
	limit := arg(q.Limit)
	rows, err := db.pool.Query(ctx, `SELECT s.id, s.lang, s.key_id, s.turns, s.created_ms, s.updated_ms, s.appliance,
		coalesce((SELECT substr(text, 1, 80) FROM messages m WHERE m.session_id = s.id AND m.role = 'visitor' ORDER BY m.turn, m.id LIMIT 1), '')
		FROM sessions s WHERE `+strings.Join(where, " AND ")+` ORDER BY s.updated_ms DESC, s.id LIMIT `+limit, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SessionRow, error) {
		var x store.SessionRow
		err := r.Scan(&x.ID, &x.Lang, &x.KeyID, &x.Turns, &x.CreatedMs, &x.UpdatedMs, &x.Appliance, &x.Preview)
		return x, err
	})
}

// Session returns one session's row (without its state), store.ErrNotFound when there is none.
func (db *DB) Session(ctx context.Context, id string) (store.SessionRow, error) {
	var x store.SessionRow
	err := db.pool.QueryRow(ctx, `SELECT id, lang, key_id, turns, created_ms, updated_ms, appliance FROM sessions WHERE id = $1`, id).
		Scan(&x.ID, &x.Lang, &x.KeyID, &x.Turns, &x.CreatedMs, &x.UpdatedMs, &x.Appliance)
	if errors.Is(err, pgx.ErrNoRows) {
		return x, store.ErrNotFound
	}
	return x, err
}

// SessionMessages returns a session's messages in order (store.ErrNotFound when there is no
// session).
func (db *DB) SessionMessages(ctx context.Context, id string) ([]store.MessageRow, error) {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)`, id).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, store.ErrNotFound
	}
	rows, err := db.pool.Query(ctx, `SELECT id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard::text, coalesce(offer, ''), appliance
		FROM messages WHERE session_id = $1 ORDER BY turn, id`, id)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MessageRow, error) {
		var m store.MessageRow
		var heard *string
		err := r.Scan(&m.ID, &m.Turn, &m.Role, &m.Text, &m.Lang, &m.Kind, &m.Intent, &m.Confidence, &m.Sources, &m.LatencyUS, &m.KeyID, &m.AtMs, &heard, &m.Offer, &m.Appliance)
		if heard != nil {
			m.Heard = []byte(*heard)
		}
		return m, err
	})
	if out == nil && err == nil {
		out = []store.MessageRow{}
	}
	return out, err
}

// EraseSession deletes a session with its messages, with its audit entry (store.ErrNotFound
// when there is no session).
func (db *DB) EraseSession(ctx context.Context, id string, audit store.AuditEntry) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return db.insertAudit(ctx, tx, audit)
	})
}

// PurgeSessions deletes the sessions not updated since beforeMs with their messages and, when
// any went, writes audit(n) in the same transaction.
func (db *DB) PurgeSessions(ctx context.Context, beforeMs int64, audit func(n int64) store.AuditEntry) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE updated_ms < $1`, beforeMs)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n > 0 {
			return db.insertAudit(ctx, tx, audit(n))
		}
		return nil
	})
	if err != nil {
		n = 0
	}
	return n, err
}
