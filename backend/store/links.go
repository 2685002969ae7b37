package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"
)

// LinkTTL is how long a one-time dashboard sign-in link stays valid.
const LinkTTL = 10 * time.Minute

// CreateLink stores a one-time dashboard sign-in link's token (hashed) and returns the link under
// base (e.g. http://127.0.0.1:8750). `voicebot dashboard-link` calls it on the box: the command
// line is the root of trust. The dashboard uses the link up with UseLink.
func CreateLink(ctx context.Context, db Links, base string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("base must be the dashboard's address, e.g. http://127.0.0.1:8750")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	err = db.InsertLink(ctx, linkHash(t), now.UnixMilli(), now.Add(LinkTTL).UnixMilli(),
		AuditEntry{Actor: "cli", Action: "dashboard.link_created", Detail: "valid for " + LinkTTL.String()})
	if err != nil {
		return "", err
	}
	return u.String() + "/dashboard/link?t=" + url.QueryEscape(t), nil
}

// UseLink uses up a one-time sign-in link's token: true when it was known, unused and unexpired.
// Either way the token cannot sign in again.
func UseLink(ctx context.Context, db Links, token string) (bool, error) {
	if token == "" || len(token) >= 100 {
		return false, nil
	}
	return db.SpendLink(ctx, linkHash(token), time.Now().UnixMilli())
}

// Links is what CreateLink and UseLink need of a store (*DB, *postgres.DB).
type Links interface {
	InsertLink(ctx context.Context, hash []byte, createdMs, expiresMs int64, audit AuditEntry) error
	SpendLink(ctx context.Context, hash []byte, nowMs int64) (bool, error)
}

// InsertLink stores a link's token hash with its audit entry, and drops the expired links.
func (db *DB) InsertLink(ctx context.Context, hash []byte, createdMs, expiresMs int64, audit AuditEntry) error {
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM dashboard_links WHERE expires_ms < ?`, createdMs); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO dashboard_links(token_hash, created_ms, expires_ms) VALUES (?, ?, ?)`, hash, createdMs, expiresMs); err != nil {
			return err
		}
		return InsertAudit(tx, audit)
	})
}

// SpendLink uses up a link's token hash: true when it was stored, unused and unexpired at nowMs.
func (db *DB) SpendLink(ctx context.Context, hash []byte, nowMs int64) (bool, error) {
	used := false
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE dashboard_links SET used_ms = ? WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ?`,
			nowMs, hash, nowMs)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		used = n == 1
		return nil
	})
	return used, err
}

func linkHash(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}
