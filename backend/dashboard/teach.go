package dashboard

// The teach loop: the questions the bot did not answer (and those it answered unsure), and the
// spoken ones it asked again (a repair) or heard unsure, by their transcript; each with the
// intents the model weighed, a new intent, or "not for this assistant"; a choice is written into
// the content, which reloads at once (and the recogniser's grammar is rebuilt from it).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"voicebot/backend/content"
	"voicebot/backend/conversation"
	"voicebot/backend/store"
	"voicebot/backend/text"
)

// ContentService is what the teach loop and the Content page need of the appliance (the
// consumer declares it): which folder serves, making an editable copy, teaching it.
type ContentService interface {
	ContentDir() string
	ContentEditable() error
	DefaultEditableDir() string
	MakeEditable(ctx context.Context, dir, actor, remote string) (string, string, error)
	Teach(ctx context.Context, t content.Teach, actor, remote string) (conversation.Taught, error)
}

// TeachData is what the Teach page shows.
type TeachData struct {
	Editable   bool   // the content in service can be taught
	ReadOnly   string // why not, when it cannot
	DefaultDir string // where an editable copy goes by default
	Below      float64
	Days       int
	Message    string // the outcome of the last teach
	Failed     bool
	Questions  []TeachQuestion
	Intents    map[string][]string // intent names by language, for "another intent"
}

// TeachQuestion is one question visitors asked, grouped by its words.
type TeachQuestion struct {
	Text       string
	Lang       string
	N          int
	Last       time.Time
	Why        string  // "not answered", "unsure: intent x (0.31)", "not heard well enough: asked again"
	Spoken     int     // how many of the N were asked by voice (Text is then the transcript)
	Heard      float64 // the lowest confidence of what was heard among those, 0..1
	Now        string  // how the content in service answers it now
	NowOK      bool    // now answered by an intent
	Candidates []conversation.Candidate
}

// teachQuestions is how many questions the page lists.
const teachQuestions = 40

// teachBelow is the default confidence under which an intent answer counts as unsure.
const teachBelow = 0.5

func (d *Dashboard) teachPage(w http.ResponseWriter, r *http.Request, s *signIn) {
	q := r.URL.Query()
	td := TeachData{Below: teachBelow, Days: 7, Message: q.Get("msg"), Failed: q.Get("failed") == "1"}
	if v := q.Get("below"); v != "" {
		fmt.Sscanf(v, "%g", &td.Below)
		td.Below = min(max(td.Below, 0), 1)
	}
	if d.Content != nil {
		td.DefaultDir = d.Content.DefaultEditableDir()
		if err := d.Content.ContentEditable(); err != nil {
			td.ReadOnly = err.Error()
		} else {
			td.Editable = true
		}
	} else {
		td.ReadOnly = "this dashboard cannot edit the content"
	}
	var err error
	td.Questions, err = d.teachQuestions(r.Context(), time.Now().Add(-time.Duration(td.Days)*24*time.Hour), td.Below)
	if err != nil {
		http.Error(w, "could not read the questions", http.StatusInternalServerError)
		return
	}
	td.Intents = map[string][]string{}
	if snap := d.Engine.Snapshot(); snap != nil {
		for lang, ins := range snap.Pack.Intents {
			for _, in := range ins {
				td.Intents[lang] = append(td.Intents[lang], in.Name)
			}
			sort.Strings(td.Intents[lang])
		}
	}
	d.render(w, r, http.StatusOK, teachPage(d.page("Teach", "Teach", s), td))
}

// teachQuestions reads the visitors' questions answered by the fallback or the handoff, those an
// intent answered with a confidence under below, and the spoken ones that ended in a repair or
// were heard with a confidence under below (by their transcript), since a time; grouped by their
// folded words, most asked first; each with how the content answers it now and the intents the
// model weighs.
func (d *Dashboard) teachQuestions(ctx context.Context, since time.Time, below float64) ([]TeachQuestion, error) {
	groups, err := d.Data.TeachGroups(ctx, since, below)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	var out []TeachQuestion
	for _, g := range groups {
		q := TeachQuestion{Text: g.Text, Lang: g.Lang, N: g.N, Last: time.UnixMilli(g.Last), Spoken: g.Spoken, Heard: g.Heard}
		if strings.TrimSpace(q.Text) == "" {
			continue // a voice turn that heard nothing: nothing to teach
		}
		kind, intent, conf := g.Kind, g.Intent, g.Conf
		switch {
		case kind == conversation.KindRepair:
			q.Why = "not heard well enough: asked again"
		case kind == conversation.KindIntent && conf < below:
			q.Why = fmt.Sprintf("unsure: intent %s (%.2f)", intent, conf)
		case kind == conversation.KindIntent:
			q.Why = fmt.Sprintf("answered by intent %s (%.2f), but unsure what was heard", intent, conf)
		case kind == conversation.KindFallback || kind == conversation.KindHandoff:
			q.Why = "not answered"
		default:
			q.Why = "answered (" + kind + "), but unsure what was heard"
		}
		key := q.Lang + "\x00" + text.Fold(q.Text)
		if i, ok := idx[key]; ok {
			o := &out[i]
			o.N += q.N
			if q.Last.After(o.Last) {
				o.Last = q.Last
			}
			if q.Spoken > 0 && (o.Spoken == 0 || q.Heard < o.Heard) {
				o.Heard = q.Heard
			}
			o.Spoken += q.Spoken
			continue
		}
		idx[key] = len(out)
		out = append(out, q)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Last.After(out[j].Last)
	})
	if len(out) > teachQuestions {
		out = out[:teachQuestions]
	}
	// how the content answers each now, the questions shared between two goroutines (the engine
	// answers turns at once; 13 ms of CPU for 40 questions)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(out); i += 2 {
				q := &out[i]
				if rep, err := d.Engine.Try(q.Text, q.Lang); err == nil {
					q.Now = rep.Kind
					switch {
					case rep.Kind == conversation.KindIntent:
						q.Now = fmt.Sprintf("intent %s (%.2f)", rep.Intent, rep.Confidence)
						q.NowOK = rep.Confidence >= below || rep.Via == "template"
					case rep.Kind == conversation.KindKnowledge && len(rep.Sources) > 0:
						q.Now = "document " + rep.Sources[0].Title
					}
				}
				q.Candidates, _ = d.Engine.Candidates(q.Text, q.Lang, 3)
			}
		})
	}
	wg.Wait()
	return out, nil
}

