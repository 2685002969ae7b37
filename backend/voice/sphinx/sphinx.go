//go:build cgo && linux

package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#cgo LDFLAGS: -l:libpocketsphinx.a -l:libsphinxbase.a -llapack -lblas -lm
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <pocketsphinx.h>

// vb_new makes a decoder for the grammar (lm == 0) or for the language model (lm == 1). The
// grammar's beams and silence penalty were chosen on the spoken demo corpus
// (TestVoiceTurnsOnSpokenDemoQuestions) together with the speed of a 3 s clip
// (BenchmarkTranscribe3s); docs/BENCHMARKS.md has the figures. Silence may still come between
// any two words, but at 1e-10 instead of 0.005 it no longer keeps a silence model alive after
// every word: faster, and fewer short sentences fitted to a pause. The grammar's language
// weight is 2 (default 6.5): every sentence is equally likely, so a word's probability is
// only how many sentences go through it, and at full weight that pulled what was said onto
// the sentences with fewer branches (espeak-ng's "hey" heard as "thank you"); chosen on
// voices the corpus does not use (flite awb and rms, espeak-ng en-us+f3): expected phrasings
// 96.7% -> 99.3% there, 97.0% -> 99.4% on the corpus voices. The language model's decoder
// hears the questions the grammar does not hold, and its lattice gives the voice turn more
// readings to choose from: every frame and a best-path search over the lattice (every other
// frame heard visitors' questions worse; a flat second pass and beams of 1e-55 cost a third
// more time for nothing on the tuning set: TestSpokenVisitorTuning, docs/BENCHMARKS.md).
static ps_decoder_t *vb_new(const char *hmm, const char *dict, int lm) {
	cmd_ln_t *cfg = lm
		? cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", dict,
			"-logfn", "/dev/null", "-samprate", "16000",
			"-beam", "1e-48", "-pbeam", "1e-48", "-wbeam", "1e-40", "-fwdflat", "no", NULL)
		: cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", dict,
			"-logfn", "/dev/null", "-samprate", "16000",
			"-beam", "1e-55", "-pbeam", "1e-55", "-wbeam", "1e-50", "-silprob", "1e-10", "-lw", "2", NULL);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// vb_new_tuned makes a decoder with the settings given (the Spanish decoders: spanish.go,
// spanishSettings).
static ps_decoder_t *vb_new_tuned(const char *hmm, const char *dict, const char *beam, const char *pbeam,
		const char *wbeam, const char *silprob, const char *lw) {
	cmd_ln_t *cfg = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", dict,
		"-logfn", "/dev/null", "-samprate", "16000",
		"-beam", beam, "-pbeam", pbeam, "-wbeam", wbeam, "-silprob", silprob, "-lw", lw, NULL);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// vb_set_fsg adds a search of the grammar given in FSG text form.
static int vb_set_fsg(ps_decoder_t *ps, const char *name, char *text, size_t n) {
	FILE *f = fmemopen(text, n, "r");
	if (f == NULL) return -1;
	fsg_model_t *fsg = fsg_model_read(f, ps_get_logmath(ps), cmd_ln_float32_r(ps_get_config(ps), "-lw"));
	fclose(f);
	if (fsg == NULL) return -1;
	int rc = ps_set_fsg(ps, name, fsg);
	fsg_model_free(fsg);
	return rc;
}

static int vb_decode(ps_decoder_t *ps, const char *search, const short *buf, size_t n) {
	if (ps_set_search(ps, search) < 0) return -1;
	if (ps_start_utt(ps) < 0) return -2;
	if (ps_process_raw(ps, buf, n, FALSE, TRUE) < 0) { ps_end_utt(ps); return -3; }
	if (ps_end_utt(ps) < 0) return -4;
	return 0;
}

static int vb_start(ps_decoder_t *ps, const char *search) {
	if (ps_set_search(ps, search) < 0) return -1;
	return ps_start_utt(ps);
}

static int vb_feed(ps_decoder_t *ps, const short *buf, size_t n) {
	return ps_process_raw(ps, buf, n, FALSE, FALSE);
}

