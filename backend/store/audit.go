package store

import (
	"context"
)

// AuditEntry is one line of the audit log: who did what, to what, from where.
type AuditEntry struct {
	ID     int64  `json:"id"`
	AtMs   int64  `json:"at_ms"`
	Actor  string `json:"actor"` // key id, "cli" or "system"
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Remote string `json:"remote,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Appliance is, on a shared store, the appliance that wrote the entry ("" on SQLite; set by
	// the store).
	Appliance string `json:"appliance,omitempty"`
}

// InsertAudit appends an entry inside a write transaction.
func InsertAudit(tx *Tx, e AuditEntry) error {
	if e.AtMs == 0 {
		e.AtMs = Now()
	}
	_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, target, remote, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.AtMs, e.Actor, e.Action, e.Target, e.Remote, e.Detail)
	return err
}

// Audit appends an entry in its own (grouped) write.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	return db.Write(ctx, func(tx *Tx) error { return InsertAudit(tx, e) })
}

// AuditLog returns entries newest first, before an id (0 = from the newest), at most limit.
func (db *DB) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	return db.AuditSearch(ctx, AuditFilter{Before: before, Limit: limit})
}

// AuditFilter selects audit entries: an actor, an action prefix (e.g. "key." or "session."), a
// page of at most Limit entries older than the entry Before.
type AuditFilter struct {
	Actor  string
	Action string
	// Appliance: entries this appliance wrote, on a shared store (SQLite ignores it).
	Appliance string
	Before    int64
	Limit     int
}

// AuditSearch returns the entries that match, newest first.
func (db *DB) AuditSearch(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Before <= 0 {
		f.Before = 1<<62 - 1
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, at_ms, actor, action, target, remote, detail FROM audit
		WHERE id < ? AND (? = '' OR actor = ?) AND (? = '' OR substr(action, 1, length(?)) = ?)
		ORDER BY id DESC LIMIT ?`, f.Before, f.Actor, f.Actor, f.Action, f.Action, f.Action, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.AtMs, &e.Actor, &e.Action, &e.Target, &e.Remote, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
