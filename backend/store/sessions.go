package store

// Sessions and messages on SQLite (the history package's Backend): each session's memory and
// every message, a turn's two messages with the session's row in one grouped, durable write.

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// SessionState returns a session's stored memory (JSON), false when there is none.
func (db *DB) SessionState(ctx context.Context, id string) ([]byte, bool, error) {
	var raw []byte
	err := db.r.QueryRowContext(ctx, `SELECT state FROM sessions WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return raw, true, nil
}

// SaveTurn writes a session's memory and, when t is not nil, the turn's two messages, in one
// grouped, durable transaction. The first turn (s.Turns <= 1) makes the row; a later turn updates
// the row its memory was read from, and finds none when the session was erased or purged
// meanwhile: ErrGone, and nothing is written.
func (db *DB) SaveTurn(ctx context.Context, s SessionRow, t *TurnRow) error {
	return db.Write(ctx, func(tx *Tx) error {
		state := string(s.State)
		if s.Turns <= 1 {
			if _, err := tx.Exec(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET lang = excluded.lang, state = excluded.state, turns = excluded.turns, updated_ms = excluded.updated_ms`,
				s.ID, s.Lang, state, s.KeyID, s.Turns, s.CreatedMs, s.UpdatedMs); err != nil {
				return err
			}
		} else {
			res, err := tx.Exec(`UPDATE sessions SET lang = ?, state = ?, turns = ?, updated_ms = ? WHERE id = ?`,
				s.Lang, state, s.Turns, s.UpdatedMs, s.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrGone
			}
		}
		if tx.db.opts.Outbox {
			payload, err := turnEvent(s, t)
			if err != nil {
				return err
			}
			if err := enqueue(tx, OutboxTurn, s.ID, s.UpdatedMs, payload); err != nil {
				return err
			}
		}
		if t == nil {
			return nil
		}
		var heard, offer any // NULL unless set
		if t.Heard != nil {
			heard = string(t.Heard)
		}
		if t.Offer != nil {
			offer = *t.Offer
		}
		// both messages of the turn in one statement
		_, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer)
			VALUES (?, ?, 'visitor', ?, ?, '', '', NULL, '', NULL, ?, ?, ?, NULL), (?, ?, 'bot', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
			s.ID, s.Turns, t.Visitor, t.Lang, t.KeyID, t.AtMs, heard,
			s.ID, s.Turns, t.Text, t.Lang, t.Kind, t.Intent, t.Confidence, t.Sources, t.LatencyUS, t.KeyID, t.AtMs, offer)
		return err
	})
}

