package dashboard

// The teach loop: the questions the bot did not answer (and those it answered unsure), and the
// spoken ones it asked again (a repair) or heard unsure, by their transcript; each with the
// intents the model weighed, a new intent, or "not for this assistant"; a choice is written into
// the content, which reloads at once (and the recogniser's grammar is rebuilt from it).

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"

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
	var groups []teachGroup
	var err error
	ok := false
	if below <= teachIndexed {
		groups, ok, err = d.teachGroupsIndexed(ctx, since, below)
		if err != nil {
			return nil, err
		}
	}
	if !ok {
		if groups, err = d.teachGroupsScan(ctx, since, below); err != nil {
			return nil, err
		}
	}
	idx := map[string]int{}
	var out []TeachQuestion
	for _, g := range groups {
		q := TeachQuestion{Text: g.text, Lang: g.lang, N: g.n, Last: time.UnixMilli(g.last), Spoken: g.spoken, Heard: g.heard}
		if strings.TrimSpace(q.Text) == "" {
			continue // a voice turn that heard nothing: nothing to teach
		}
		kind, intent, conf := g.kind, g.intent, g.conf
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

// teachGroup is one question as asked, before questions are grouped by their folded words: the
// turns with the same words (as heard, on a voice turn), language, answer kind and intent.
type teachGroup struct {
	text, lang, kind, intent string
	conf                     float64 // the answer's confidence
	n                        int     // turns
	last                     int64   // newest turn, Unix ms
	spoken                   int     // turns asked by voice
	heard                    float64 // lowest confidence of what was heard, 0 when none says
	heardSet                 bool
}

// teachGroupsLimit is how many groups of identical questions the page folds into its list.
const teachGroupsLimit = 2000

// teachGroupsScan groups the week's listed turns in SQL, reading every bot message since the time
// and its visitor's message by session and turn: correct for any threshold and any rows, but it
// reads the whole week (338 ms at 100,000 messages). teachGroupsIndexed answers the same.
func (d *Dashboard) teachGroupsScan(ctx context.Context, since time.Time, below float64) ([]teachGroup, error) {
	rows, err := d.DB.Read().QueryContext(ctx, `SELECT coalesce(nullif(v.heard ->> '$.transcript', ''), v.text), b.lang, b.kind, b.intent, coalesce(b.confidence, 0),
			count(*), max(b.created_ms), count(v.heard), coalesce(min(v.heard ->> '$.confidence'), 0)
		FROM messages b JOIN messages v ON v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
		WHERE b.role = 'bot' AND b.created_ms >= ? AND (b.kind IN ('fallback', 'handoff', 'repair') OR (b.kind = 'intent' AND b.confidence < ?)
			OR v.heard ->> '$.confidence' < ?)
		GROUP BY 1, 2, 3, 4 ORDER BY 6 DESC, 7 DESC LIMIT 2000`, since.UnixMilli(), below, below)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []teachGroup
	for rows.Next() {
		var g teachGroup
		if err := rows.Scan(&g.text, &g.lang, &g.kind, &g.intent, &g.conf, &g.n, &g.last, &g.spoken, &g.heard); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// teachIndexed is the threshold the partial indexes of migration 0007 (and 0004's
// messages_unanswered) are cut at: under it, every listed turn is in one of them.
const teachIndexed = 0.5

// teachGroupsIndexed answers as teachGroupsScan for a threshold up to teachIndexed, reading only
// the turns in the partial indexes: the fallback and handoff answers (messages_unanswered), the
// repairs and the intent answers under 0.5 (messages_unsure), and the visitors' messages heard
// under 0.5 (messages_heard_unsure); the turns are grouped here rather than by SQLite's sorter.
// A turn's two messages are written by one statement (history.Save), so the visitor's message is
// found by rowid next to the bot's, and both carry the turn's time. Where a listed message's
// neighbour is not the other message of its turn (rows written some other way), it reports
// !ok and teachGroupsScan answers.
func (d *Dashboard) teachGroupsIndexed(ctx context.Context, since time.Time, below float64) ([]teachGroup, bool, error) {
	// The week is read in teachParts spans of time at once, each on a connection of the read
	// pool, and their groups merged.
	from, span := since.UnixMilli(), time.Since(since).Milliseconds()/teachParts
	parts := make([]teachPart, teachParts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := from+int64(i)*span, from+int64(i+1)*span
		if i == 0 {
			lo = math.MinInt64 // the bounds of the week are those of the query
		}
		if i == len(parts)-1 {
			hi = math.MaxInt64
		}
		wg.Go(func() { parts[i].read(ctx, d.DB.Read(), from, lo, hi, below) })
	}
	wg.Wait()
	out, idx := parts[0].groups, parts[0].idx
	for _, p := range parts {
		if p.err != nil {
			return nil, false, p.err
		}
		if !p.ok {
			return nil, false, nil
		}
	}
	for _, p := range parts[1:] {
		for k, j := range p.idx {
			o := p.groups[j]
			i, seen := idx[k]
			if !seen {
				idx[k] = len(out)
				out = append(out, o)
				continue
			}
			g := &out[i]
			g.n += o.n
			if o.last > g.last {
				g.last, g.conf = o.last, o.conf
			}
			g.spoken += o.spoken
			if o.heardSet && (!g.heardSet || o.heard < g.heard) {
				g.heard, g.heardSet = o.heard, true
			}
		}
	}
	// as the SQL orders them: most asked, then newest; then by their words
	order := make([]int32, len(out)) // sorted by index: a group is 100 bytes to move
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &out[i], &out[j]
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(b.last, a.last),
			cmp.Compare(a.text, b.text), cmp.Compare(a.lang, b.lang), cmp.Compare(a.kind, b.kind), cmp.Compare(a.intent, b.intent))
	})
	top := make([]teachGroup, min(len(out), teachGroupsLimit))
	for i := range top {
		top[i] = out[order[i]]
	}
	return top, true, nil
}

