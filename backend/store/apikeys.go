package store

// API keys on SQLite (the keys package's Backend): records with the key's SHA-256, revocation,
// and the use counts flushed from memory.

import (
	"context"
	"database/sql"
	"errors"
)

// InsertKey stores a new key's record and its audit entry in one transaction. When k.RotatedFrom
// is set, that key is revoked (at k.CreatedMs) in the same transaction, and ErrNotFound is
// returned, with nothing written, if it is not stored or not active.
func (db *DB) InsertKey(ctx context.Context, k KeyRow, audit AuditEntry) error {
	return db.Write(ctx, func(tx *Tx) error {
		if k.RotatedFrom != "" {
			res, err := tx.Exec(`UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL`, k.CreatedMs, k.RotatedFrom)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		var exp any
		if k.ExpiresMs != nil {
			exp = *k.ExpiresMs
		}
		_, err := tx.Exec(`INSERT INTO api_keys(id, name, hash, scopes, origins, rate, created_ms, expires_ms, rotated_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, k.Hash, k.Scopes, k.Origins, k.Rate, k.CreatedMs, exp, k.RotatedFrom)
		if err != nil {
			return err
		}
		return InsertAudit(tx, audit)
	})
}

// RevokeKey revokes a key at atMs with its audit entry: ErrNotFound when it is not stored,
// ErrAlreadyRevoked when it was revoked before.
func (db *DB) RevokeKey(ctx context.Context, id string, atMs int64, audit AuditEntry) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL`, atMs, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRow(`SELECT count(*) FROM api_keys WHERE id = ?`, id).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return ErrNotFound
			}
			return ErrAlreadyRevoked
		}
		return InsertAudit(tx, audit)
	})
}

const keyColumns = `id, name, hash, scopes, origins, rate, created_ms, expires_ms, revoked_ms, last_used_ms, use_count, rotated_from`

func scanKeyRow(sc interface{ Scan(...any) error }) (KeyRow, error) {
	var k KeyRow
	var exp, rev, last sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Name, &k.Hash, &k.Scopes, &k.Origins, &k.Rate, &k.CreatedMs, &exp, &rev, &last, &k.Uses, &k.RotatedFrom); err != nil {
		return k, err
	}
	k.ExpiresMs, k.RevokedMs, k.LastUsedMs = nullInt(exp), nullInt(rev), nullInt(last)
	return k, nil
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// KeyRecord returns one key's record, ErrNotFound when there is none.
func (db *DB) KeyRecord(ctx context.Context, id string) (KeyRow, error) {
	k, err := scanKeyRow(db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// KeyRecords returns every key's record, newest first.
func (db *DB) KeyRecords(ctx context.Context) ([]KeyRow, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_ms DESC, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []KeyRow
	for rows.Next() {
		k, err := scanKeyRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddKeyUsage adds use counts to the keys' records and moves their last use forward.
func (db *DB) AddKeyUsage(ctx context.Context, uses map[string]KeyUsage) error {
	if len(uses) == 0 {
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		for id, u := range uses {
			if _, err := tx.Exec(`UPDATE api_keys SET use_count = use_count + ?, last_used_ms = max(coalesce(last_used_ms, 0), ?) WHERE id = ?`, u.N, u.LastMs, id); err != nil {
				return err
			}
		}
		return nil
	})
}