static const char *vb_hyp(ps_decoder_t *ps) {
	int32 score;
	return ps_get_hyp(ps, &score);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/text"
	"voicebot/backend/voice"
)

// ModelDir is where Debian's pocketsphinx-en-us puts the model (VOICEBOT_SPHINX_MODEL overrides).
const ModelDir = "/usr/share/pocketsphinx/model/en-us"

func init() {
	voice.Register(func() (voice.Recognizer, voice.Synthesizer, error) {
		r, err := New(modelDir())
		if err != nil {
			return nil, nil, err
		}
		return r, nil, nil
	})
}

func modelDir() string {
	if d := os.Getenv("VOICEBOT_SPHINX_MODEL"); d != "" {
		return d
	}
	return ModelDir
}

// Recognizer is pocketsphinx adapted to the content, in English and, on the same English
// acoustic model, in Spanish (spanish.go). Decoders are made on first use (each holds the
// acoustic model) and kept per language in two pools, one of grammar decoders and one of
// language-model decoders, each as large as the cores (up to 4).
type Recognizer struct {
	hmm, dict string

	mu    sync.Mutex
	langs map[string]*language // "en" always; "es" once the content had Spanish to adapt
	ipa   map[string][]string  // espeak-ng's IPA of Spanish words, per spanishVoices (a cache)
}

// language is what one language's decoders are made with and brought up to.
type language struct {
	code  string
	dict  string     // the dictionary file the decoders start with
	tuned *[2]tuning // nil: vb_new's settings (English)
	split splitter

	version int               // under Recognizer.mu, as the three below
	grammar string            // FSG of the expected sentences ("" = none)
	extra   map[string]string // words added to the decoders' dictionary, with their phones
	lm      string            // ARPA bigram model ("" = none)
	words   [][2]string       // extra in the order it is added (bases before their variants)

	pools  [2]chan *decoder // grammar decoders, language-model decoders
	made   [2]int
	pairMu sync.Mutex
}

// tuning is a decoder's search settings, as pocketsphinx's flags take them.
type tuning struct{ beam, pbeam, wbeam, silprob, lw string }

type decoder struct {
	ps      *C.ps_decoder_t
	version int
	search  string // "grammar" or "lm": what it decodes with (searches[kind])
	ready   bool   // the search is loaded
	warm    bool   // it has finished an utterance: its running noise and channel estimate is set
}

// New checks the model files and reads the dictionary; no decoder is made yet.
func New(dir string) (*Recognizer, error) {
	hmm := filepath.Join(dir, "en-us")
	dict := filepath.Join(dir, "cmudict-en-us.dict")
	for _, p := range []string{filepath.Join(hmm, "mdef"), dict} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("pocketsphinx: no English model at %s (Debian: apt-get install pocketsphinx-en-us)", dir)
		}
	}
	r := &Recognizer{hmm: hmm, dict: dict, langs: map[string]*language{}, ipa: map[string][]string{}}
	r.langs["en"] = r.newLanguage("en", dict, nil, words)
	return r, nil
}

func (r *Recognizer) newLanguage(code, dict string, tuned *[2]tuning, split splitter) *language {
	n := min(runtime.NumCPU(), 4)
	return &language{code: code, dict: dict, tuned: tuned, split: split,
		pools: [2]chan *decoder{make(chan *decoder, n), make(chan *decoder, n)}}
}

func (r *Recognizer) Name() string  { return "pocketsphinx" }
func (r *Recognizer) Builtin() bool { return true }

// Languages is English, and Spanish when the content has Spanish the recognizer could adapt to.
func (r *Recognizer) Languages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if es := r.langs["es"]; es != nil && (es.grammar != "" || es.lm != "") {
		return []string{"en", "es"}
	}
	return []string{"en"}
}

// lang returns a language the recognizer serves now, else nil.
func (r *Recognizer) lang(code string) *language {
	code = text.Base(code) // a pack's "en-GB" is heard by the English models
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.langs[code]
	if l == nil || l.grammar == "" && l.lm == "" && code != "en" {
		return nil
	}
	return l
}

// models is what Adapt compiles for one language.
type models struct {
	grammar, lm string
	extra       map[string]string
	words       [][2]string
}