// teachParts is how many spans of time teachGroupsIndexed reads at once (the read pool has 4
// connections, the appliance 2 cores).
const teachParts = 2

// teachPart is the groups of one span of time.
type teachPart struct {
	groups []teachGroup
	idx    map[string]int
	ok     bool
	err    error
}

// read groups the listed turns since the week's start (since) whose time is in [lo, hi): the
// bot's message's time, or the visitor's for a turn listed for what was heard.
func (p *teachPart) read(ctx context.Context, db *sql.DB, since, lo, hi int64, below float64) {
	const cols = `coalesce(nullif(v.heard ->> '$.transcript', ''), v.text), b.lang, b.kind, b.intent, coalesce(b.confidence, 0), b.created_ms, v.heard IS NOT NULL, v.heard ->> '$.confidence'`
	const visitor = `messages v ON v.id = b.id - 1 AND v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'`
	query := `SELECT v.id IS NOT NULL, ` + cols + ` FROM messages b LEFT JOIN ` + visitor + `
			WHERE b.role = 'bot' AND b.kind IN ('fallback', 'handoff') AND b.created_ms >= ?1 AND b.created_ms >= ?4 AND b.created_ms < ?5
		UNION ALL
		SELECT v.id IS NOT NULL, ` + cols + ` FROM messages b LEFT JOIN ` + visitor + `
			WHERE b.role = 'bot' AND (b.kind = 'repair' OR (b.kind = 'intent' AND b.confidence < 0.5)) AND b.created_ms >= ?1 AND b.created_ms >= ?4 AND b.created_ms < ?5
				AND (v.id IS NULL OR b.kind = 'repair' OR b.confidence < ?2 OR v.heard ->> '$.confidence' < ?3)
		UNION ALL
		SELECT b.id IS NOT NULL, ` + cols + ` FROM messages v LEFT JOIN messages b ON b.id = v.id + 1 AND b.session_id = v.session_id AND b.turn = v.turn AND b.role = 'bot'
			WHERE v.role = 'visitor' AND v.heard ->> '$.confidence' < 0.5 AND v.created_ms >= ?1 AND v.created_ms >= ?4 AND v.created_ms < ?5
				AND (b.id IS NULL OR (b.created_ms >= ?1 AND v.heard ->> '$.confidence' < ?3
					AND (b.kind IN ('fallback', 'handoff') OR b.kind = 'repair' OR (b.kind = 'intent' AND b.confidence < 0.5)) IS NOT TRUE))`
	p.idx = map[string]int{}
	conn, err := db.Conn(ctx)
	if err != nil {
		p.err = err
		return
	}
	defer conn.Close()
	// Read through SQLite's own statement rather than database/sql's rows: the text of a turn
	// whose group is known is looked up without being copied (15,000 turns at 100,000 messages).
	p.err = conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("the store's connection is not SQLite's")
		}
		defer c.Raw().SetInterrupt(c.Raw().SetInterrupt(ctx))
		st, _, err := c.Raw().Prepare(query)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := errors.Join(st.BindInt64(1, since), st.BindFloat(2, below), st.BindFloat(3, below), st.BindInt64(4, lo), st.BindInt64(5, hi)); err != nil {
			return err
		}
		var key []byte
		for st.Step() {
			if !st.ColumnBool(0) {
				return nil // a message without its turn's other one next to it: p.ok stays false
			}
			// the group's key: text, language, kind and intent, each after its length
			key = key[:0]
			for col := 1; col <= 4; col++ {
				f := st.ColumnRawText(col)
				key = append(binary.AppendUvarint(key, uint64(len(f))), f...)
			}
			at, conf := st.ColumnInt64(6), st.ColumnFloat(5)
			i, seen := p.idx[string(key)]
			if !seen {
				k := string(key)
				var f [4]string // the fields share the key's bytes
				for j, at := 0, 0; j < 4; j++ {
					n, w := binary.Uvarint(key[at:])
					f[j], at = k[at+w:at+w+int(n)], at+w+int(n)
				}
				i = len(p.groups)
				p.idx[k] = i
				p.groups = append(p.groups, teachGroup{text: f[0], lang: f[1], kind: f[2], intent: f[3], conf: conf, last: at})
			}
			g := &p.groups[i]
			g.n++
			if at > g.last {
				g.last, g.conf = at, conf
			}
			if st.ColumnBool(7) {
				g.spoken++
			}
			if st.ColumnType(8) != sqlite3.NULL {
				if h := st.ColumnFloat(8); !g.heardSet || h < g.heard {
					g.heard, g.heardSet = h, true
				}
			}
		}
		if err := st.Err(); err != nil {
			return err
		}
		p.ok = true
		return nil
	})
}
