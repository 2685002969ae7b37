// Package spelling puts right the typing slips of a visitor's question before the engine reads
// it. A visitor types on a kiosk's screen keyboard, in a hurry, and "how much are tikets" or
// "opning hours" shared no word with any intent: the model turned it away, the documents had
// nothing, and the fallback asked again for what the content answers word for word with one
// letter put right.
//
// A word that is neither the content's (as it is, or another form of it: the same stem) nor a
// word of the language (the built-in word vectors' 50,000 and the next 47,000 of the same
// source, where the language has them: wordvec.Table.Knows) is put
// right to the content's word one edit away (a letter added, dropped, changed, or two
// neighbours swapped; two edits for words of 8 letters or more), the commonest in the content
// when several are; or else, in a language with a word list, to its most frequent word one edit
// away ("crefit" -> "credit": the word vectors then place it). Only to a word that begins with the
// slip's first or second letter (so a swap or a dropped first letter is put right): "calloways"
// is a name, not "galloway". The content's
// words are what its intents, lists, responses, out-of-scope phrasings and documents say, so a
// typo can only become a word the content uses or a word of the language: the correction never
// invents a topic. Without a word list (every language but English today) a word the content
// does not use may still be a real one ("pagar" beside the content's "pasar"), so only words of
// 7 letters or more, one edit away, are put right there (from 6, CLINC150 read without its
// word list turned 4 more of 600 out-of-scope questions into answers, for 0.05 points in scope). In a language with a word list a word
// is also read as two where a space was missed ("whereis"), before any edit is tried. Stop
// words, contractions the engine
// spells out ("whats"), and words with digits are left as they are.
//
// Hand-written: the vocabulary and the rules of when to touch a word are the product; the
// distance is bounded (it stops as soon as the bound is passed) and allocation-free, and runs
// against the content's words of about the same length (hundreds to a few thousand), or the
// word list's of the same first letter.
package spelling

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/text"
)

// Speller puts typed words right against one language's pack vocabulary. Immutable once
// built, safe for concurrent use.
type Speller struct {
	lang    string
	known   map[string]bool  // the pack's words and their stems
	freq    map[string]int   // how often the pack says each word
	byLen   map[int][]string // the pack's words by length in letters, for candidates
	lexicon *wordvec.Table   // the language's words (nil when it has no list)
}

// Minimum lengths (letters) of a word to put right: one edit from 4 letters and two from 8 with
// a word list of the language; one edit from 7 letters without one.
const (
	spellOneEdit        = 4
	spellTwoEdits       = 8
	spellWithoutLexicon = 7
	spellShortestTarget = 3 // never to a word shorter than this
	// A word the pack lacks is put right to a word of the language from 5 letters: a 4-letter
	// slip has too many real neighbours among 50,000 ("weig": "wei", a name, is commoner than
	// "weigh").
	spellFromLexicon = 5
)

// New builds the speller of a language from how often the content says each word (folded
// tokens, as text.Tokens gives them) and the language's word list (nil for none).
func New(lang string, counts map[string]int, lexicon *wordvec.Table) *Speller {
	sp := &Speller{lang: lang, known: map[string]bool{}, freq: counts, byLen: map[int][]string{},
		lexicon: lexicon}
	for w := range counts {
		sp.known[w], sp.known[text.Stem(lang, w)] = true, true
		if n := utf8.RuneCountInString(w); n >= spellShortestTarget && isWord(w) {
			sp.byLen[n] = append(sp.byLen[n], w)
		}
	}
	for _, ws := range sp.byLen {
		sort.Strings(ws) // the same choice on every build
	}
	return sp
}

// Count adds the words of texts to counts (folded tokens), for New.
func Count(counts map[string]int, texts ...string) {
	for _, s := range texts {
		for _, w := range text.Tokens(s) {
			counts[w]++
		}
	}
}

// isWord reports whether s is all letters (no digits: "b12" and "2024" are not typos).
func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return true
}

// Correct returns the tokens with the misspelt words put right, and the words it changed
// (from, to, in pairs), or nil when it changed none.
func (sp *Speller) Correct(toks []string) (fixed, changed []string) {
	if sp == nil {
		return nil, nil
	}
	searched := 0
	for i, t := range toks {
		to := ""
		if searched < maxSearched {
			var looked bool
			to, looked = sp.fix(t)
			if looked {
				searched++
			}
		}
		if to == "" {
			if fixed != nil {
				fixed = append(fixed, t)
			}
			continue
		}
		if fixed == nil {
			fixed = append([]string(nil), toks[:i]...)
		}
		fixed = append(fixed, strings.Fields(to)...) // two words where a space was missed
		changed = append(changed, t, to)
	}
	return fixed, changed
}

