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
	if before <= 0 {
		before = 1<<62 - 1
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, at_ms, actor, action, target, remote, detail FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
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
