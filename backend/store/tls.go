package store

// The appliance's TLS material (its certificate authority and server certificate, with their
// private keys) and the screens paired from the dashboard. Both live in the encrypted store, so
// the private keys are sealed at rest by the store key, like every other row.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
	"time"
)

// TLSMaterial returns a stored certificate and its key by name ("ca", "server"); ok is false
// when there is none.
func (db *DB) TLSMaterial(ctx context.Context, name string) (certPEM, keyPEM []byte, ok bool, err error) {
	var c, k string
	err = db.r.QueryRowContext(ctx, `SELECT cert_pem, key_pem FROM tls_material WHERE name = ?`, name).Scan(&c, &k)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return []byte(c), []byte(k), true, nil
}

// PutTLSMaterial stores a certificate and its key under name. With ifAbsent an existing entry
// is kept (two processes making the CA at once keep the first one's: read it back after).
func (db *DB) PutTLSMaterial(ctx context.Context, name string, certPEM, keyPEM []byte, ifAbsent bool) error {
	q := `INSERT INTO tls_material(name, cert_pem, key_pem, created_ms) VALUES (?, ?, ?, ?)
	      ON CONFLICT(name) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem, created_ms = excluded.created_ms`
	if ifAbsent {
		q = `INSERT INTO tls_material(name, cert_pem, key_pem, created_ms) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING`
	}
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(q, name, string(certPEM), string(keyPEM), Now())
		return err
	})
}

// PairingTTL is how long a pairing code can be used.
const PairingTTL = 10 * time.Minute

// pairingAlphabet: lower-case base32 without padding (26 characters for 128 bits), which a QR
// code holds in its compact alphanumeric mode once upper-cased and a person can read out.
var pairingAlphabet = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// CreatePairing stores a new one-time pairing code (hashed) for a screen and returns it with
// its expiry; actor is who made it (audited).
func (db *DB) CreatePairing(ctx context.Context, screen, actor, remote string) (string, time.Time, error) {
	code := NewPairingCode()
	now := time.Now()
	expires := now.Add(PairingTTL)
	err := db.Write(ctx, func(tx *Tx) error {
		// Unused codes past their time are of no use to anyone; paired rows stay (the Keys page lists them).
		if _, err := tx.Exec(`DELETE FROM pairings WHERE used_ms IS NULL AND expires_ms < ?`, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO pairings(code_hash, screen, created_by, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)`,
			PairingHash(code), screen, actor, now.UnixMilli(), expires.UnixMilli()); err != nil {
			return err
		}
		return InsertAudit(tx, AuditEntry{Actor: actor, Action: "screen.pairing_created", Target: screen, Remote: remote, Detail: "valid for " + PairingTTL.String()})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// UsePairing uses up a pairing code: the screen's name when the code was known, unused and
// unexpired (ok), else ok false. Either way the code cannot be used again.
func (db *DB) UsePairing(ctx context.Context, code string) (screen string, ok bool, err error) {
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "" || len(code) > 64 {
		return "", false, nil
	}
	err = db.Write(ctx, func(tx *Tx) error {
		now := time.Now().UnixMilli()
		row := tx.QueryRow(`UPDATE pairings SET used_ms = ? WHERE code_hash = ? AND used_ms IS NULL AND expires_ms > ? RETURNING screen`,
			now, PairingHash(code), now)
		switch err := row.Scan(&screen); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		ok = true
		return nil
	})
	return screen, ok, err
}

// SetPairingKey records the key a used pairing code was traded for.
func (db *DB) SetPairingKey(ctx context.Context, code, keyID string) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE pairings SET key_id = ? WHERE code_hash = ?`, keyID, PairingHash(strings.ToLower(strings.TrimSpace(code))))
		return err
	})
}

// PairedScreen is a screen that traded its pairing code for a key.
type PairedScreen struct {
	Screen string
	KeyID  string
	Paired time.Time
}

// PairedScreens lists the paired screens, newest first.
func (db *DB) PairedScreens(ctx context.Context) ([]PairedScreen, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT screen, key_id, used_ms FROM pairings WHERE key_id != '' ORDER BY used_ms DESC LIMIT 500`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PairedScreen
	for rows.Next() {
		var p PairedScreen
		var ms int64
		if err := rows.Scan(&p.Screen, &p.KeyID, &ms); err != nil {
			return nil, err
		}
		p.Paired = time.UnixMilli(ms)
		out = append(out, p)
	}
	return out, rows.Err()
}

// NewPairingCode is a new random pairing code (128 bits in lower-case base32).
func NewPairingCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return pairingAlphabet.EncodeToString(b)
}

// PairingHash is what the store keeps of a pairing code: its SHA-256.
func PairingHash(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}
