package dashboard

import (
	"net/http"
	"sort"

	"voicebot/backend/conversation"
	"voicebot/backend/store"
	"voicebot/backend/voice"
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
	ce := ContentTools{Message: r.URL.Query().Get("msg"), Failed: r.URL.Query().Get("failed") == "1"}
	if r.URL.Query().Get("check") == "1" {
		if rep, err := d.checked(); err != nil {
			ce.CheckErr = err.Error()
		} else {
			ce.Check = rep
		}
	}
	if d.Content != nil {
		ce.DefaultDir = d.Content.DefaultEditableDir()
		if err := d.Content.ContentEditable(); err != nil {
			ce.ReadOnly = err.Error()
		}
	}
	d.render(w, r, http.StatusOK, contentPage(d.page("Content", "Content", s), d.Loader.Status(), try, reply, tryErr, sp, ce))
}

func (d *Dashboard) reload(w http.ResponseWriter, r *http.Request, s *signIn) {
	_ = d.Loader.Reload() // the outcome is in the status the page shows
	d.writeAudit(r, store.AuditEntry{Actor: s.keyID, Action: "content.reload_requested", Remote: remote(r)})
	http.Redirect(w, r, "/dashboard/content", http.StatusSeeOther)
}

// ContentTools is what the Content page shows besides the status: why the content is read-only
// (with the form that makes an editable copy), the outcome of the last copy, and the check
// report (every phrasing answered, as `voicebot content check` does) when asked for.
type ContentTools struct {
	ReadOnly   string
	DefaultDir string
	Message    string
	Failed     bool
	Check      *conversation.CheckReport
	CheckErr   string
}

// checked runs the content check, once per content version (the report is kept until the next).
func (d *Dashboard) checked() (*conversation.CheckReport, error) {
	snap := d.Engine.Snapshot()
	if snap == nil {
		return nil, conversation.ErrNotReady
	}
	d.mu.Lock()
	if d.check != nil && d.check.Version == snap.Version {
		defer d.mu.Unlock()
		return d.check, nil
	}
	d.mu.Unlock()
	rep, err := d.Engine.Check(conversation.CheckTemplateSample)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.check = rep
	d.mu.Unlock()
	return rep, nil
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
