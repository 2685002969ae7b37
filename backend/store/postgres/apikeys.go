package postgres

// API keys on PostgreSQL (keys' Backend).

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
)

// InsertKey stores a new key's record and its audit entry in one transaction; with k.RotatedFrom
// set, that key is revoked in the same transaction (store.ErrNotFound, nothing written, when it
// is not stored or not active).
func (db *DB) InsertKey(ctx context.Context, k store.KeyRow, audit store.AuditEntry) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		if k.RotatedFrom != "" {
			tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL`, k.CreatedMs, k.RotatedFrom)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return store.ErrNotFound
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys(id, name, hash, scopes, origins, rate, created_ms, expires_ms, rotated_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			k.ID, k.Name, k.Hash, k.Scopes, k.Origins, k.Rate, k.CreatedMs, k.ExpiresMs, k.RotatedFrom); err != nil {
			return err
		}
		if err := db.insertAudit(ctx, tx, audit); err != nil {
			return err
		}
		return notifyKey(ctx, tx, k.RotatedFrom)
	})
}

// RevokeKey revokes a key at atMs with its audit entry: store.ErrNotFound when it is not stored,
// store.ErrAlreadyRevoked when it was revoked before.
func (db *DB) RevokeKey(ctx context.Context, id string, atMs int64, audit store.AuditEntry) error {
	return db.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL`, atMs, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return store.ErrNotFound
			}
			return store.ErrAlreadyRevoked
		}
		if err := db.insertAudit(ctx, tx, audit); err != nil {
			return err
		}
		return notifyKey(ctx, tx, id)
	})
}

// KeyChannel is the channel a key's revocation (or rotation) is announced on, with the key's id
// as the payload, when its transaction commits: every appliance on the database drops the key
// from its cache at once (keys.Service.Forget).
const KeyChannel = "voicebot_keys"

func notifyKey(ctx context.Context, tx pgx.Tx, id string) error {
	if id == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, KeyChannel, id)
	return err
}

const keyColumns = `id, name, hash, scopes, origins, rate, created_ms, expires_ms, revoked_ms, last_used_ms, use_count, rotated_from`

func scanKey(r pgx.Row) (store.KeyRow, error) {
	var k store.KeyRow
	err := r.Scan(&k.ID, &k.Name, &k.Hash, &k.Scopes, &k.Origins, &k.Rate, &k.CreatedMs, &k.ExpiresMs, &k.RevokedMs, &k.LastUsedMs, &k.Uses, &k.RotatedFrom)
	return k, err
}

// KeyRecord returns one key's record, store.ErrNotFound when there is none.
func (db *DB) KeyRecord(ctx context.Context, id string) (store.KeyRow, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, store.ErrNotFound
	}
	return k, err
}

// KeyRecords returns every key's record, newest first.
func (db *DB) KeyRecords(ctx context.Context) ([]store.KeyRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_ms DESC, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.KeyRow, error) { return scanKey(r) })
}

// AddKeyUsage adds use counts to the keys' records and moves their last use forward.
func (db *DB) AddKeyUsage(ctx context.Context, uses map[string]store.KeyUsage) error {
	if len(uses) == 0 {
		return nil
	}
	return db.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for id, u := range uses {
			b.Queue(`UPDATE api_keys SET use_count = use_count + $1, last_used_ms = greatest(coalesce(last_used_ms, 0), $2) WHERE id = $3`, u.N, u.LastMs, id)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}
