package store

// The outbox of a kiosk that forwards to a fleet's PostgreSQL (fleet: in the settings; the
// shipper is backend/fleet, the ingest backend/store/postgres). A store opened with
// Options{Outbox: true} writes, in the same transaction as the change itself, one outbox row for
// every turn (SaveTurn), audit entry (InsertAudit: Audit and every write that audits), erase
// (EraseSession) and purge (PurgeSessions). A row's payload is self-contained JSON, so shipping
// does not depend on the rows it came from still existing; an erase also deletes its session's
// turns not yet shipped (they never leave the kiosk), and its event erases the shipped ones on
// the fleet database. Rows are numbered by seq (AUTOINCREMENT: never reused), which the fleet
// database's high-water mark makes idempotent: a batch shipped twice is applied once.

import (
	"context"
	"encoding/json"
)

// Kinds of outbox rows.
const (
	OutboxTurn  = "turn"
	OutboxAudit = "audit"
	OutboxErase = "erase"
	OutboxPurge = "purge"
)

// Options are how a store is opened.
type Options struct {
	// Outbox has every turn, audit entry, erase and purge written to the outbox too, for the
	// fleet shipper (backend/fleet).
	Outbox bool
}

// OutboxSource is the kiosk an outbox is shipped from: its appliance name (stamped on the rows),
// its version and when it started (the fleet database's appliances list shows them).
type OutboxSource struct {
	Appliance string
	StoreID   string // the kiosk store's Identity: the outbox seqs are that store's
	Version   string
	StartedMs int64
}

// OutboxRow is one change waiting to be shipped to the fleet database.
type OutboxRow struct {
	Seq       int64
	Kind      string // OutboxTurn, OutboxAudit, OutboxErase or OutboxPurge
	SessionID string
	AtMs      int64
	Payload   []byte // JSON: TurnEvent, AuditEntry, EraseEvent or PurgeEvent
}

// TurnEvent is a turn's outbox payload: the session's row after the turn and, unless the save
// was of the memory alone, the turn's two messages.
type TurnEvent struct {
	Session struct {
		ID        string `json:"id"`
		Lang      string `json:"lang"`
		KeyID     string `json:"key_id"`
		State     string `json:"state"`
		Turns     int    `json:"turns"`
		CreatedMs int64  `json:"created_ms"`
		UpdatedMs int64  `json:"updated_ms"`
	} `json:"session"`
	Turn *TurnEventMessages `json:"turn,omitempty"`
}

// TurnEventMessages is a turn's two messages in its outbox payload (TurnRow as JSON).
type TurnEventMessages struct {
	Visitor    string  `json:"visitor"`
	Heard      *string `json:"heard,omitempty"`
	Text       string  `json:"text"`
	Lang       string  `json:"lang"`
	Kind       string  `json:"kind"`
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
	Sources    string  `json:"sources"`
	LatencyUS  int64   `json:"latency_us"`
	Offer      *string `json:"offer,omitempty"`
	KeyID      string  `json:"key_id"`
	AtMs       int64   `json:"at_ms"`
}

// EraseEvent is an erase's outbox payload.
type EraseEvent struct {
	SessionID string `json:"session_id"`
}

// PurgeEvent is a purge's outbox payload: the sessions not updated since BeforeMs went.
type PurgeEvent struct {
	BeforeMs int64 `json:"before_ms"`
	N        int64 `json:"n"`
}

// turnEvent is the outbox payload of SaveTurn(s, t).
func turnEvent(s SessionRow, t *TurnRow) ([]byte, error) {
	var e TurnEvent
	e.Session.ID, e.Session.Lang, e.Session.KeyID, e.Session.State = s.ID, s.Lang, s.KeyID, string(s.State)
	e.Session.Turns, e.Session.CreatedMs, e.Session.UpdatedMs = s.Turns, s.CreatedMs, s.UpdatedMs
	if t != nil {
		e.Turn = &TurnEventMessages{Visitor: t.Visitor, Text: t.Text, Lang: t.Lang, Kind: t.Kind, Intent: t.Intent, Confidence: t.Confidence,
			Sources: t.Sources, LatencyUS: t.LatencyUS, Offer: t.Offer, KeyID: t.KeyID, AtMs: t.AtMs}
		if t.Heard != nil {
			h := string(t.Heard)
			e.Turn.Heard = &h
		}
	}
	return json.Marshal(e)
}