// ListSessions returns sessions, most recently updated first, with the visitor's first words.
func (db *DB) ListSessions(ctx context.Context, q SessionQuery) ([]SessionRow, error) {
	q = q.Normalized()
	where := []string{"1=1"}
	var args []any
	if q.Before > 0 {
		where = append(where, "s.updated_ms < ?")
		args = append(args, q.Before)
	}
	if q.Lang != "" {
		where = append(where, "s.lang = ?")
		args = append(args, q.Lang)
	}
	if q.KeyID != "" {
		where = append(where, "s.key_id = ?")
		args = append(args, q.KeyID)
	}
	if q.Intent != "" {
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.role = 'bot' AND m.intent = ?)")
		args = append(args, q.Intent)
	}
	if q.From > 0 {
		where = append(where, "s.updated_ms >= ?")
		args = append(args, q.From)
	}
	if q.To > 0 {
		where = append(where, "s.updated_ms < ?")
		args = append(args, q.To)
	}
	if q.Search != "" {
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.text LIKE ? ESCAPE '\\')")
		args = append(args, "%"+LikeEscape(q.Search)+"%")
	}
	args = append(args, q.Limit)
	rows, err := db.r.QueryContext(ctx, `SELECT s.id, s.lang, s.key_id, s.turns, s.created_ms, s.updated_ms,
		coalesce((SELECT substr(text, 1, 80) FROM messages m WHERE m.session_id = s.id AND m.role = 'visitor' ORDER BY m.id LIMIT 1), '')
		FROM sessions s WHERE `+strings.Join(where, " AND ")+` ORDER BY s.updated_ms DESC, s.id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SessionRow
	for rows.Next() {
		var x SessionRow
		if err := rows.Scan(&x.ID, &x.Lang, &x.KeyID, &x.Turns, &x.CreatedMs, &x.UpdatedMs, &x.Preview); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// LikeEscape escapes a LIKE pattern's wildcards (with \ as the escape character).
func LikeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Session returns one session's row (without its state), ErrNotFound when there is none.
func (db *DB) Session(ctx context.Context, id string) (SessionRow, error) {
	var x SessionRow
	err := db.r.QueryRowContext(ctx, `SELECT id, lang, key_id, turns, created_ms, updated_ms FROM sessions WHERE id = ?`, id).
		Scan(&x.ID, &x.Lang, &x.KeyID, &x.Turns, &x.CreatedMs, &x.UpdatedMs)
	if errors.Is(err, sql.ErrNoRows) {
		return x, ErrNotFound
	}
	return x, err
}

// SessionMessages returns a session's messages in order (ErrNotFound when there is no session).
func (db *DB) SessionMessages(ctx context.Context, id string) ([]MessageRow, error) {
	var exists int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE id = ?`, id).Scan(&exists); err != nil {
		return nil, err
	}
	if exists == 0 {
		return nil, ErrNotFound
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer FROM messages WHERE session_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []MessageRow{}
	for rows.Next() {
		var m MessageRow
		var conf sql.NullFloat64
		var lat sql.NullInt64
		var heard, offer sql.NullString
		if err := rows.Scan(&m.ID, &m.Turn, &m.Role, &m.Text, &m.Lang, &m.Kind, &m.Intent, &conf, &m.Sources, &lat, &m.KeyID, &m.AtMs, &heard, &offer); err != nil {
			return nil, err
		}
		if heard.Valid {
			m.Heard = []byte(heard.String)
		}
		m.Offer = offer.String
		if conf.Valid {
			m.Confidence = &conf.Float64
		}
		if lat.Valid {
			m.LatencyUS = &lat.Int64
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// EraseSession deletes a session with its messages and writes the audit entry in the same
// transaction (ErrNotFound when there is no session). With secure_delete on, the deleted rows
// are zeroed in their pages.
func (db *DB) EraseSession(ctx context.Context, id string, audit AuditEntry) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM sessions WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if tx.db.opts.Outbox {
			// its turns not yet shipped never leave the kiosk; the event erases the shipped ones
			if _, err := tx.Exec(`DELETE FROM outbox WHERE kind = 'turn' AND session_id = ?`, id); err != nil {
				return err
			}
			if err := enqueue(tx, OutboxErase, id, audit.AtMs, EraseEvent{SessionID: id}); err != nil {
				return err
			}
		}
		return InsertAudit(tx, audit)
	})
}

// PurgeSessions deletes the sessions not updated since beforeMs with their messages and, when
// any went, writes audit(n) in the same transaction; it returns how many went.
func (db *DB) PurgeSessions(ctx context.Context, beforeMs int64, audit func(n int64) AuditEntry) (int64, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		if tx.db.opts.Outbox {
			// the purged sessions' turns not yet shipped never leave the kiosk
			if _, err := tx.Exec(`DELETE FROM outbox WHERE kind = 'turn' AND session_id IN (SELECT id FROM sessions WHERE updated_ms < ?)`, beforeMs); err != nil {
				return err
			}
		}
		res, err := tx.Exec(`DELETE FROM sessions WHERE updated_ms < ?`, beforeMs)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if n > 0 {
			if err := enqueue(tx, OutboxPurge, "", 0, PurgeEvent{BeforeMs: beforeMs, N: n}); err != nil {
				return err
			}
			return InsertAudit(tx, audit(n))
		}
		return nil
	})
	if err != nil {
		n = 0
	}
	return n, err
}