// fix returns what a word should read, or "" to leave it as it is, and whether it searched.
func (sp *Speller) fix(w string) (string, bool) {
	n := utf8.RuneCountInString(w)
	if sp.known[w] || text.IsContraction(sp.lang, w) || text.IsStopword(sp.lang, w) || !isWord(w) {
		return "", false
	}
	bound := 0
	switch {
	case sp.lexicon == nil:
		if n >= spellWithoutLexicon {
			bound = 1
		}
	case n >= spellTwoEdits:
		bound = 2
	case n >= spellOneEdit:
		bound = 1
	}
	if bound == 0 || n > maxLetters || sp.known[text.Stem(sp.lang, w)] || sp.lexicon.Knows(w) {
		return "", false
	}
	if two := sp.split(w); two != "" {
		return two, true
	}
	a := []rune(w)
	best, bestD := "", bound+1
	for l := n - bound; l <= n+bound; l++ {
		ws := sp.byLen[l]
		// Typos keep the first letter, or swap it with the second: the words of the length
		// that begin with either, a range of the sorted bucket each.
		for k, first := range a[:2] {
			if k == 1 && first == a[0] {
				break
			}
			p := string(first)
			for i := sort.SearchStrings(ws, p); i < len(ws) && strings.HasPrefix(ws[i], p); i++ {
				c := ws[i]
				d := editDistance(a, c, min(bound, bestD))
				if d <= bound && (d < bestD || d == bestD && sp.likelier(c, best)) {
					best, bestD = c, d
				}
			}
		}
	}
	if best == "" && sp.lexicon != nil && n >= spellFromLexicon {
		best = sp.fromLexicon(a, n)
	}
	return best, true
}

// maxSearched bounds the words of one question searched for what they should read: a typed
// question has a slip or two, and a paragraph of words nobody knows (another language, noise)
// cost 80 ms searched whole (a review's probe: 994 letters), 0.2 ms bounded.
const maxSearched = 4

// likelier reports whether the content's word c is the likelier meaning of a slip than best, at
// the same distance: the content says it more often; on a tie the shorter, then the first in
// sorted order (the same choice whatever order they were weighed in).
func (sp *Speller) likelier(c, best string) bool {
	fc, fb := sp.freq[c], sp.freq[best]
	if fc != fb {
		return fc > fb
	}
	if len(c) != len(best) {
		return len(c) < len(best)
	}
	return c < best
}

// split reads a word as two where the space between them was missed ("whereis", "openinghours"),
// in a language with a word list: both halves words of the content (of 3 letters or more: "el
// las" is no reading of "ella's") or stop words (of 2 or more), the content's words counting
// first. "" when no such reading is. The language's word
// list does not count: it holds "ng", "wh", "tes", and "parkng" is no "park ng".
// Without a word list a word the content lacks may be a real one made of two it has ("parados":
// "para dos"), so it is never split there.
func (sp *Speller) split(w string) string {
	if sp.lexicon == nil {
		return ""
	}
	score := func(part string) int {
		n := utf8.RuneCountInString(part)
		switch {
		case n >= 3 && sp.freq[part] > 0:
			return 2
		case n >= 2 && text.IsStopword(sp.lang, part):
			return 1
		}
		return -1 // not a word of the language alone: its list has "ng", "wh", "tes" and the like
	}
	best, bestScore := "", 0
	for i := range w {
		if i == 0 {
			continue
		}
		l, r := score(w[:i]), score(w[i:])
		if l < 0 || r < 0 {
			continue
		}
		if l+r >= bestScore { // the longer first word on a tie
			best, bestScore = w[:i]+" "+w[i:], l+r
		}
	}
	return best
}

// fromLexicon puts a word right to a word of the language one edit away, when the pack has
// none: "crefit" is "credit", which the word vectors place near the pack's "card" and "pay".
// Among several, the likeliest slip of a frequent word wins (slipCost): "spiled" is "spilled",
// not the commoner "sailed". Only words that begin with the slip's first or second letter are
// weighed: a few thousand of the table's 50,000.
func (sp *Speller) fromLexicon(a []rune, n int) string {
	best, bestCost := "", math.Inf(1)
	seen := map[rune]bool{}
	for _, first := range a[:2] {
		if seen[first] {
			continue
		}
		seen[first] = true
		sp.lexicon.EachWithPrefix(string(first), func(c string, place int) {
			if l := len(c); l < max(spellShortestTarget, n-1) || l > n+1 { // the list's words are a-z: a byte a letter
				return
			}
			r := sp.lexicon.Rank(place)
			if slipCost(likelySlip, r) >= bestCost || editDistance(a, c, 1) > 1 {
				return // not even as the likeliest slip could it win
			}
			if cost := slipCost(slipKind(a, c), r); cost < bestCost {
				best, bestCost = c, cost
			}
		})
	}
	return best
}

