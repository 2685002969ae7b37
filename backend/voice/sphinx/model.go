package sphinx

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"unicode"
)

// dictionary is the pronunciations (first variant) of the words asked for.
type dictionary map[string]string

// loadDictionary reads which of the wanted words a CMU-style dictionary ("word PH ON ES",
// variants as "word(2)") has; only those are kept (the whole dictionary would hold 135,000).
func loadDictionary(path string, wanted map[string]bool) (dictionary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := dictionary{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w, phones, _ := strings.Cut(sc.Text(), " ")
		if strings.IndexByte(w, '(') > 0 {
			continue // a variant: the decoder has it from the dictionary file itself
		}
		if wanted[w] {
			d[w] = strings.TrimSpace(phones)
		}
	}
	return d, sc.Err()
}

// guesses are ways to pronounce a word the dictionary lacks from words it has: a missing
// apostrophe ("thats" as "that's") or a compound of two words ("pushchair" as "push chair").
func guesses(w string) []string {
	var out []string
	if strings.HasSuffix(w, "s") && len(w) > 2 {
		out = append(out, w[:len(w)-1]+"'s")
	}
	for i := 2; i <= len(w)-2; i++ {
		out = append(out, w[:i]+" "+w[i:])
	}
	return out
}

// pronounce finds pronunciations for unknown words from the guesses, reading the dictionary
// again for the parts; it returns the words it could pronounce.
func pronounce(path string, unknown []string) (map[string]string, error) {
	wanted := map[string]bool{}
	for _, w := range unknown {
		for _, g := range guesses(w) {
			for _, part := range strings.Fields(g) {
				wanted[part] = true
			}
		}
	}
	d, err := loadDictionary(path, wanted)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, w := range unknown {
		for _, g := range guesses(w) {
			var phones []string
			for _, part := range strings.Fields(g) {
				if p, ok := d[part]; ok {
					phones = append(phones, p)
				} else {
					phones = nil
					break
				}
			}
			if phones != nil {
				out[w] = strings.Join(phones, " ")
				break
			}
		}
	}
	return out, nil
}

// words splits a sentence into lower-case dictionary-style words (letters and apostrophes);
// ok is false when a token holds digits or symbols a speaker would say some other way.
func words(s string) (out []string, ok bool) {
	ok = true
	for _, tok := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",.;:!?¿¡\"()[]", r)
	}) {
		tok = strings.Trim(tok, "'-")
		if tok == "" {
			continue
		}
		for _, r := range tok {
			if !(r >= 'a' && r <= 'z') && r != '\'' && r != '-' {
				ok = false
			}
		}
		out = append(out, tok)
	}
	return out, ok
}

// splitter splits a sentence into a language's dictionary words: words (English: a-z and
// apostrophes) or lettersWords (Spanish: any letters).
type splitter func(string) ([]string, bool)

// grammarSentences keeps the sentences whose words are all in the dictionary, and lists the
// words that are not.
func grammarSentences(sentences []string, d dictionary, split splitter) (keep [][]string, unknown []string) {
	miss := map[string]bool{}
	for _, s := range sentences {
		ws, ok := split(s)
		if !ok || len(ws) == 0 {
			continue
		}
		good := true
		for _, w := range ws {
			if _, ok := d[w]; !ok {
				miss[w] = true
				good = false
			}
		}
		if good {
			keep = append(keep, ws)
		}
	}
	for w := range miss {
		unknown = append(unknown, w)
	}
	sort.Strings(unknown)
	return keep, unknown
}

