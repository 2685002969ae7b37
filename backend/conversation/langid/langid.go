// Package langid tells which of a content pack's languages an utterance is in. It learns a
// character-trigram profile of each language from the pack's own text (phrasings and documents)
// and adds the evidence of each language's stop words, so it needs no external model and is
// only ever asked to choose among the languages the bot actually serves.
package langid

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"voicebot/backend/text"
)

// Detector is immutable once built and safe for concurrent use.
type Detector struct {
	langs    []string
	logp     []map[string]float64 // per language: trigram -> log probability
	unseen   []float64            // per language: log probability of an unseen trigram
	stopword float64              // log-odds bonus for a stop word of the language
}

// New builds a detector from sample text per language.
func New(samples map[string][]string) *Detector {
	d := &Detector{stopword: 2.0}
	for lang := range samples {
		d.langs = append(d.langs, lang)
	}
	sort.Strings(d.langs)
	for _, lang := range d.langs {
		counts := map[string]int{}
		total := 0
		for _, s := range samples[lang] {
			for _, g := range trigrams(lower(s)) {
				counts[g]++
				total++
			}
		}
		vocab := float64(len(counts) + 1)
		lp := make(map[string]float64, len(counts))
		for g, c := range counts {
			lp[g] = math.Log((float64(c) + 1) / (float64(total) + vocab))
		}
		d.logp = append(d.logp, lp)
		d.unseen = append(d.unseen, math.Log(1/(float64(total)+vocab)))
	}
	return d
}

// lower lower-cases s and keeps letters, accents included (they are strong evidence: ñ, á, ç),
// turning everything else into single spaces. Inverted marks (¿ ¡) are kept as letters too.
func lower(s string) string {
	var b strings.Builder
	space := true
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || r == '¿' || r == '¡':
			b.WriteRune(unicode.ToLower(r))
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// trigrams of runes, with word boundaries marked by spaces.
func trigrams(s string) []string {
	if s == "" {
		return nil
	}
	rs := []rune(" " + s + " ")
	out := make([]string, 0, len(rs))
	for i := 0; i+3 <= len(rs); i++ {
		out = append(out, string(rs[i:i+3]))
	}
	return out
}

// Detect returns the most likely language and a confidence in [0,1]: the posterior probability
// of the winner. With one language it is that language with confidence 1.
func (d *Detector) Detect(utterance string) (string, float64) {
	if len(d.langs) == 0 {
		return "", 0
	}
	if len(d.langs) == 1 {
		return d.langs[0], 1
	}
	grams := trigrams(lower(utterance))
	folded := text.Fold(utterance)
	scores := make([]float64, len(d.langs))
	for i := range d.langs {
		for _, g := range grams {
			if p, ok := d.logp[i][g]; ok {
				scores[i] += p
			} else {
				scores[i] += d.unseen[i]
			}
		}
		for _, w := range text.Tokens(folded) {
			if text.IsStopword(d.langs[i], w) {
				scores[i] += d.stopword
			}
		}
	}
	best := 0
	for i := range scores {
		if scores[i] > scores[best] {
			best = i
		}
	}
	var z float64
	for i := range scores {
		z += math.Exp(scores[i] - scores[best])
	}
	return d.langs[best], 1 / z
}
