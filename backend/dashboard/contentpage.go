package dashboard

import (
	"sort"

	"voicebot/backend/voice"

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
	var sp speech
	if d.Voice != nil {
		sp.Engines, sp.Notes = d.Voice.Engines()
		rep := d.Voice.Report()
		for lang, n := range rep.Sentences {
			sp.Adapted = append(sp.Adapted, adapted{Lang: lang, Sentences: n, Unknown: rep.Unknown[lang]})
		}
		sort.Slice(sp.Adapted, func(i, j int) bool { return sp.Adapted[i].Lang < sp.Adapted[j].Lang })
	}
	d.render(w, r, http.StatusOK, contentPage(d.page("Content", "Content", s), d.Loader.Status(), try, reply, tryErr, sp))
}

func (d *Dashboard) reload(w http.ResponseWriter, r *http.Request, s *signIn) {
	_ = d.Loader.Reload() // the outcome is in the status the page shows
	_ = d.DB.Audit(r.Context(), store.AuditEntry{Actor: s.keyID, Action: "content.reload_requested", Remote: remote(r)})
	http.Redirect(w, r, "/dashboard/content", http.StatusSeeOther)
}

// speech is what the content page shows of the speech engines and their adaptation.
type speech struct {
	Engines []voice.EngineInfo
	Notes   []string
	Adapted []adapted
}

type adapted struct {
	Lang      string
	Sentences int
	Unknown   []string
}
