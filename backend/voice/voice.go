// Package voice is speech in and out: small interfaces (Recognizer, Synthesizer), WAV audio,
// the corpus a recognizer is adapted to (built from the content pack on every reload), and the
// Service that picks an engine per language. The engines live in sub-packages: sphinx
// (pocketsphinx through cgo, constrained by the content), espeak (espeak-ng through cgo); they
// register themselves in builds with cgo and are absent, saying so, in builds without it.
package voice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"voicebot/backend/content"
	"voicebot/backend/templates"
	"voicebot/backend/text"
)

// Transcript is what a recognizer heard.
type Transcript struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
	// Free is another reading of the same speech by a model of free questions (the built-in
	// recognizer's language model, where Text is the grammar's expected sentence); empty when
	// the recognizer has one reading only. The engine chooses between the readings
	// (conversation/spoken.go).
	Free string `json:"-"`
	// Forced says how surely Text, the content's expected sentence, was forced onto speech that
	// said something else: 0 when it fits the speech as well as Free does (or there is nothing
	// to compare), rising to 1 as Free fits much better (sphinx measures both by aligning them
	// to the speech).
	Forced float64 `json:"-"`
	// Alternatives are the free model's next readings, likeliest first.
	Alternatives []string      `json:"-"`
	Took         time.Duration `json:"-"`
}

// Recognizer turns 16 kHz mono speech into text.
type Recognizer interface {
	Name() string
	Languages() []string
	Transcribe(ctx context.Context, a Audio, lang string) (Transcript, error)
}

// Adapter is a recognizer that is adapted to the content: it compiles its language model from
// the corpus on every content reload.
type Adapter interface {
	Adapt(c *Corpus) (AdaptReport, error)
}

// AdaptReport says what adapting found, per language: words the pronunciation dictionary lacks
// (the dashboard's content page lists them) and the size of what was built.
type AdaptReport struct {
	Unknown   map[string][]string `json:"unknown_words"`
	Sentences map[string]int      `json:"sentences"`
	Took      time.Duration       `json:"-"`
}

// Synthesizer turns text into speech.
type Synthesizer interface {
	Name() string
	Languages() []string
	Synthesize(ctx context.Context, text, lang, voice string) (Audio, error)
}

// Corpus is what a recognizer is adapted to, per language: the sentences visitors are expected
// to say (intent phrasings, template expansions), the templates themselves as grammar
// expressions (so that every value of a slot list can be heard, where the expansions take a
// sample), the slot lists those refer to, and free text (knowledge documents) for questions
// outside them.
type Corpus struct {
	Sentences map[string][]string
	Templates map[string][]string            // "( what time | when ) does it open <list_day>"
	Expanded  map[string][][]string          // per template (same index): a sample of what it says
	Lists     map[string]map[string][]string // rule name (list_day) -> phrases
	Text      map[string][]string
}

