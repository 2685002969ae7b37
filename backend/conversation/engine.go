package conversation

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"voicebot/backend/conversation/nlu"
	"voicebot/backend/conversation/spelling"
	tracing "voicebot/backend/internal/tracer"
	"voicebot/backend/text"
)

// MaxUtteranceRunes bounds one utterance; longer input is refused, not truncated.
const MaxUtteranceRunes = 1000

// Errors a caller can map to a response (the LAN API turns them into 4xx codes).
var (
	ErrEmpty     = errors.New("text is empty")
	ErrTooLong   = fmt.Errorf("text is longer than %d characters", MaxUtteranceRunes)
	ErrNotReady  = errors.New("no content loaded yet")
	ErrSessionID = errors.New("session_id must be 1 to 64 letters, digits, '-' or '_'")
)

// LanguageError is returned for a language the content pack does not serve.
type LanguageError struct {
	Lang      string
	Supported []string
}

func (e *LanguageError) Error() string {
	return fmt.Sprintf("language %q is not served; the content has %s", e.Lang, strings.Join(e.Supported, ", "))
}

// Request is one visitor turn.
type Request struct {
	SessionID string // empty starts a new session
	Text      string
	Lang      string // optional: one of the pack's languages; detected when empty
	KeyID     string // who asks (an API key id), recorded with the turn
	// Spoken is set for a voice turn: the recogniser's readings of the speech, which the
	// engine chooses between (Text is then ignored; see spoken.go).
	Spoken *Spoken
	// Prior, for a new session only (SessionID empty), are the visitor's earlier utterances
	// of this conversation as the client kept them (an OpenAI-style client resending its
	// history): they are answered in order, in memory, before Text, so that the new session
	// has the dialogue memory they make (follow-ups, forms); nothing of them is saved or
	// counted as a turn. At most MaxPrior, the latest; invalid ones are skipped.
	Prior []string
}

// MaxPrior bounds the earlier utterances a turn replays (Request.Prior).
const MaxPrior = 20

// Reply is the engine's answer to one turn.
type Reply struct {
	SessionID  string            `json:"session_id"`
	Text       string            `json:"text"`
	Lang       string            `json:"lang"`
	Kind       string            `json:"kind"` // intent, knowledge, prompt, confirm, cancelled, fallback, handoff
	Intent     string            `json:"intent,omitempty"`
	Confidence float64           `json:"confidence,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"`
	Sources    []Source          `json:"sources,omitempty"`
	Via        string            `json:"via,omitempty"` // template, example, model, answer, followup, form, confirm, knowledge, cache
	Version    uint64            `json:"content_version"`
	Turn       int               `json:"turn"` // number of this turn in the session, from 1
	// Offer is, on a repair (kind repair), the reading the engine thinks it heard, for the
	// visitor to confirm with a tap ("" when it has none worth offering).
	Offer string `json:"offer,omitempty"`
	// Heard is, on a voice turn, what was heard and how sure the engine is of it.
	Heard *Heard `json:"heard,omitempty"`
}

// Source cites a knowledge document.
type Source struct {
	Title string `json:"title"`
	Path  string `json:"path"`
}

// Reply kinds.
const (
	KindIntent    = "intent"
	KindKnowledge = "knowledge"
	KindPrompt    = "prompt"
	KindConfirm   = "confirm"
	KindCancelled = "cancelled"
	KindFallback  = "fallback"
	KindHandoff   = "handoff"
	KindRepair    = "repair" // a voice turn not heard well enough to answer: "could you say that again?"
)

// Engine answers turns from the current snapshot. Safe for concurrent use; turns of one session
// are serialised so its memory stays consistent.
type Engine struct {
	snap      atomic.Pointer[Snapshot]
	overrides atomic.Pointer[Overrides]
	sessions  SessionStore
	locks     SessionLocks
	now       func() time.Time
}

// SessionLocks serialise what happens to one session: the engine holds a session's lock through
// a turn (read its memory, answer, save), so turns of one session wait for each other while
// others run in parallel (64 striped mutexes).
type SessionLocks struct{ mu [64]sync.Mutex }

// Lock takes the session's lock and returns its unlock.
func (l *SessionLocks) Lock(id string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(id))
	m := &l.mu[h.Sum32()%uint32(len(l.mu))]
	m.Lock()
	return m.Unlock
}

// SessionLocker is implemented by a SessionStore that changes sessions outside turns (history's
// erase): New hands it the engine's session locks, so that such a change waits for a turn in
// flight and no turn starts during it.
type SessionLocker interface {
	UseSessionLocks(*SessionLocks)
}

