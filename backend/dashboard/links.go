package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"voicebot/backend/store"
)

// LinkTTL is how long a one-time sign-in link stays valid.
const LinkTTL = 10 * time.Minute

// CreateLink stores a one-time sign-in link's token (hashed) and returns the link under base
// (e.g. http://127.0.0.1:8750). `voicebot dashboard-link` calls it on the box: the command line
// is the root of trust.
func CreateLink(ctx context.Context, db *store.DB, base string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("base must be the dashboard's address, e.g. http://127.0.0.1:8750")
	}
	t := token()
	now := time.Now()
	err = db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`DELETE FROM dashboard_links WHERE expires_ms < ?`, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO dashboard_links(token_hash, created_ms, expires_ms) VALUES (?, ?, ?)`, []byte(hashToken(t)), now.UnixMilli(), now.Add(LinkTTL).UnixMilli()); err != nil {
			return err
		}
		return store.InsertAudit(tx, store.AuditEntry{Actor: "cli", Action: "dashboard.link_created", Detail: "valid for " + LinkTTL.String()})
	})
	if err != nil {
		return "", err
	}
	return u.String() + "/dashboard/link?t=" + url.QueryEscape(t), nil
}

// link signs in with a one-time link: the token must be known, unused and unexpired, and is used
// up by this request whatever happens next.
func (d *Dashboard) link(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("t")
	used := false
	if t != "" && len(t) < 100 {
		err := d.DB.Write(r.Context(), func(tx *store.Tx) error {
			res, err := tx.Exec(`UPDATE dashboard_links SET used_ms = ? WHERE token_hash = ? AND used_ms IS NULL AND expires_ms > ?`,
				time.Now().UnixMilli(), []byte(hashToken(t)), time.Now().UnixMilli())
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			used = n == 1
			return nil
		})
		if err != nil {
			http.Error(w, "could not check the link", http.StatusInternalServerError)
			return
		}
	}
	if !used {
		d.writeAudit(r, store.AuditEntry{Actor: "dashboard", Action: "dashboard.link_refused", Remote: remote(r)})
		d.render(w, r, http.StatusUnauthorized, signInForm("That sign-in link is not valid: it was used already, has expired, or was mistyped. Run voicebot dashboard-link on the box for a new one."))
		return
	}
	d.startSession(w, r, "link")
}