// enqueue writes an outbox row inside a write transaction, when the store keeps an outbox.
func enqueue(tx *Tx, kind, sessionID string, atMs int64, payload any) error {
	if !tx.db.opts.Outbox {
		return nil
	}
	var b []byte
	switch p := payload.(type) {
	case []byte:
		b = p
	default:
		var err error
		if b, err = json.Marshal(p); err != nil {
			return err
		}
	}
	if atMs == 0 {
		atMs = Now()
	}
	_, err := tx.Exec(`INSERT INTO outbox(kind, session_id, at_ms, payload) VALUES (?, ?, ?, ?)`, kind, sessionID, atMs, b)
	return err
}

// Outbox reports whether the store keeps an outbox (it was opened with Options{Outbox: true}).
func (db *DB) Outbox() bool { return db.opts.Outbox }

// OutboxPeek returns the oldest outbox rows, at most limit, in seq order.
func (db *DB) OutboxPeek(ctx context.Context, limit int) ([]OutboxRow, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT seq, kind, session_id, at_ms, payload FROM outbox ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.Seq, &r.Kind, &r.SessionID, &r.AtMs, &r.Payload); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OutboxDone deletes the outbox rows up to seq (the fleet database holds them).
func (db *DB) OutboxDone(ctx context.Context, seq int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM outbox WHERE seq <= ?`, seq)
		return err
	})
}

// OutboxBacklog is what waits in the outbox.
type OutboxBacklog struct {
	Rows     int64
	Bytes    int64 // the payloads' bytes
	OldestMs int64 // when the oldest row was written; 0 when there is none
	LastSeq  int64 // the last seq given out (0: none yet)
}

// OutboxStats measures the outbox.
func (db *DB) OutboxStats(ctx context.Context) (OutboxBacklog, error) {
	var b OutboxBacklog
	err := db.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(payload)), 0), coalesce(min(at_ms), 0),
		coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0) FROM outbox`).Scan(&b.Rows, &b.Bytes, &b.OldestMs, &b.LastSeq)
	return b, err
}

// OutboxAlign lines the outbox up with the fleet database's high-water mark for this store when
// the shipper connects, in one transaction (a turn written meanwhile cannot fall between its
// steps), and deletes nothing. Rows still here at or below the mark are ambiguous: shipped just
// before a crash kept them from being deleted, or written after the store was restored from a
// backup and never shipped. So every row waiting is renumbered above the mark, in order, and
// shipped again: the database does not write twice a turn or an audit entry it holds (natural
// keys, postgres.DB.Ingest), and erasures are idempotent. New seqs are given out above the mark.
// It returns how many rows it renumbered.
func (db *DB) OutboxAlign(ctx context.Context, mark int64) (renumbered int64, err error) {
	err = db.Write(ctx, func(tx *Tx) error {
		renumbered = 0
		var last int64
		var below bool
		if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),
			EXISTS (SELECT 1 FROM outbox WHERE seq <= ?)`, mark).Scan(&last, &below); err != nil {
			return err
		}
		next := max(last, mark)
		if below {
			// every seq here is at most last: adding max(last, mark) moves each above the mark and
			// above every seq given out, in order, with no two meeting
			res, err := tx.Exec(`UPDATE outbox SET seq = seq + ?`, next)
			if err != nil {
				return err
			}
			renumbered, _ = res.RowsAffected()
			next = last + next
		}
		if next == last {
			return nil
		}
		if _, err := tx.Exec(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'outbox'`, next); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO sqlite_sequence(name, seq) SELECT 'outbox', ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox')`, next)
		return err
	})
	return renumbered, err
}

// OutboxRaise makes the next outbox seq greater than seq. The shipper calls it when the fleet
// database already holds seqs this store has not given out (the store was restored from a
// backup, or replaced): new rows would otherwise be skipped as shipped.
func (db *DB) OutboxRaise(ctx context.Context, seq int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'outbox' AND seq < ?`, seq, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			_, err = tx.Exec(`INSERT INTO sqlite_sequence(name, seq) SELECT 'outbox', ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox')`, seq)
		}
		return err
	})
}
