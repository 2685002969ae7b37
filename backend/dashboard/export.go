package dashboard

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"voicebot/backend/history"
)

func (d *Dashboard) export(w http.ResponseWriter, r *http.Request, s *signIn) (*history.Export, bool) {
	x, err := d.History.Export(r.Context(), r.PathValue("id"), s.keyID, remote(r))
	if errors.Is(err, history.ErrNoSession) {
		http.Error(w, "no such conversation", http.StatusNotFound)
		return nil, false
	}
	if err != nil {
		http.Error(w, "could not export the conversation", http.StatusInternalServerError)
		return nil, false
	}
	return x, true
}

func (d *Dashboard) exportJSON(w http.ResponseWriter, r *http.Request, s *signIn) {
	x, ok := d.export(w, r, s)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="conversation-%s.json"`, x.Session.ID))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(x)
}

func (d *Dashboard) exportCSV(w http.ResponseWriter, r *http.Request, s *signIn) {
	x, ok := d.export(w, r, s)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="conversation-%s.csv"`, x.Session.ID))
	cw := csv.NewWriter(w)
	// heard, heard_confidence and alternatives: a voice turn's transcript (on the visitor's
	// row); offer: a repair's offered reading (on the bot's row); empty otherwise
	_ = cw.Write([]string{"at", "turn", "role", "text", "lang", "kind", "intent", "confidence", "heard", "heard_confidence", "alternatives", "offer"})
	for _, m := range x.Messages {
		conf := ""
		if m.Confidence != nil {
			conf = fmt.Sprintf("%.3f", *m.Confidence)
		}
		var heard, heardConf, alts string
		if h := m.Heard; h != nil {
			heard, heardConf = h.Transcript, fmt.Sprintf("%.3f", h.Confidence)
			alts = strings.Join(h.Alternatives, " | ")
		}
		_ = cw.Write([]string{m.At.UTC().Format(time.RFC3339), fmt.Sprint(m.Turn), m.Role, csvSafe(m.Text), m.Lang, m.Kind, m.Intent, conf,
			csvSafe(heard), heardConf, csvSafe(alts), csvSafe(m.Offer)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a visitor's words as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

// erase asks for confirmation first, then erases (audited by the history store).
func (d *Dashboard) erase(w http.ResponseWriter, r *http.Request, s *signIn) {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "yes" {
		d.render(w, r, http.StatusOK, eraseConfirm(d.page("Erase conversation", "Conversations", s), id))
		return
	}
	err := d.History.Erase(r.Context(), id, s.keyID, remote(r))
	if errors.Is(err, history.ErrNoSession) {
		http.Error(w, "no such conversation", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "could not erase the conversation", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/dashboard/conversations", http.StatusSeeOther)
}