// install swaps a language's models in; its decoders load them when next taken.
func (r *Recognizer) install(l *language, m models) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l.version++
	l.grammar, l.lm, l.extra, l.words = m.grammar, m.lm, m.extra, m.words
	if l.words == nil {
		for w, p := range m.extra {
			l.words = append(l.words, [2]string{w, p})
		}
	}
}

// Adapt compiles the grammar and the language model of the English part of the corpus, and of
// the Spanish part when it has one (an error there leaves English adapted and Spanish as it was).
func (r *Recognizer) Adapt(c *voice.Corpus) (voice.AdaptReport, error) {
	start := time.Now()
	rep := voice.AdaptReport{Unknown: map[string][]string{}, Sentences: map[string]int{}}
	en, err := r.adaptEnglish(c, &rep)
	if err != nil {
		return rep, err
	}
	r.install(r.langs["en"], en)
	if err := r.adaptSpanish(c, &rep); err != nil {
		rep.Took = time.Since(start)
		return rep, fmt.Errorf("Spanish: %w", err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// adaptEnglish builds English's grammar and language model, with Debian's dictionary.
func (r *Recognizer) adaptEnglish(c *voice.Corpus, rep *voice.AdaptReport) (models, error) {
	// Every word the content may make a visitor say, to look up in the dictionary.
	var all []string
	all = append(all, c.Sentences["en"]...)
	all = append(all, c.Templates["en"]...)
	for _, phrases := range c.Lists["en"] {
		all = append(all, phrases...)
	}
	for _, ex := range c.Expanded["en"] {
		all = append(all, ex...)
	}
	all = append(all, c.Text["en"]...)
	wanted := map[string]bool{}
	for _, s := range all {
		ws, _ := words(s)
		for _, w := range ws {
			wanted[w] = true
		}
	}
	dict, err := loadDictionary(r.dict, wanted)
	if err != nil {
		return models{}, err
	}
	// Words the dictionary lacks: pronounce what can be pronounced from its parts, report the rest.
	var spoken []string
	spoken = append(spoken, c.Sentences["en"]...)
	for _, phrases := range c.Lists["en"] {
		spoken = append(spoken, phrases...)
	}
	for _, ex := range c.Expanded["en"] {
		spoken = append(spoken, ex...)
	}
	_, unknown := grammarSentences(spoken, dict, words)
	extra, err := pronounce(r.dict, unknown)
	if err != nil {
		return models{}, err
	}
	for w, p := range extra {
		dict[w] = p
	}
	gen, err := r.general()
	if err != nil {
		return models{}, err
	}
	m, err := compile("en", c, dict, words, gen, rep)
	m.extra = extra
	return m, err
}

// compile builds a language's grammar and bigram model from its corpus, with the words the
// dictionary has. The grammar: the phrasings as a word graph, the templates as they are written
// (their lists as rules, so every value can be heard); a template with a word the dictionary
// lacks contributes the sentences of its sample that can be said instead. The language model:
// those sentences and the samples (weight 3), the content's text (weight 1), and general words.
func compile(lang string, c *voice.Corpus, dict dictionary, split splitter, gen map[string]float64, rep *voice.AdaptReport) (models, error) {
	var spoken []string
	spoken = append(spoken, c.Sentences[lang]...)
	for _, phrases := range c.Lists[lang] {
		spoken = append(spoken, phrases...)
	}
	for _, ex := range c.Expanded[lang] {
		spoken = append(spoken, ex...)
	}
	sentences := append([]string(nil), c.Sentences[lang]...)
	var exprs []string
	rules := map[string][]string{}
	for i, expr := range c.Templates[lang] {
		if ok := templateOK(expr, dict, c.Lists[lang], rules, split); ok {
			exprs = append(exprs, expr)
		} else if i < len(c.Expanded[lang]) {
			sentences = append(sentences, c.Expanded[lang][i]...)
		}
	}
	sents, _ := grammarSentences(sentences, dict, split)
	_, unknown := grammarSentences(append(spoken, c.Templates[lang]...), dict, split)
	rep.Unknown[lang], rep.Sentences[lang] = unknown, len(sents)+len(exprs)
	var lmSents [][]string
	var weights []float64
	for _, s := range sents {
		lmSents, weights = append(lmSents, s), append(weights, 3)
	}
	for _, ex := range c.Expanded[lang] {
		for _, s := range ex {
			if ws, ok := split(s); ok && known(ws, dict) {
				lmSents, weights = append(lmSents, ws), append(weights, 3)
			}
		}
	}
	for _, text := range c.Text[lang] {
		for _, line := range splitSentences(text) {
			ws, _ := split(line)
			var keep []string
			for _, w := range ws {
				if _, ok := dict[w]; ok {
					keep = append(keep, w)
				}
			}
			if len(keep) > 1 {
				lmSents, weights = append(lmSents, keep), append(weights, 1)
			}
		}
	}
	var m models
	if len(sents) > 0 || len(exprs) > 0 {
		graph, err := buildGraph(sents, exprs, rules)
		if err != nil {
			return m, err
		}
		m.grammar = graph.fsg("grammar")
	}
	if len(lmSents) > 0 {
		m.lm = arpaBigram(lmSents, weights, gen)
	}
	return m, nil
}

// General words: the most common English words (by the word vectors' frequency ranks) that
// the dictionary has, as unigrams of the language model holding generalMass of its weight, each
// in proportion to 1/rank. A question about something the content never mentions is then heard
// as its own words ("weather", "pharmacy") rather than as the content's nearest ones, and the
// engine can tell it apart. On the tuning set, 5,000 words at 10% and 10,000 at 25% did alike
// (docs/BENCHMARKS.md).
const (
	generalWords = 5000
	generalMass  = 0.1
)

// general returns the general words with their weights (shares of the content's own weight).
func (r *Recognizer) general() (map[string]float64, error) {
	common := wordvec.For("en").Common(generalWords)
	wanted := map[string]bool{}
	for _, w := range common {
		wanted[w] = true
	}
	d, err := loadDictionary(r.dict, wanted)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	var z float64
	for i, w := range common {
		if _, ok := d[w]; ok {
			z += 1 / float64(i+1)
		}
	}
	for i, w := range common {
		if _, ok := d[w]; ok {
			out[w] = generalMass / float64(i+1) / z
		}
	}
	return out, nil
}

func splitSentences(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == '.' || r == '?' || r == '!' || r == '\n' })
}

// get takes a decoder of the language from its pool, making one if the pool has room, and
// brings its searches up to the current content.
func (r *Recognizer) get(ctx context.Context, l *language, kind int) (*decoder, error) {
	var d *decoder
	pool := l.pools[kind]
	select {
	case d = <-pool:
	default:
		r.mu.Lock()
		canMake := l.made[kind] < cap(pool)
		if canMake {
			l.made[kind]++
		}
		r.mu.Unlock()
		if canMake {
			ps := newDecoder(r.hmm, l, kind)
			if ps == nil {
				r.mu.Lock()
				l.made[kind]--
				r.mu.Unlock()
				return nil, errors.New("pocketsphinx: could not load the model")
			}
			d = &decoder{ps: ps, search: searches[kind]}
		} else {
			select {
			case d = <-pool:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	r.mu.Lock()
	version, g, lm, extra := l.version, l.grammar, l.lm, l.words
	r.mu.Unlock()
	if d.version != version {
		d.ready = false
		for _, e := range extra {
			addWord(d.ps, e[0], e[1])
		}
		if g != "" && d.search == "grammar" {
			name, src := C.CString("grammar"), C.CString(g)
			d.ready = C.vb_set_fsg(d.ps, name, src, C.size_t(len(g))) >= 0
			C.free(unsafe.Pointer(name))
			C.free(unsafe.Pointer(src))
		}
		if lm != "" && d.search == "lm" {
			if f, err := os.CreateTemp("", "voicebot-lm-*.arpa"); err == nil {
				_, werr := f.WriteString(lm)
				f.Close()
				if werr == nil {
					name, path := C.CString("lm"), C.CString(f.Name())
					d.ready = C.ps_set_lm_file(d.ps, name, path) >= 0
					C.free(unsafe.Pointer(name))
					C.free(unsafe.Pointer(path))
				}
				os.Remove(f.Name())
			}
		}
		d.version = version
		// The searches just replaced were megabytes of language model and grammar each, freed
		// into glibc's heap, which keeps them: without handing them back, resident memory grew
		// 8-10 MB with every content reload of a voice appliance (204 -> 272 MB in 8 reloads at a
		// flat Go heap); with it, 190-200 MB over 28 reloads (docs/RELIABILITY.md, Soak).
		C.malloc_trim(0)
	}
	return d, nil
}

// newDecoder makes a decoder of the kind for the language.
func newDecoder(hmm string, l *language, kind int) *C.ps_decoder_t {
	var cs []*C.char
	cstr := func(s string) *C.char {
		c := C.CString(s)
		cs = append(cs, c)
		return c
	}
	defer func() {
		for _, c := range cs {
			C.free(unsafe.Pointer(c))
		}
	}()
	if l.tuned == nil {
		return C.vb_new(cstr(hmm), cstr(l.dict), C.int(kind))
	}
	t := l.tuned[kind]
	return C.vb_new_tuned(cstr(hmm), cstr(l.dict), cstr(t.beam), cstr(t.pbeam), cstr(t.wbeam), cstr(t.silprob), cstr(t.lw))
}

// addWord adds a word (or a variant, "word(2)") to a decoder's dictionary; false when the
// decoder refuses it (a phone the model lacks, or the word is there already).
func addWord(ps *C.ps_decoder_t, word, phones string) bool {
	cw, cp := C.CString(word), C.CString(phones)
	defer C.free(unsafe.Pointer(cw))
	defer C.free(unsafe.Pointer(cp))
	return C.ps_add_word(ps, cw, cp, 0) >= 0
}

func freeDecoder(ps *C.ps_decoder_t) { C.ps_free(ps) }

// searches names the two kinds of decoder: the content's grammar and its language model.
var searches = [2]string{"grammar", "lm"}

// pair takes two decoders of the language at once (one per search); pairs are taken one at a
// time, so two callers never hold one each while waiting for the other.
func (r *Recognizer) pair(ctx context.Context, l *language) ([2]*decoder, error) {
	l.pairMu.Lock()
	defer l.pairMu.Unlock()
	a, err := r.get(ctx, l, 0)
	if err != nil {
		return [2]*decoder{}, err
	}
	b, err := r.get(ctx, l, 1)
	if err != nil {
		l.pools[0] <- a
		return [2]*decoder{}, err
	}
	return [2]*decoder{a, b}, nil
}

// heard is what one decoder made of an utterance.
type heard struct {
	text  string
	nbest []string // the next readings (the language model's decoder only)
	// fit is the grammar's sentence aligned to the speech (align.go), when asked for: done on
	// the grammar's decoder while the language model's is still at work.
	fit   float64
	fitOK bool
}

// maxNBest bounds the readings taken from the language model's lattice, and nbestSteps the
// hypotheses walked to find them (many differ only in silences and fillers).
const (
	maxNBest   = 8
	nbestSteps = 40
)

// hypOf reads a finished utterance's words.
func hypOf(d *decoder) string {
	if h := C.vb_hyp(d.ps); h != nil {
		return hypText(C.GoString(h))
	}
	return ""
}

// resultOf reads a finished utterance: the best words and, for the language model's decoder,
// the next distinct readings (n-best, likeliest first).
func resultOf(d *decoder) heard {
	h := heard{text: hypOf(d)}
	if h.text == "" {
		return h
	}
	if d.search != "lm" {
		return h
	}
	seen := map[string]bool{h.text: true}
	nb := C.ps_nbest(d.ps)
	for i := 0; nb != nil && i < nbestSteps && len(h.nbest) < maxNBest; i++ {
		nb = C.ps_nbest_next(nb)
		if nb == nil {
			break
		}
		var score C.int32
		c := C.ps_nbest_hyp(nb, &score)
		if c == nil {
			continue
		}
		text := hypText(C.GoString(c))
		if text == "" || seen[text] {
			continue
		}
		seen[text] = true
		h.nbest = append(h.nbest, text)
	}
	if nb != nil {
		C.ps_nbest_free(nb)
	}
	return h
}

// decode runs the decoder's search over a whole recording (nothing when it has none loaded).
func decode(d *decoder, samples []int16) (heard, error) {
	if !d.ready {
		return heard{}, nil
	}
	name := C.CString(d.search)
	rc := C.vb_decode(d.ps, name, (*C.short)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)))
	C.free(unsafe.Pointer(name))
	if rc < 0 {
		return heard{}, fmt.Errorf("pocketsphinx: decoding failed (%d)", int(rc))
	}
	d.warm = true
	return resultOf(d), nil
}

// decodePair decodes a whole recording on the decoders asked for, at once (one core each);
// with fit, the grammar's decoder then aligns its sentence (align.go).
func decodePair(ds [2]*decoder, samples []int16, which [2]bool, fit bool) (out [2]heard, err error) {
	var errs [2]error
	var wg sync.WaitGroup
	for i, d := range ds {
		if which[i] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i], errs[i] = decode(d, samples)
				if i == 0 && fit && errs[i] == nil {
					out[i].fit, out[i].fitOK = align(d, strings.Fields(out[i].text), samples)
				}
			}()
		}
	}
	wg.Wait()
	return out, errors.Join(errs[0], errs[1])
}

