// Package templates parses and matches intent templates, in the syntax Home Assistant's hassil
// uses: `(open|opening) hours [today]` has alternatives in parentheses separated by |, optional
// parts in brackets, and `{day}` or `{list:slot}` where a value of a slot list goes. Matching is
// exact after normalisation (case, accents and punctuation folded); the same templates are
// expanded into training phrasings for the intent model.
package templates

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"voicebot/backend/text"
)

// Template is a parsed template.
type Template struct {
	Source string
	root   seq
	slots  []SlotRef
}

// SlotRef is a {list:slot} reference in a template.
type SlotRef struct{ List, Slot string }

type node interface{}

type seq []node // items in order

type alt []seq // one of

type word string // a folded word

type slotNode SlotRef

// SyntaxError says where in the template the problem is (a 1-based column).
type SyntaxError struct {
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Column, e.Msg) }

// Parse parses one template.
func Parse(src string) (*Template, error) {
	p := &parser{src: []rune(src)}
	root, err := p.parseSeq(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, &SyntaxError{p.pos + 1, fmt.Sprintf("unexpected %q", p.src[p.pos])}
	}
	t := &Template{Source: src, root: root}
	walk(root, func(n node) {
		if s, ok := n.(slotNode); ok {
			t.slots = append(t.slots, SlotRef(s))
		}
	})
	if isEmpty(root) {
		return nil, &SyntaxError{1, "template has no words"}
	}
	return t, nil
}

// Slots lists the slot references of the template in order.
func (t *Template) Slots() []SlotRef { return t.slots }

// Words lists the words the template says itself (every alternative, not its slots' values),
// folded, in order, with repeats.
func (t *Template) Words() []string {
	var out []string
	walk(t.root, func(n node) {
		if w, ok := n.(word); ok {
			out = append(out, string(w))
		}
	})
	return out
}

type parser struct {
	src []rune
	pos int
}

// parseSeq reads items until the closing rune of the enclosing group (or the end).
func (p *parser) parseSeq(depth int) (seq, error) {
	var out seq
	var wordBuf strings.Builder
	flush := func() {
		for _, w := range text.Tokens(wordBuf.String()) {
			out = append(out, word(w))
		}
		wordBuf.Reset()
	}
	for p.pos < len(p.src) {
		r := p.src[p.pos]
		switch r {
		case '(', '[':
			flush()
			open := p.pos
			p.pos++
			a, err := p.parseAlt(depth+1, map[rune]rune{'(': ')', '[': ']'}[r])
			if err != nil {
				return nil, err
			}
			if r == '[' {
				a = append(a, seq{})
			}
			if len(a) == 0 {
				return nil, &SyntaxError{open + 1, "empty group"}
			}
			out = append(out, a)
		case ')', ']', '|':
			if depth == 0 {
				return nil, &SyntaxError{p.pos + 1, fmt.Sprintf("%q without a matching opening bracket", r)}
			}
			flush()
			return out, nil
		case '{':
			flush()
			open := p.pos
			end := p.pos + 1
			for end < len(p.src) && p.src[end] != '}' {
				end++
			}
			if end == len(p.src) {
				return nil, &SyntaxError{open + 1, "'{' without a closing '}'"}
			}
			name := strings.TrimSpace(string(p.src[open+1 : end]))
			list, slot, found := strings.Cut(name, ":")
			if !found {
				slot = list
			}
			list, slot = strings.TrimSpace(list), strings.TrimSpace(slot)
			if list == "" || slot == "" || strings.ContainsAny(name, " {[(|") {
				return nil, &SyntaxError{open + 1, fmt.Sprintf("bad slot reference {%s}: write {list} or {list:slot}", name)}
			}
			out = append(out, slotNode{List: list, Slot: slot})
			p.pos = end + 1
		case '}':
			return nil, &SyntaxError{p.pos + 1, "'}' without a matching '{'"}
		case '<':
			return nil, &SyntaxError{p.pos + 1, "<rules> are not supported: write the words, or a (group)"}
		default:
			wordBuf.WriteRune(r)
			p.pos++
		}
	}
	flush()
	return out, nil
}

func (p *parser) parseAlt(depth int, closer rune) (alt, error) {
	var a alt
	start := p.pos
	for {
		s, err := p.parseSeq(depth)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return nil, &SyntaxError{start, fmt.Sprintf("group opened here is never closed with %q", closer)}
		}
		r := p.src[p.pos]
		p.pos++
		if len(s) > 0 {
			a = append(a, s)
		} else if r == '|' || len(a) > 0 {
			a = append(a, s) // an explicit empty alternative, as in (a|)
		}
		if r == '|' {
			continue
		}
		if r != closer {
			return nil, &SyntaxError{p.pos, fmt.Sprintf("expected %q, found %q", closer, r)}
		}
		return a, nil
	}
}

func walk(s seq, fn func(node)) {
	for _, n := range s {
		fn(n)
		if a, ok := n.(alt); ok {
			for _, sub := range a {
				walk(sub, fn)
			}
		}
	}
}

func isEmpty(s seq) bool {
	for _, n := range s {
		switch v := n.(type) {
		case word, slotNode:
			return false
		case alt:
			for _, sub := range v {
				if !isEmpty(sub) {
					return false
				}
			}
		}
	}
	return true
}

// Lists gives the values of slot lists: for each list, value -> the folded token sequences that
// say it (the value itself and its synonyms).
type Lists map[string][]Value