// New returns an engine with no content; Swap in a snapshot before the first turn.
func New(sessions SessionStore) *Engine {
	e := &Engine{sessions: sessions, now: time.Now}
	if l, ok := sessions.(SessionLocker); ok {
		l.UseSessionLocks(&e.locks)
	}
	return e
}

// Overrides are thresholds set by the operator at run time (the settings), over the content's
// own; zero keeps the content's value.
type Overrides struct {
	IntentThreshold float64 // confidence an intent needs (else the calibrated or bot.yaml value)
	KnowledgeMatch  float64 // share of a question's words a document must contain
}

// SetOverrides replaces the run-time thresholds; turns already under way keep the old ones.
func (e *Engine) SetOverrides(o Overrides) { e.overrides.Store(&o) }

func (e *Engine) currentOverrides() Overrides {
	if o := e.overrides.Load(); o != nil {
		return *o
	}
	return Overrides{}
}

// Swap makes s the snapshot new turns are answered from and returns the previous one. Turns in
// flight finish on the snapshot they started with.
func (e *Engine) Swap(s *Snapshot) *Snapshot { return e.snap.Swap(s) }

// Snapshot returns the snapshot in service, or nil before the first Swap.
func (e *Engine) Snapshot() *Snapshot { return e.snap.Load() }

var sessionIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// tracer makes the engine's spans (the turn and its stages) with the provider of the span the
// caller put in ctx (the API's request span): the engine imports no global OpenTelemetry state,
// and when tracing is off that provider is a no-op one.
var spans = tracing.New("voicebot/backend/conversation")

func tracer(ctx context.Context) trace.Tracer {
	return spans.For(trace.SpanFromContext(ctx).TracerProvider())
}