// transcript is the grammar's sentence, with the language model's words as the free reading
// (and as the text when the grammar found nothing). When the language model ran and heard no
// word at all, neither is taken: the grammar must end on one of its sentences and, over
// silence or noise, sometimes fits the shortest ("tue", "bye") to it.
func transcript(lang string, grammar, free heard, lmRan bool, start time.Time) voice.Transcript {
	t := voice.Transcript{Text: grammar.text, Free: free.text, Lang: lang, Alternatives: free.nbest, Took: time.Since(start)}
	if lmRan && free.text == "" {
		t.Text = ""
	}
	if t.Text == "" || t.Free == t.Text {
		t.Text, t.Free = free.text, ""
	}
	if !freeReadings[lang] && t.Text != "" {
		t.Text, t.Free, t.Alternatives = grammar.text, "", nil
	}
	return t
}

// freeReadings are the languages whose language-model readings are offered beside the
// grammar's sentence. Spanish's are not: its language model (of the content's Spanish text
// only, on English phones) heard the tuning voices' questions so poorly (word error rate about
// 40%) that, offered to the engine, they outvoted the grammar's right sentence: 53.8% of the
// tuning set answered as typed with them, 94.0% without (docs/BENCHMARKS.md). Its decoder
// still runs beside the grammar's, to tell speech from silence as in English.
var freeReadings = map[string]bool{"en": true}

