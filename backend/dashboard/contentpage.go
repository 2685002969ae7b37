package dashboard

import (
	"net/http"

	"voicebot/backend/conversation"
	"voicebot/backend/store"
)

func (d *Dashboard) content(w http.ResponseWriter, r *http.Request, s *signIn) {
	try := r.URL.Query().Get("try")
	var reply *conversation.Reply
	var tryErr string
	if try != "" {
		rep, err := d.Engine.Try(try, "")
		if err != nil {
			tryErr = err.Error()
		} else {
			reply = &rep
		}
	}
	d.render(w, r, http.StatusOK, contentPage(d.page("Content", "Content", s), d.Loader.Status(), try, reply, tryErr))
}

func (d *Dashboard) reload(w http.ResponseWriter, r *http.Request, s *signIn) {
	_ = d.Loader.Reload() // the outcome is in the status the page shows
	_ = d.DB.Audit(r.Context(), store.AuditEntry{Actor: s.keyID, Action: "content.reload_requested", Remote: remote(r)})
	http.Redirect(w, r, "/dashboard/content", http.StatusSeeOther)
}