// ListRule is the rule name a slot list has in template grammar expressions.
func ListRule(list string) string {
	var b strings.Builder
	b.WriteString("list_")
	for _, r := range list {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// MaxExpansions bounds how many sentences one template contributes.
const MaxExpansions = 200

// CorpusFrom builds the corpus from a content pack.
func CorpusFrom(p *content.Pack) *Corpus {
	c := &Corpus{Sentences: map[string][]string{}, Templates: map[string][]string{}, Expanded: map[string][][]string{}, Lists: map[string]map[string][]string{}, Text: map[string][]string{}}
	seenBy := map[string]map[string]bool{}
	listed := map[string]bool{} // base, code and rule of the list rules filled
	for code, intents := range p.Intents {
		lang := text.Base(code) // an "en-GB" pack is heard by the English models
		lists := p.Lists[code]
		if c.Lists[lang] == nil { // "en" and "en-GB" of one pack are heard alike
			c.Lists[lang] = map[string][]string{}
			seenBy[lang] = map[string]bool{}
		}
		seen := seenBy[lang]
		add := func(s string) {
			s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
			if s != "" && !seen[s] {
				seen[s] = true
				c.Sentences[lang] = append(c.Sentences[lang], s)
			}
		}
		for _, in := range intents {
			for _, t := range in.Templates {
				c.Expanded[lang] = append(c.Expanded[lang], t.Expand(lists, MaxExpansions, 1))
				c.Templates[lang] = append(c.Templates[lang], t.Grammar(func(r templates.SlotRef) string {
					rule := ListRule(r.List)
					if !listed[lang+"\x00"+code+"\x00"+rule] { // a pack's en and en-GB lists, joined
						listed[lang+"\x00"+code+"\x00"+rule] = true
						phrases := c.Lists[lang][rule]
						for _, v := range lists[r.List] {
							for _, ph := range v.Phrases {
								if p := strings.Join(ph, " "); !slices.Contains(phrases, p) {
									phrases = append(phrases, p)
								}
							}
						}
						c.Lists[lang][rule] = phrases
					}
					return "<" + rule + ">"
				}))
			}
			for _, e := range in.Examples {
				add(e)
			}
			// What the content answers is worded much as visitors ask about it.
			for _, r := range in.Responses {
				c.Text[lang] = append(c.Text[lang], r.Text)
			}
			if in.Confirm != "" {
				c.Text[lang] = append(c.Text[lang], in.Confirm)
			}
		}
		// Every value and synonym of a list can be said on its own.
		for _, vals := range lists {
			for _, v := range vals {
				for _, ph := range v.Phrases {
					c.Text[lang] = append(c.Text[lang], strings.Join(ph, " "))
				}
			}
		}
		for _, q := range p.Bot.Suggestions[code] {
			add(q)
		}
		sort.Strings(c.Sentences[lang])
	}
	for _, d := range p.Docs {
		lang := d.Lang
		if lang == "" {
			lang = p.Bot.DefaultLanguage
		}
		lang = text.Base(lang)
		c.Text[lang] = append(c.Text[lang], d.Title, d.Text)
	}
	return c
}

// EngineLanguage is how an engine that serves langs names the content's language lang: lang
// itself, or its base language when the engine lists that instead ("en" for a pack's "en-GB":
// Whisper-style servers take ISO 639-1 codes).
func EngineLanguage(langs []string, lang string) string {
	if !slices.Contains(langs, lang) && slices.Contains(langs, text.Base(lang)) {
		return text.Base(lang)
	}
	return lang
}

// Serves reports whether an engine that lists langs serves the content's language lang, as
// it is or by its base language.
func Serves(langs []string, lang string) bool {
	return slices.Contains(langs, EngineLanguage(langs, lang))
}

// Errors of the service.
var (
	ErrNoRecognizer  = errors.New("no speech recognizer for this language")
	ErrNoSynthesizer = errors.New("no speech synthesizer for this language")
)

// EngineInfo describes an engine for /v1/voice/engines and the dashboard.
type EngineInfo struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"` // "stt" or "tts"
	Languages []string `json:"languages"`
	Builtin   bool     `json:"builtin"`
}

// Service holds the engines and picks one per language and kind.
type Service struct {
	mu     sync.RWMutex
	stt    []Recognizer
	tts    []Synthesizer
	report AdaptReport
	notes  []string
}

// NewService starts with the built-in engines this build has (unless builtin is false).
func NewService(builtin bool) *Service {
	s := &Service{}
	if !builtin {
		s.notes = append(s.notes, "the built-in speech engines are turned off (voice_builtin: false)")
		return s
	}
	for _, f := range builtins {
		r, t, err := f()
		if err != nil {
			s.notes = append(s.notes, err.Error())
			continue
		}
		if r != nil {
			s.stt = append(s.stt, r)
		}
		if t != nil {
			s.tts = append(s.tts, t)
		}
	}
	if len(builtins) == 0 {
		s.notes = append(s.notes, "this build has no built-in speech engines (built without cgo); configure external ones")
	}
	return s
}

// builtins are the engines compiled in (sub-packages register with Register in their init).
var builtins []func() (Recognizer, Synthesizer, error)

// Register adds a built-in engine constructor (called from the engines' init in cgo builds).
func Register(f func() (Recognizer, Synthesizer, error)) { builtins = append(builtins, f) }

// Add puts an engine first for its languages (configured external engines win over built-ins).
func (s *Service) Add(r Recognizer, t Synthesizer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r != nil {
		s.stt = append([]Recognizer{r}, s.stt...)
	}
	if t != nil {
		s.tts = append([]Synthesizer{t}, s.tts...)
	}
}

// Recognizer returns the engine for a language.
func (s *Service) Recognizer(lang string) (Recognizer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.stt {
		if Serves(r.Languages(), lang) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoRecognizer, lang)
}

// Synthesizer returns the engine for a language.
func (s *Service) Synthesizer(lang string) (Synthesizer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tts {
		if Serves(t.Languages(), lang) {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoSynthesizer, lang)
}

// Adapt recompiles the adaptable recognizers' models from the content; errors are returned
// joined, and the engines keep their previous models.
func (s *Service) Adapt(p *content.Pack) (AdaptReport, error) {
	c := CorpusFrom(p)
	s.mu.RLock()
	stt := slices.Clone(s.stt)
	s.mu.RUnlock()
	var errs []error
	rep := AdaptReport{Unknown: map[string][]string{}, Sentences: map[string]int{}}
	start := time.Now()
	for _, r := range stt {
		a, ok := r.(Adapter)
		if !ok {
			continue
		}
		one, err := a.Adapt(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Name(), err))
			continue
		}
		for l, w := range one.Unknown {
			rep.Unknown[l] = append(rep.Unknown[l], w...)
		}
		for l, n := range one.Sentences {
			rep.Sentences[l] += n
		}
	}
	rep.Took = time.Since(start)
	s.mu.Lock()
	s.report = rep
	s.mu.Unlock()
	return rep, errors.Join(errs...)
}