// Transcribe decodes the recording with the language's grammar and language model at once, on
// two decoders (two cores).
func (r *Recognizer) Transcribe(ctx context.Context, a voice.Audio, lang string) (voice.Transcript, error) {
	start := time.Now()
	l := r.lang(lang)
	if l == nil {
		return voice.Transcript{}, fmt.Errorf("%w %q", voice.ErrNoRecognizer, lang)
	}
	if a.Rate != voice.SampleRate {
		a = voice.Resample(a, voice.SampleRate)
	}
	if len(a.Samples) == 0 {
		return voice.Transcript{}, voice.ErrNoAudio
	}
	ds, err := r.pair(ctx, l)
	if err != nil {
		return voice.Transcript{}, err
	}
	defer l.put(ds)
	var dz ditherer
	samples := dz.apply(nil, a.Samples)
	hs, err := decodePair(ds, samples, [2]bool{true, true}, freeReadings[lang])
	if err != nil {
		return voice.Transcript{}, err
	}
	t := transcript(lang, hs[0], hs[1], ds[1].ready, start)
	t.Forced = forced(ds[0], t, hs[0], samples)
	t.Took = time.Since(start)
	return t, nil
}

// NewStream starts decoding an utterance with the grammar and the language model, each on its
// own decoder, as its audio arrives.
func (r *Recognizer) NewStream(ctx context.Context, lang string) (voice.Stream, error) {
	l := r.lang(lang)
	if l == nil {
		return nil, fmt.Errorf("%w %q", voice.ErrNoRecognizer, lang)
	}
	ds, err := r.pair(ctx, l)
	if err != nil {
		return nil, err
	}
	st := &stream{l: l, ds: ds, start: time.Now()}
	for i, d := range ds {
		if !d.ready {
			continue
		}
		name := C.CString(d.search)
		rc := C.vb_start(d.ps, name)
		C.free(unsafe.Pointer(name))
		if rc < 0 {
			st.Close()
			return nil, errors.New("pocketsphinx: could not start an utterance")
		}
		st.live[i] = true
	}
	return st, nil
}

