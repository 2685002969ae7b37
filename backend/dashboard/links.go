package dashboard

import (
	"net/http"

	"voicebot/backend/store"
)

// link signs in with a one-time link (store.CreateLink made it): the token must be known, unused
// and unexpired, and is used up by this request whatever happens next.
func (d *Dashboard) link(w http.ResponseWriter, r *http.Request) {
	used, err := d.Data.UseLink(r.Context(), r.URL.Query().Get("t"))
	if err != nil {
		http.Error(w, "could not check the link", http.StatusInternalServerError)
		return
	}
	if !used {
		d.writeAudit(r, store.AuditEntry{Actor: "dashboard", Action: "dashboard.link_refused", Remote: remote(r)})
		d.render(w, r, http.StatusUnauthorized, signInForm("That sign-in link is not valid: it was used already, has expired, or was mistyped. Run voicebot dashboard-link on the box for a new one."))
		return
	}
	d.startSession(w, r, "link")
}
