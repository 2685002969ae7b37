package templates

import (
	"strings"
	"testing"
	"time"

	"voicebot/backend/text"
)

// FuzzMatchBounded: whatever the template (the operator's) and the utterance (a visitor's),
// Match answers within a bound of time (backtracking is capped at MatchSteps), and Expand
// returns at most the number asked for, each of them read back by Match as the template's.
func FuzzMatchBounded(f *testing.F) {
	f.Add(strings.Repeat("[a] ", 30)+"b", strings.Repeat("a ", 30)+"c", uint8(20))
	f.Add("(what are|when are) [the] opening hours [on {day}]", "when are the opening hours on sunday", uint8(5))
	f.Add("[(a|b)] [(a|b)] [(a|b)] [(a|b)] {day} {day:other}", "a b a b sunday sunday", uint8(50))
	f.Add("((a|b)|[c]) ((a|b)|[c]) ((a|b)|[c]) ((a|b)|[c])", "", uint8(1))
	lists := Lists{"day": {{Value: "sunday", Phrases: [][]string{{"sunday"}, {"sun", "day"}}}, {Value: "monday", Phrases: [][]string{{"monday"}}}}}
	f.Fuzz(func(t *testing.T, src, utt string, limit uint8) {
		if len(src) > 400 || len(utt) > 400 {
			return
		}
		tm, err := Parse(src)
		if err != nil {
			return
		}
		start := time.Now()
		tm.Match(text.Tokens(utt), lists)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Match of %q against %q took %s", src, utt, d)
		}
		for _, ref := range tm.Slots() {
			if _, ok := lists[ref.List]; !ok {
				return
			}
		}
		n := int(limit%16) + 1
		out := tm.Expand(lists, n, 1)
		if len(out) > n {
			t.Fatalf("Expand(%d) gave %d", n, len(out))
		}
		for _, s := range out {
			if _, ok := tm.Match(text.Tokens(s), lists); !ok && len(text.Tokens(s)) < 20 {
				t.Fatalf("%q does not match its own expansion %q", src, s)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%q: Match and Expand took %s", src, d)
		}
	})
}