// spokenTimes says how many of a question's asks were spoken, after the "spoken" badge.
func spokenTimes(q TeachQuestion) string {
	switch {
	case q.N == 1:
		return ""
	case q.Spoken == q.N:
		return " each time"
	}
	return fmt.Sprintf(" %d of %d times", q.Spoken, q.N)
}

// lowest marks the heard confidence as the lowest of several spoken asks.
func lowest(q TeachQuestion) string {
	if q.Spoken > 1 {
		return " at the lowest"
	}
	return ""
}

// teach applies one choice of the Teach page and comes back to it with the outcome.
func (d *Dashboard) teach(w http.ResponseWriter, r *http.Request, s *signIn) {
	back := func(msg string, failed bool) {
		v := url.Values{"msg": {msg}}
		if failed {
			v.Set("failed", "1")
		}
		http.Redirect(w, r, "/dashboard/teach?"+v.Encode()+"#result", http.StatusSeeOther)
	}
	if d.Content == nil {
		back("this dashboard cannot edit the content", true)
		return
	}
	t := content.Teach{Text: r.PostFormValue("text"), Lang: r.PostFormValue("lang")}
	switch r.PostFormValue("action") {
	case "example":
		t.Intent = r.PostFormValue("intent")
	case "new_intent":
		t.Intent, t.Response = r.PostFormValue("name"), r.PostFormValue("response")
		if strings.TrimSpace(t.Response) == "" {
			back("a new intent needs a response: type what the bot should say", true)
			return
		}
	case "out_of_scope":
		t.OutOfScope = true
	default:
		back("choose an intent, a new intent, or not for this assistant", true)
		return
	}
	out, err := d.Content.Teach(r.Context(), t, s.keyID, remote(r))
	if err != nil {
		var te *content.TeachError
		if !errors.As(err, &te) {
			err = fmt.Errorf("the content could not be written: %w", err)
		}
		back(err.Error(), true)
		return
	}
	msg := fmt.Sprintf("%q is already there (%s): nothing to write.", out.Text, out.File)
	if out.Changed {
		what := "an example of intent " + out.Intent
		switch out.Action {
		case content.ActionNewIntent:
			what = "the example of the new intent " + out.Intent
		case content.ActionOutOfScope:
			what = "not for this assistant"
		}
		msg = fmt.Sprintf("Taught %q as %s: %s line %d; content version %d.", out.Text, what, out.File, out.Line, out.Version)
	}
	if out.Reply != nil {
		now := out.Reply.Kind
		if out.Reply.Intent != "" {
			now = fmt.Sprintf("intent %s (%.2f)", out.Reply.Intent, out.Reply.Confidence)
		}
		msg += " It is now answered as: " + now + "."
	}
	back(msg, false)
}

// makeEditable copies the read-only content into an editable folder and serves it.
func (d *Dashboard) makeEditable(w http.ResponseWriter, r *http.Request, s *signIn) {
	next := "/dashboard/content"
	if r.PostFormValue("next") == "teach" {
		next = "/dashboard/teach"
	}
	if d.Content == nil {
		http.Error(w, "this dashboard cannot edit the content", http.StatusNotFound)
		return
	}
	dir, saved, err := d.Content.MakeEditable(r.Context(), strings.TrimSpace(r.PostFormValue("dir")), s.keyID, remote(r))
	v := url.Values{}
	if err != nil {
		v.Set("msg", "No copy made: "+err.Error())
		v.Set("failed", "1")
		d.writeAudit(r, store.AuditEntry{Actor: s.keyID, Action: "content.init_refused", Remote: remote(r), Detail: err.Error()})
	} else {
		v.Set("msg", fmt.Sprintf("The content is now the editable folder %s (%s).", dir, saved))
	}
	http.Redirect(w, r, next+"?"+v.Encode(), http.StatusSeeOther)
}