// Report is the last adaptation's report.
func (s *Service) Report() AdaptReport {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.report
}

// Engines lists the engines, and notes on what is missing.
func (s *Service) Engines() ([]EngineInfo, []string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []EngineInfo
	for _, r := range s.stt {
		out = append(out, EngineInfo{Name: r.Name(), Kind: "stt", Languages: r.Languages(), Builtin: isBuiltin(r)})
	}
	for _, t := range s.tts {
		out = append(out, EngineInfo{Name: t.Name(), Kind: "tts", Languages: t.Languages(), Builtin: isBuiltin(t)})
	}
	return out, slices.Clone(s.notes)
}

// Builtin marks the built-in engines.
type Builtin interface{ Builtin() bool }

func isBuiltin(v any) bool {
	b, ok := v.(Builtin)
	return ok && b.Builtin()
}

// Stream is one utterance decoded while it is spoken: audio goes in as it arrives, a partial
// hypothesis can be read at any time, and End returns the final transcript.
type Stream interface {
	Write(samples []int16) error
	Partial() string
	End() (Transcript, error)
	Close()
}

// StreamRecognizer is a recognizer that decodes as the audio arrives.
type StreamRecognizer interface {
	NewStream(ctx context.Context, lang string) (Stream, error)
}

// NewStream opens a stream on the language's recognizer; recognizers that only take whole
// recordings get a buffer that transcribes at End.
func (s *Service) NewStream(ctx context.Context, lang string) (Stream, error) {
	r, err := s.Recognizer(lang)
	if err != nil {
		return nil, err
	}
	if sr, ok := r.(StreamRecognizer); ok {
		return sr.NewStream(ctx, lang)
	}
	return &bufferStream{ctx: ctx, r: r, lang: lang}, nil
}

type bufferStream struct {
	ctx  context.Context
	r    Recognizer
	lang string
	buf  []int16
}

func (b *bufferStream) Write(s []int16) error {
	if len(b.buf)+len(s) > int(MaxAudio/time.Second)*SampleRate {
		return ErrTooLong
	}
	b.buf = append(b.buf, s...)
	return nil
}
func (b *bufferStream) Partial() string { return "" }
func (b *bufferStream) End() (Transcript, error) {
	return b.r.Transcribe(b.ctx, Audio{Rate: SampleRate, Samples: b.buf}, b.lang)
}
func (b *bufferStream) Close() {}
