package templates

import (
	"testing"

	"voicebot/backend/text"
)

// FuzzParseAndMatch: any template text either parses or returns a SyntaxError, never panics;
// a parsed template matches its own expansions. `go test -fuzz FuzzParseAndMatch` explores more.
func FuzzParseAndMatch(f *testing.F) {
	for _, s := range []string{"(what are|when are) [the] opening hours [on {day}]", "[(a|b)] c", "{day:when}", "((a|b)|[c])", "(|)", "[[[x]]]", "a|b", "{", "}", "<x>", "¿Qué?"} {
		f.Add(s, "what are the opening hours on sunday")
	}
	lists := Lists{"day": {{Value: "sunday", Phrases: [][]string{{"sunday"}}}}}
	f.Fuzz(func(t *testing.T, src, utt string) {
		if len(src) > 200 {
			return
		}
		tm, err := Parse(src)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		tm.Match(text.Tokens(utt), lists)
		for _, ref := range tm.Slots() {
			if _, ok := lists[ref.List]; !ok {
				return // the content loader refuses templates with unknown lists
			}
		}
		for _, s := range tm.Expand(lists, 20, 1) {
			if _, ok := tm.Match(text.Tokens(s), lists); !ok {
				t.Fatalf("%q does not match its own expansion %q", src, s)
			}
		}
	})
}