// arpaBigram writes a bigram language model in ARPA form with absolute discounting (D = 0.5)
// and back-off to unigrams; sentences are weighted (the expected questions count more than
// document text), and general words are unigrams only, each with its share of the sentences'
// total weight.
func arpaBigram(sentences [][]string, weights []float64, general map[string]float64) string {
	const D = 0.5
	uni := map[string]float64{}
	bi := map[string]map[string]float64{}
	var total float64
	for i, s := range sentences {
		w := weights[i]
		seq := append(append([]string{"<s>"}, s...), "</s>")
		for j, x := range seq {
			if j > 0 {
				uni[x] += w
				total += w
			}
			if j+1 < len(seq) {
				if bi[x] == nil {
					bi[x] = map[string]float64{}
				}
				bi[x][seq[j+1]] += w
			}
		}
	}
	// General words: unigrams only, with a share of the mass, reached by back-off.
	for w, c := range general {
		uni[w] += c * total
	}
	uni["<s>"] += 0 // present, never predicted
	vocab := make([]string, 0, len(uni))
	for w := range uni {
		vocab = append(vocab, w)
	}
	sort.Strings(vocab)
	// Unigram probabilities with a little mass for every word (add-0.1).
	pu := map[string]float64{}
	var z float64
	for _, w := range vocab {
		if w != "<s>" {
			z += uni[w] + 0.1
		}
	}
	for _, w := range vocab {
		if w != "<s>" {
			pu[w] = (uni[w] + 0.1) / z
		}
	}
	type big struct {
		a, b string
		p    float64
	}
	var bigrams []big
	backoff := map[string]float64{}
	for _, a := range vocab {
		next := bi[a]
		if len(next) == 0 {
			continue
		}
		var count float64
		for _, c := range next {
			count += c
		}
		reserved := D * float64(len(next)) / count
		var seenUni float64
		for b, c := range next {
			bigrams = append(bigrams, big{a, b, math.Max(c-D, 0.01) / count})
			seenUni += pu[b]
		}
		if seenUni < 1 {
			backoff[a] = reserved / (1 - seenUni)
		} else {
			backoff[a] = reserved
		}
	}
	sort.Slice(bigrams, func(i, j int) bool {
		if bigrams[i].a != bigrams[j].a {
			return bigrams[i].a < bigrams[j].a
		}
		return bigrams[i].b < bigrams[j].b
	})
	var b strings.Builder
	fmt.Fprintf(&b, "\\data\\\nngram 1=%d\nngram 2=%d\n\n\\1-grams:\n", len(vocab), len(bigrams))
	for _, w := range vocab {
		p := -99.0
		if w != "<s>" {
			p = math.Log10(pu[w])
		}
		if bo, ok := backoff[w]; ok {
			fmt.Fprintf(&b, "%.4f %s %.4f\n", p, w, math.Log10(bo))
		} else {
			fmt.Fprintf(&b, "%.4f %s\n", p, w)
		}
	}
	b.WriteString("\n\\2-grams:\n")
	for _, g := range bigrams {
		fmt.Fprintf(&b, "%.4f %s %s\n", math.Log10(g.p), g.a, g.b)
	}
	b.WriteString("\n\\end\\\n")
	return b.String()
}

// known reports whether every word is in the dictionary.
func known(ws []string, d dictionary) bool {
	for _, w := range ws {
		if _, ok := d[w]; !ok {
			return false
		}
	}
	return true
}

// templateOK reports whether a template's grammar expression can be heard: all its words are
// in the dictionary and every list it names has phrases that can be said (those are added to
// rules, without the ones that cannot).
func templateOK(expr string, d dictionary, lists map[string][]string, rules map[string][]string, split splitter) bool {
	for _, tok := range strings.Fields(expr) {
		switch {
		case tok == "(" || tok == ")" || tok == "[" || tok == "]" || tok == "|":
		case strings.HasPrefix(tok, "<") && strings.HasSuffix(tok, ">"):
			name := strings.Trim(tok, "<>")
			if _, done := rules[name]; done {
				continue
			}
			var keep []string
			for _, ph := range lists[name] {
				if ws, ok := split(ph); ok && len(ws) > 0 && known(ws, d) {
					keep = append(keep, strings.Join(ws, " "))
				}
			}
			if len(keep) == 0 {
				return false
			}
			rules[name] = keep
		default:
			if _, ok := d[tok]; !ok {
				return false
			}
		}
	}
	return true
}
