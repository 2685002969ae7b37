//go:build cgo && linux

package sphinx

import (
	"maps"
	"sort"

	"voicebot/backend/voice"
	"voicebot/backend/voice/espeak"
)

// spanishSettings are the Spanish decoders' settings (grammar, language model), chosen on the
// tuning voices (TestSpanishVoiceTuning in backend/appliance; docs/BENCHMARKS.md).
var spanishSettings = [2]tuning{
	{beam: "1e-120", pbeam: "1e-120", wbeam: "1e-80", silprob: "0.005", lw: "6.5"},
	{beam: "1e-55", pbeam: "1e-55", wbeam: "1e-40", silprob: "0.005", lw: "6.5"},
}

// noDictionary is the dictionary Spanish decoders start with: none (every word is added from
// the content's, and the model's filler dictionary gives silence and noise).
const noDictionary = "/dev/null"

// adaptSpanish builds Spanish's grammar and language model: the content's Spanish words, each
// spelled one way (spellings), pronounced by espeak-ng and mapped onto the English model's
// phones (spanish.go).
func (r *Recognizer) adaptSpanish(c *voice.Corpus, rep *voice.AdaptReport) error {
	const lang = "es"
	var all []string
	all = append(all, c.Sentences[lang]...)
	all = append(all, c.Templates[lang]...)
	for _, phrases := range c.Lists[lang] {
		all = append(all, phrases...)
	}
	for _, ex := range c.Expanded[lang] {
		all = append(all, ex...)
	}
	all = append(all, c.Text[lang]...)
	r.mu.Lock()
	l := r.langs[lang]
	r.mu.Unlock()
	if len(all) == 0 {
		if l != nil {
			r.install(l, models{})
		}
		return nil
	}
	// The corpus with one spelling a word.
	spell := spellings(all)
	rs := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = respell(s, spell)
		}
		return out
	}
	es := &voice.Corpus{
		Sentences: map[string][]string{lang: rs(c.Sentences[lang])},
		Templates: map[string][]string{lang: rs(c.Templates[lang])},
		Expanded:  map[string][][]string{},
		Lists:     map[string]map[string][]string{lang: {}},
		Text:      map[string][]string{lang: rs(c.Text[lang])},
	}
	for _, ex := range c.Expanded[lang] {
		es.Expanded[lang] = append(es.Expanded[lang], rs(ex))
	}
	for name, phrases := range c.Lists[lang] {
		es.Lists[lang][name] = rs(phrases)
	}
	// Every word, pronounced by each Spanish voice (kept from one reload to the next).
	vocab := map[string]bool{}
	for _, w := range spell {
		vocab[w] = true
	}
	ipa := map[string][]string{}
	for _, w := range sortedKeys(vocab) {
		r.mu.Lock()
		p, ok := r.ipa[w]
		r.mu.Unlock()
		if !ok {
			for _, v := range spanishVoices {
				one, err := espeak.Phonemes(w, v)
				if err != nil {
					return err
				}
				p = append(p, one)
			}
			r.mu.Lock()
			r.ipa[w] = p
			r.mu.Unlock()
		}
		ipa[w] = p
	}
	dict, variants, _ := pronunciations(ipa)
	m, err := compile(lang, es, dict, lettersWords, nil, rep)
	if err != nil {
		return err
	}
	m.words = dictEntries(variants)
	m.extra = map[string]string{}
	for _, e := range m.words {
		m.extra[e[0]] = e[1]
	}
	if l == nil {
		l = r.newLanguage(lang, noDictionary, &spanishSettings, lettersWords)
		r.mu.Lock()
		r.langs[lang] = l
		r.mu.Unlock()
	}
	r.install(l, m)
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