// Reply answers one turn and saves the session's memory before returning.
func (e *Engine) Reply(ctx context.Context, req Request) (r Reply, err error) {
	ctx, span := tracer(ctx).Start(ctx, "conversation.turn")
	defer func() {
		if span.IsRecording() {
			span.SetAttributes(attribute.String("voicebot.lang", r.Lang), attribute.String("voicebot.kind", r.Kind),
				attribute.String("voicebot.intent", r.Intent), attribute.Float64("voicebot.confidence", r.Confidence), attribute.String("voicebot.via", r.Via))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	if req.Spoken != nil {
		req.Text = req.Spoken.first()
	}
	utt, lang, s, err := e.check(req.Text, req.Lang)
	if err != nil {
		return Reply{}, err
	}
	id := req.SessionID
	if id == "" {
		id = NewSessionID()
	} else if !sessionIDRe.MatchString(id) {
		return Reply{}, ErrSessionID
	}

	defer e.locks.Lock(id)()

	var st *State
	ok := false
	if req.SessionID != "" { // a new id has nothing stored yet
		var err error
		st, ok, err = e.sessions.Get(ctx, id)
		if err != nil {
			return Reply{}, fmt.Errorf("load session: %w", err)
		}
	}
	now := e.now()
	if !ok {
		st = &State{ID: id, Created: now}
	}
	if st.Rotation == nil {
		st.Rotation = map[string]int{}
	}
	if !ok && req.SessionID == "" {
		e.replay(st, s, req.Prior, req.Lang)
	}
	if lang == "" {
		_, sp := tracer(ctx).Start(ctx, "conversation.language")
		lang = s.detect(utt, st.Lang)
		if sp.IsRecording() {
			sp.SetAttributes(attribute.String("voicebot.lang", lang))
		}
		sp.End()
	}
	st.Lang = lang
	ov := e.currentOverrides()
	var heard *Heard
	if req.Spoken != nil {
		c := s.hear(ctx, st, req.Spoken, lang, ov, true)
		heard = &c.heard
		if c.repair {
			r = s.repairReply(lang, c.offer)
		} else {
			r = s.turn(ctx, st, c.text, lang, ov)
		}
		if c.heard.Transcript != "" {
			utt = c.heard.Transcript
		}
		r.Heard = heard
	} else {
		r = s.turn(ctx, st, utt, lang, ov)
	}
	st.Turns++
	r.SessionID, r.Lang, r.Version, r.Turn = id, lang, s.Version, st.Turns
	st.Updated = now
	turn := &Turn{Visitor: utt, Reply: r, KeyID: req.KeyID, At: now, Latency: e.now().Sub(now), Heard: heard}
	sctx, sp := tracer(ctx).Start(ctx, "store.save") // the durable write, the group commit's wait included
	err = e.sessions.Put(sctx, st, turn)
	if err != nil {
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
	if err != nil {
		return Reply{}, fmt.Errorf("save session: %w", err)
	}
	return r, nil
}

// replay answers a new session's earlier utterances (Request.Prior) into its memory, saving
// nothing.
func (e *Engine) replay(st *State, s *Snapshot, prior []string, lang string) {
	if len(prior) > MaxPrior {
		prior = prior[len(prior)-MaxPrior:]
	}
	ov := e.currentOverrides()
	for _, p := range prior {
		utt, l, _, err := e.check(p, lang)
		if err != nil {
			continue
		}
		if l == "" {
			l = s.detect(utt, st.Lang)
		}
		st.Lang = l
		s.turn(context.Background(), st, utt, l, ov)
	}
}

// Try answers an utterance as the first turn of a new session would, and saves nothing: the
// dashboard's box for operators testing their content.
func (e *Engine) Try(text, lang string) (Reply, error) {
	utt, lang, s, err := e.check(text, lang)
	if err != nil {
		return Reply{}, err
	}
	if lang == "" {
		lang = s.detect(utt, "")
	}
	st := &State{ID: "try", Lang: lang, Rotation: map[string]int{}}
	r := s.turn(context.Background(), st, utt, lang, e.currentOverrides())
	r.Lang, r.Version, r.Turn = lang, s.Version, 1
	return r, nil
}

// Hear chooses what a recogniser's readings say, as the first turn of a new session would, and
// saves nothing (for transcription without a turn).
func (e *Engine) Hear(sp Spoken, lang string) (Heard, error) {
	_, lang, s, err := e.check(sp.first(), lang)
	if err != nil {
		return Heard{}, err
	}
	if lang == "" {
		lang = s.detect(sp.first(), "")
	}
	st := &State{ID: "try", Lang: lang, Rotation: map[string]int{}}
	return s.hear(context.Background(), st, &sp, lang, e.currentOverrides(), false).heard, nil
}

// check validates an utterance and an optional language against the snapshot in service, and
// returns the trimmed utterance, the pack's language it asks for ("" to detect; a regional tag
// such as "en-US" is served by the pack's "en", content.Bot.MatchLanguage) and the snapshot.
func (e *Engine) check(text, lang string) (string, string, *Snapshot, error) {
	utt := strings.TrimSpace(text)
	switch {
	case !utf8.ValidString(utt):
		return "", "", nil, errors.New("text is not valid UTF-8")
	case utt == "":
		return "", "", nil, ErrEmpty
	case utf8.RuneCountInString(utt) > MaxUtteranceRunes:
		return "", "", nil, ErrTooLong
	}
	s := e.snap.Load()
	if s == nil {
		return "", "", nil, ErrNotReady
	}
	if strings.TrimSpace(lang) == "" {
		return utt, "", s, nil
	}
	served, ok := s.Pack.Bot.MatchLanguage(lang)
	if !ok {
		return "", "", nil, &LanguageError{Lang: lang, Supported: s.Pack.Bot.Languages}
	}
	return utt, served, s, nil
}

// DetectLanguage picks the language of a text among the content's (the default language when
// nothing is loaded or nothing stands out).
func (e *Engine) DetectLanguage(text string) string {
	s := e.snap.Load()
	if s == nil {
		return ""
	}
	return s.detect(text, "")
}

// Greeting is the bot's greeting in a language (the default language when empty).
func (e *Engine) Greeting(lang string) string {
	s := e.snap.Load()
	if s == nil {
		return ""
	}
	if lang == "" {
		lang = s.Pack.Bot.DefaultLanguage
	}
	return s.Pack.Bot.Localized(s.Pack.Bot.Greeting, lang)
}

// Confidence levels of the turn logic: a model at least this sure keeps its intent unless a
// document covers the question at least strongKnowledge (idf-weighted share of its words).
const (
	sureIntent      = 0.95
	doubtfulIntent  = 0.5 // below it, a document that matches as usual wins
	elsewhereIntent = 0.7 // at least this sure of another intent, an elliptical question is not a follow-up
	strongKnowledge = 0.9
	unsureKnowledge = 0.7
	// clauseAlone: the question after a clause that sets the scene answers alone at this
	// confidence when the whole turn is turned away. The scene's words dilute the whole ("I
	// finish work at 6, will you still be open if I come by on a Thursday?": 0.13, under the
	// threshold of 0.14; the question alone 0.47). Chosen on the library and hotel packs
	// (testdata): 0.35 - 0.4 answered 3 more of the library's questions and nothing else on
	// them or on the demo's visitor sets; 0.3 also answered the hotel's "my boyfriend isn't a
	// guest, can he come up to the room tonight?" with room service, the model's own threshold
	// (0.14) 4 more right and 5 more wrong where the fallback was. Spoken turns have no
	// clauses.
	clauseAlone = 0.4
)

// pointsBackAt reports whether the turn points back at what the session's last answer says
// (pointsBack) and the follow-up will answer it (followUp: no slot value, followsUp): then the
// documents that happen to say its word do not take it.
func (s *Snapshot) pointsBackAt(st *State, lb *langBrain, toks []string, pred nlu.Prediction) bool {
	last := lb.byName[st.LastIntent]
	if last == nil || !pointsBack(lb, st, last, toks) {
		return false
	}
	if found, _ := extractSlots(last, lb.lists, toks); len(found) > 0 {
		return false
	}
	return followsUp(lb, st, last, toks, pred)
}

// contentWords drops stop words.
func contentWords(lang string, words []string) []string {
	out := words[:0:0]
	for _, w := range words {
		if !text.IsStopword(lang, w) {
			out = append(out, w)
		}
	}
	return out
}

// detect picks the utterance's language. A session keeps its language unless the utterance is
// clearly in another one, so that a short "ok" does not flip a Spanish conversation to English.
func (s *Snapshot) detect(utt, sessionLang string) string {
	lang, conf := s.detector.Detect(utt)
	if lang == "" {
		return s.Pack.Bot.DefaultLanguage
	}
	if sessionLang != "" && sessionLang != lang && (conf < 0.95 || len(text.Tokens(utt)) < 2) {
		return sessionLang
	}
	return lang
}

// turn decides the answer: an open question first, then templates, a follow-up on the last
// intent, the intent model, knowledge, and the fallback.
func (s *Snapshot) turn(ctx context.Context, st *State, utt, lang string, ov Overrides) Reply {
	knowledgeMatch := s.Pack.Bot.KnowledgeMatch
	if ov.KnowledgeMatch > 0 {
		knowledgeMatch = ov.KnowledgeMatch
	}
	lb := s.langs[lang]
	raw := utt // as typed or heard, signs and all
	toks := text.Tokens(utt)
	if st.Pending != nil {
		_, sp := tracer(ctx).Start(ctx, "conversation.dialogue")
		r, done := s.continuePending(st, lb, utt, toks)
		sp.End()
		if done {
			return r
		}
	}
	// A question after a clause that sets the scene ("my father uses a wheelchair, is there a
	// ramp at the entrance?") is read alone too (questionClause): found before the slips are
	// put right, which takes the punctuation away.
	clause := questionClause(utt)
	var clauseToks []string
	if clause != "" {
		clauseToks = text.Tokens(clause)
		if fixed, _ := lb.spell.Correct(clauseToks); fixed != nil {
			clauseToks, clause = fixed, strings.Join(fixed, " ")
		}
	}
	// The assistant called by name asks nothing with it ("thanks Mira", "hey Mira what time do
	// you close"); left out before the slips are put right, which could take the name for one.
	if w := withoutName(lb, toks); len(w) != len(toks) {
		toks, utt = w, strings.Join(w, " ")
	}
	// A typed word that is neither the pack's nor the language's is put right to the pack's
	// word one edit away (package spelling): "how much are tikets".
	if fixed, changed := lb.spell.Correct(toks); fixed != nil {
		toks, utt = fixed, strings.Join(fixed, " ")
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("voicebot.spelling", spelling.Note(changed)))
	}
	// A template or an example says it word for word, also after a follow-up's opening ("and
	// where is the cafe?") or with contractions spelled out ("where's the cafe").
	bases := [][]string{toks}
	if clauseToks != nil {
		bases = append(bases, clauseToks)
	}
	var readings [][]string
	for _, b := range bases {
		readings = append(readings, b)
		if w := withoutOpening(lang, b); len(w) != len(b) {
			readings = append(readings, w)
		}
		if full := text.SpelledOut(lang, b); full != nil {
			readings = append(readings, full)
			if w := withoutOpening(lang, full); len(w) != len(full) {
				readings = append(readings, w)
			}
		}
	}
	_, sp := tracer(ctx).Start(ctx, "conversation.match") // templates and listed examples, word for word
	for _, ts := range readings {
		if in, slots, ok := lb.matchTemplate(ts); ok {
			sp.End()
			return s.answerIntent(st, lb, in, slots, 1, "template", false)
		}
		if in := lb.exampleFor(ts); in != nil {
			sp.End()
			slots, _ := extractSlots(in, lb.lists, ts)
			return s.answerIntent(st, lb, in, slots, 1, "example", false)
		}
	}
	sp.End()
	// A sum ("what is 17 times 23?") is for a calculator, unless the pack's phrasings do sums.
	if !lb.sums && isSum(lang, raw, toks) {
		return s.fallback(st, lang)
	}
	var pred nlu.Prediction
	read := utt       // what the model's prediction is of: the whole, or the question alone
	var ans answerHit // the answer search, for a question the model turns away
	if lb.model != nil {
		_, sp := tracer(ctx).Start(ctx, "conversation.intent_model")
		predict := func(u string) nlu.Prediction {
			if ov.IntentThreshold > 0 {
				return lb.model.PredictAt(u, ov.IntentThreshold)
			}
			return lb.model.Predict(u)
		}
		pred = predict(utt)
		// The question alone answers when the model is sure of it and surer than of the whole,
		// or fairly sure of it (clauseAlone) when the whole is turned away. A question alone of
		// one meaningful word may lean on the clause before it ("we want to play padel
		// tomorrow, how do we book?"): it answers only with the intent the whole leans to.
		if clause != "" {
			if p := predict(clause); p.Label != nlu.OOS && (p.Confidence >= doubtfulIntent || (pred.Label == nlu.OOS && !pred.Refused && p.Confidence >= clauseAlone)) && (pred.Label == nlu.OOS || p.Confidence > pred.Confidence) &&
				(len(contentWords(lang, clauseToks)) >= 2 || p.Intent == pred.Intent) {
				pred, read = p, clause
			}
		}
		if sp.IsRecording() {
			sp.SetAttributes(attribute.String("voicebot.intent", pred.Intent), attribute.Float64("voicebot.confidence", pred.Confidence))
		}
		sp.End()
		// A question the model turns away is answered by the documents, unless an intent's
		// answer speaks of it clearly better than any passage does (answerLead).
		if pred.Label == nlu.OOS && !pred.Refused {
			ans = s.searchAnswers(lb, lang, read)
		}
		// Words the intents never use point to the documents: "how many prisms does the lens
		// have" is not a ticket question, however sure the model is. A document that covers
		// the question well wins; one that covers it in part wins over an unsure model, or
		// over any model when most of the words that carry meaning are strange to every intent
		// (not even another form of their words). Whether an intent answers at all is the
		// model's to say: its confidence already counts how much of the question the intent's
		// phrasings speak of (nlu/coverage.go).
		if unknown := lb.unlisted(contentWords(lang, lb.model.UnknownWords(read))); len(unknown) > 0 && !ans.leads && !s.pointsBackAt(st, lb, toks, pred) {
			strange := lb.unlisted(contentWords(lang, lb.model.StrangeWords(read)))
			need := strongKnowledge
			switch {
			case pred.Label == nlu.OOS || pred.Confidence < doubtfulIntent || 2*len(strange) > len(contentWords(lang, text.Tokens(read))):
				need = knowledgeMatch
			case pred.Confidence < sureIntent:
				need = unsureKnowledge
			}
			if r, ok := s.knowledgeOf(ctx, st, lang, utt, clause, need); ok {
				return r
			}
		}
	} else {
		pred = nlu.Prediction{Label: nlu.OOS}
		ans = s.searchAnswers(lb, lang, utt)
	}
	_, sp = tracer(ctx).Start(ctx, "conversation.dialogue")
	r, ok := s.followUp(st, lb, toks, pred)
	sp.End()
	if ok {
		return r
	}
	if pred.Label != nlu.OOS {
		in := lb.byName[pred.Label]
		slots, _ := extractSlots(in, lb.lists, toks)
		return s.answerIntent(st, lb, in, slots, pred.Confidence, "model", false)
	}
	if !ans.leads {
		if r, ok := s.knowledgeOf(ctx, st, lang, utt, clause, knowledgeMatch); ok {
			return r
		}
	}
	if ans.in != nil { // never for a question like those the content marks as not for it (Refused)
		slots, _ := extractSlots(ans.in, lb.lists, toks)
		// Half the match: a guess from what the intent answers, which the Teach page lists
		// (under 0.5) to be confirmed, and which weighs less among a spoken question's readings.
		return s.answerIntent(st, lb, ans.in, slots, ans.match/2, "answer", false)
	}
	return s.fallback(st, lang)
}