// slipCost weighs a candidate word of frequency rank r (0 the commonest) that a slip of the
// given kind would have made: the log of its rank, plus one for a dropped or added letter that
// is no doubled one (a word e times commoner outweighs the likelier slip), while another letter
// in place of the right one loses to any other kind. TestWordListSlips: of 9,286 slips of
// English words ranked 300 - 15,000 (a letter dropped, two swapped, a neighbouring key, a letter
// doubled), the commonest word one edit away put 91.4% right (dropped letters 83.1%, swapped
// 92.7%, neighbouring key 89.6%, doubled 98.3%); this puts 94.4% right (85.1, 95.3, 95.7,
// 99.4%). Choosing the kind of slip first and the commonest after put rare neighbour-key words
// before dropped letters ("slpped" read "sloped"), and one CLINC150 test question more went wrong.
func slipCost(kind, r int) float64 {
	cost := math.Log(float64(r) + 1)
	switch kind {
	case otherGap:
		cost++
	case otherKey:
		cost += 1e6
	}
	return cost
}

// Kinds of a one-edit slip, likeliest first (slipKind).
const (
	likelySlip = iota // a doubled letter dropped or added, two neighbours swapped, a neighbouring key
	otherGap          // another letter dropped or added
	otherKey          // another letter in place of the right one
)

// slipKind says how likely the one-edit slip a is of the word c (editDistance 1) in typing:
// typists double or drop a doubled letter ("spiled" for "spilled"), swap two neighbours, or hit
// the key beside the right one ("crefit"); another letter in place of the right one is the
// least likely ("sailed" for "spiled").
func slipKind(a []rune, c string) int {
	b := []rune(c)
	if abs(len(a)-len(b)) > 1 {
		return otherKey // more than one edit: no slip of one
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	switch {
	case len(b) == len(a)+1: // a letter of c missing from the slip
		// The slip matches c up to the missing letter, so a dropped doubled letter is the
		// second of the pair.
		if i > 0 && b[i] == b[i-1] {
			return likelySlip
		}
		return otherGap
	case len(a) == len(b)+1: // a letter too many in the slip
		if i > 0 && (a[i] == a[i-1] || keysTouch(a[i], a[i-1])) || i+1 < len(a) && (a[i] == a[i+1] || keysTouch(a[i], a[i+1])) {
			return likelySlip
		}
		return otherGap
	case i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i]: // two neighbours swapped
		return likelySlip
	case i < len(a) && keysTouch(a[i], b[i]):
		return likelySlip
	}
	return otherKey
}

// keyRows is the QWERTY layout, each row's offset from the one above in key widths, for
// keysTouch (a kiosk's screen keyboard and a desk keyboard alike).
var keyRows = [3]struct {
	keys   string
	offset float64
}{{"qwertyuiop", 0}, {"asdfghjkl", 0.25}, {"zxcvbnm", 0.75}}

// keysTouch reports whether two letters are neighbouring keys (on the same row, or on the rows
// above and below within a key's width).
func keysTouch(x, y rune) bool {
	rx, cx := keyAt(x)
	ry, cy := keyAt(y)
	if rx < 0 || ry < 0 || x == y {
		return false
	}
	switch abs(rx - ry) {
	case 0:
		return math.Abs(cx-cy) == 1
	case 1:
		return math.Abs(cx-cy) < 1
	}
	return false
}

// keyAt is the row of a letter's key and its place along the row in key widths (-1 for a
// character that is no letter of the layout).
func keyAt(r rune) (int, float64) {
	for i, kr := range keyRows {
		if j := strings.IndexRune(kr.keys, unicode.ToLower(r)); j >= 0 {
			return i, float64(j) + kr.offset
		}
	}
	return -1, 0
}

// editDistance is the optimal string alignment distance between a and b (insertions,
// deletions, substitutions, and swaps of two neighbouring letters, each one edit), or more than
// bound as soon as it is sure to exceed it. Words longer than maxLetters count as far.
func editDistance(a []rune, bs string, bound int) int {
	var bb [maxLetters]rune
	b := bb[:0]
	for _, r := range bs {
		if len(b) == len(bb) {
			return bound + 1
		}
		b = append(b, r)
	}
	if len(a) >= len(bb) || abs(len(a)-len(b)) > bound {
		return bound + 1
	}
	// Three rows: the one two before (for swaps), the one before, and the current one.
	var rows [3][maxLetters + 1]int32
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = int32(j)
	}
	bnd := int32(bound)
	for i := 1; i <= len(a); i++ {
		cur[0] = int32(i)
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := int32(1)
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > bnd {
			return bound + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return int(prev[len(b)])
}

// maxLetters bounds the words editDistance compares (longer ones are never put right), so that
// its rows live on the stack.
const maxLetters = 32

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Note says what was put right, for the trace: "tikets>tickets opning>opening".
func Note(changed []string) string {
	var b strings.Builder
	for i := 0; i+1 < len(changed); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(changed[i] + ">" + changed[i+1])
	}
	return b.String()
}
