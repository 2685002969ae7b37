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
func CreateLink(ctx context.Context, db *DB, base string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("base must be the dashboard's address, e.g. http://127.0.0.1:8750")
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM dashboard_links WHERE expires_ms < ?`, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO dashboard_links(token_hash, created_ms, expires_ms) VALUES (?, ?, ?)`, linkHash(t), now.UnixMilli(), now.Add(LinkTTL).UnixMilli()); err != nil {
			return err
		}
		return InsertAudit(tx, AuditEntry{Actor: "cli", Action: "dashboard.link_created", Detail: "valid for " + LinkTTL.String()})
	})
	if err != nil {
		return "", err
	}
	return u.String() + "/dashboard/link?t=" + url.QueryEscape(t), nil
}

// UseLink uses up a one-time sign-in link's token: true when it was known, unused and unexpired.
// Either way the token cannot sign in again.
func UseLink(ctx context.Context, db *DB, token string) (bool, error) {
	if token == "" || len(token) >= 100 {
		return false, nil
	}
	used := false
	err := db.Write(ctx, func(tx *Tx) error {
		now := time.Now().UnixMilli()
		res, err := tx.Exec(`UPDATE dashboard_links SET used_ms = ? WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ?`,
			now, linkHash(token), now)
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