type stream struct {
	l     *language
	ds    [2]*decoder // the grammar's and the language model's
	start time.Time
	live  [2]bool // the search is running on the decoder
	buf   []int16 // the whole utterance, for a decoder's first one (below)
	dz    ditherer
	done  bool
}

func (s *stream) Write(samples []int16) error {
	if s.done {
		return errors.New("stream ended")
	}
	if len(s.buf)+len(samples) > int(voice.MaxAudio/time.Second)*voice.SampleRate {
		return voice.ErrTooLong
	}
	if len(samples) == 0 {
		return nil
	}
	n := len(s.buf)
	s.buf = s.dz.apply(s.buf, samples)
	samples = s.buf[n:]
	for i, d := range s.ds {
		if s.live[i] && C.vb_feed(d.ps, (*C.short)(unsafe.Pointer(&samples[0])), C.size_t(len(samples))) < 0 {
			return errors.New("pocketsphinx: decoding failed")
		}
	}
	return nil
}

// Partial is the grammar's sentence so far.
func (s *stream) Partial() string {
	if !s.live[0] || s.done {
		return ""
	}
	return hypOf(s.ds[0])
}

func (s *stream) End() (voice.Transcript, error) {
	if s.done {
		return voice.Transcript{}, errors.New("stream ended")
	}
	// A decoder's first utterance heard live starts from the model's stock noise and channel
	// estimate, and its words can be wrong or missing (a fresh decoder heard "what are the
	// opening hours" as nothing); that one is decoded again whole, which sets the estimate for
	// the next ones.
	// The two decoders finish at once (the language model's best path and readings take the
	// longer), and the grammar's then aligns its sentence for Forced.
	var hs [2]heard
	var again [2]bool
	fit := freeReadings[s.l.code]
	var wg sync.WaitGroup
	for i, d := range s.ds {
		if s.live[i] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				C.ps_end_utt(d.ps)
				hs[i] = resultOf(d)
				again[i] = !d.warm && len(s.buf) > 0
				d.warm = true
				if i == 0 && fit && !again[i] {
					hs[i].fit, hs[i].fitOK = align(d, strings.Fields(hs[i].text), s.buf)
				}
			}()
		}
	}
	wg.Wait()
	if again[0] || again[1] {
		whole, err := decodePair(s.ds, s.buf, again, fit)
		if err != nil {
			s.release()
			return voice.Transcript{}, err
		}
		for i := range whole {
			if again[i] {
				hs[i] = whole[i]
			}
		}
	}
	t := transcript(s.l.code, hs[0], hs[1], s.live[1], s.start)
	t.Forced = forced(s.ds[0], t, hs[0], s.buf)
	t.Took = time.Since(s.start)
	s.release()
	return t, nil
}

// Close gives the decoders back when the stream is dropped before End.
func (s *stream) Close() {
	if s.done {
		return
	}
	for i, d := range s.ds {
		if s.live[i] {
			C.ps_end_utt(d.ps)
		}
	}
	s.release()
}

func (s *stream) release() {
	s.done = true
	s.l.put(s.ds)
}

// put gives a pair of decoders back.
func (l *language) put(ds [2]*decoder) {
	l.pools[0] <- ds[0]
	l.pools[1] <- ds[1]
}

// hypText is a hypothesis without the silence and noise words the grammar lets a speaker put
// anywhere ("<sil>", "[NOISE]").
func hypText(h string) string {
	ws := strings.Fields(h)
	out := ws[:0]
	for _, w := range ws {
		if !strings.HasPrefix(w, "<") && !strings.HasPrefix(w, "[") {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}