// Value is one value of a slot list and the ways to say it, folded and tokenised.
type Value struct {
	Value   string
	Phrases [][]string
}

// Match reports whether the folded tokens match the template exactly, and the slot values found.
func (t *Template) Match(tokens []string, lists Lists) (map[string]string, bool) {
	var found map[string]string
	budget := MatchSteps
	ok := matchSeq(t.root, tokens, 0, lists, map[string]string{}, &budget, func(pos int, slots map[string]string) bool {
		if pos != len(tokens) {
			return false
		}
		found = make(map[string]string, len(slots))
		for k, v := range slots {
			found[k] = v
		}
		return true
	})
	return found, ok
}

// MatchSteps bounds the work of one Match: matching backtracks, so a template of many optional
// parts read against an utterance that almost fits it tries every combination (20 times "[a]"
// then "b", against twenty a's and a c, took 0.6 s; each more doubles it). A match that needs
// more steps than this is reported as no match, and the turn goes to the intent model. The
// templates of real content match in a few hundred steps.
const MatchSteps = 20000

// matchSeq matches s[0:] at tokens[pos:], calling k with each end position; it stops when k
// returns true, or when budget runs out.
func matchSeq(s seq, tokens []string, pos int, lists Lists, slots map[string]string, budget *int, k func(int, map[string]string) bool) bool {
	if *budget--; *budget < 0 {
		return false
	}
	if len(s) == 0 {
		return k(pos, slots)
	}
	rest := s[1:]
	switch n := s[0].(type) {
	case word:
		if pos < len(tokens) && tokens[pos] == string(n) {
			return matchSeq(rest, tokens, pos+1, lists, slots, budget, k)
		}
		return false
	case alt:
		for _, option := range n {
			if matchSeq(option, tokens, pos, lists, slots, budget, func(p int, sl map[string]string) bool {
				return matchSeq(rest, tokens, p, lists, sl, budget, k)
			}) {
				return true
			}
		}
		return false
	case slotNode:
		for _, v := range lists[n.List] {
			for _, ph := range v.Phrases {
				if !hasPrefix(tokens[pos:], ph) {
					continue
				}
				prev, had := slots[n.Slot]
				slots[n.Slot] = v.Value
				if matchSeq(rest, tokens, pos+len(ph), lists, slots, budget, k) {
					return true
				}
				if had {
					slots[n.Slot] = prev
				} else {
					delete(slots, n.Slot)
				}
			}
		}
		return false
	}
	return false
}

func hasPrefix(tokens, prefix []string) bool {
	if len(prefix) == 0 || len(prefix) > len(tokens) {
		return false
	}
	for i := range prefix {
		if tokens[i] != prefix[i] {
			return false
		}
	}
	return true
}

// Expand returns up to limit sentences the template says, with slots filled by the lists'
// phrases in turn. When the template says more than limit sentences, a deterministic sample is
// taken.
func (t *Template) Expand(lists Lists, limit int, seed uint64) []string {
	all := expandSeq(t.root, lists, limit*8)
	if len(all) <= limit {
		return all
	}
	r := rand.New(rand.NewPCG(seed, 7))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:limit]
}

func expandSeq(s seq, lists Lists, cap int) []string {
	out := []string{""}
	for _, n := range s {
		var opts []string
		switch v := n.(type) {
		case word:
			opts = []string{string(v)}
		case alt:
			for _, sub := range v {
				opts = append(opts, expandSeq(sub, lists, cap)...)
			}
		case slotNode:
			for _, val := range lists[v.List] {
				for _, ph := range val.Phrases {
					opts = append(opts, strings.Join(ph, " "))
				}
			}
			if len(opts) == 0 {
				opts = []string{v.Slot}
			}
		}
		// Take every combination, or an even spread of them when there are more than cap.
		total := len(out) * len(opts)
		n := min(total, cap)
		next := make([]string, 0, n)
		for k := 0; k < n; k++ {
			c := k * total / n
			next = append(next, strings.TrimSpace(out[c/len(opts)]+" "+opts[c%len(opts)]))
		}
		out = next
	}
	return out
}

// Grammar writes the template as a grammar expression, as speech recognizers take it: words
// separated by spaces, alternatives as "( a | b )", an optional part as "[ a ]", and each slot as
// what slot returns for it (a rule name, say). Recognizers use it to hear every value of a list
// where Expand would take a sample.
func (t *Template) Grammar(slot func(SlotRef) string) string {
	var b strings.Builder
	grammarSeq(&b, t.root, slot)
	return strings.Join(strings.Fields(b.String()), " ")
}

func grammarSeq(b *strings.Builder, s seq, slot func(SlotRef) string) {
	for _, n := range s {
		switch v := n.(type) {
		case word:
			b.WriteString(" " + string(v))
		case slotNode:
			b.WriteString(" " + slot(SlotRef(v)))
		case alt:
			var subs []seq
			optional := false
			for _, sub := range v {
				if isEmpty(sub) {
					optional = true
				} else {
					subs = append(subs, sub)
				}
			}
			if len(subs) == 0 {
				continue
			}
			open, close := " (", " )"
			if optional {
				open, close = " [", " ]"
			}
			b.WriteString(open)
			for i, sub := range subs {
				if i > 0 {
					b.WriteString(" |")
				}
				grammarSeq(b, sub, slot)
			}
			b.WriteString(close)
		}
	}
}
