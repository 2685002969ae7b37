package postgres

// The TLS material and the pairing codes on PostgreSQL: the same rows as SQLite's (store/tls.go),
// the codes made and hashed by the store package so both stores agree.

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
)

// TLSMaterial returns a stored certificate and its key by name; ok is false when there is none.
func (db *DB) TLSMaterial(ctx context.Context, name string) (certPEM, keyPEM []byte, ok bool, err error) {
	var c, k string
	err = db.pool.QueryRow(ctx, `SELECT cert_pem, key_pem FROM tls_material WHERE name = $1`, name).Scan(&c, &k)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return []byte(c), []byte(k), true, nil
}

// PutTLSMaterial stores a certificate and its key under name; with ifAbsent an existing entry is
// kept (two appliances making the fleet's CA at once keep the first one's).
func (db *DB) PutTLSMaterial(ctx context.Context, name string, certPEM, keyPEM []byte, ifAbsent bool) error {
	q := `INSERT INTO tls_material(name, cert_pem, key_pem, created_ms) VALUES ($1, $2, $3, $4)
	      ON CONFLICT (name) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem, created_ms = excluded.created_ms`
	if ifAbsent {
		q = `INSERT INTO tls_material(name, cert_pem, key_pem, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`
	}
	_, err := db.exec(ctx, q, name, string(certPEM), string(keyPEM), store.Now())
	return err
}

// CreatePairing stores a new one-time pairing code (hashed) and returns it with its expiry.
func (db *DB) CreatePairing(ctx context.Context, screen, actor, remote string) (string, time.Time, error) {
	code := store.NewPairingCode()
	now := time.Now()
	expires := now.Add(store.PairingTTL)
	err := db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM pairings WHERE used_ms IS NULL AND expires_ms < $1`, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pairings(code_hash, screen, created_by, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)`,
			store.PairingHash(code), screen, actor, now.UnixMilli(), expires.UnixMilli()); err != nil {
			return err
		}
		return db.insertAudit(ctx, tx, store.AuditEntry{Actor: actor, Action: "screen.pairing_created", Target: screen, Remote: remote, Detail: "valid for " + store.PairingTTL.String()})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// UsePairing uses up a pairing code: the screen's name when it was known, unused and unexpired.
func (db *DB) UsePairing(ctx context.Context, code string) (screen string, ok bool, err error) {
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "" || len(code) > 64 {
		return "", false, nil
	}
	now := time.Now().UnixMilli()
	err = db.pool.QueryRow(ctx, `UPDATE pairings SET used_ms = $1 WHERE code_hash = $2 AND used_ms IS NULL AND expires_ms > $1 RETURNING screen`,
		now, store.PairingHash(code)).Scan(&screen)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return screen, true, nil
}

// SetPairingKey records the key a used pairing code was traded for.
func (db *DB) SetPairingKey(ctx context.Context, code, keyID string) error {
	_, err := db.exec(ctx, `UPDATE pairings SET key_id = $1 WHERE code_hash = $2`, keyID, store.PairingHash(strings.ToLower(strings.TrimSpace(code))))
	return err
}

// PairedScreens lists the paired screens, newest first.
func (db *DB) PairedScreens(ctx context.Context) ([]store.PairedScreen, error) {
	rows, err := db.pool.Query(ctx, `SELECT screen, key_id, used_ms FROM pairings WHERE key_id != '' ORDER BY used_ms DESC LIMIT 500`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PairedScreen
	for rows.Next() {
		var p store.PairedScreen
		var ms int64
		if err := rows.Scan(&p.Screen, &p.KeyID, &ms); err != nil {
			return nil, err
		}
		p.Paired = time.UnixMilli(ms)
		out = append(out, p)
	}
	return out, rows.Err()
}
