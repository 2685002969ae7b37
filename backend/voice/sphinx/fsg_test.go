package sphinx

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sentences lists every sentence the graph accepts, with its probability from the FSG text.
func fsgSentences(t *testing.T, text string) map[string]float64 {
	t.Helper()
	type arc struct {
		to   int
		p    float64
		word string
	}
	arcs := map[int][]arc{}
	start, final := -1, -1
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "START_STATE":
			start, _ = strconv.Atoi(f[1])
		case len(f) == 2 && f[0] == "FINAL_STATE":
			final, _ = strconv.Atoi(f[1])
		case len(f) >= 4 && f[0] == "TRANSITION":
			from, _ := strconv.Atoi(f[1])
			to, _ := strconv.Atoi(f[2])
			p, _ := strconv.ParseFloat(f[3], 64)
			w := ""
			if len(f) == 5 {
				w = f[4]
			}
			arcs[from] = append(arcs[from], arc{to, p, w})
		}
	}
	out := map[string]float64{}
	var walk func(s int, ws []string, p float64)
	walk = func(s int, ws []string, p float64) {
		if s == final {
			out[strings.Join(ws, " ")] += p
		}
		for _, a := range arcs[s] {
			next := ws
			if a.word != "" {
				next = append(append([]string(nil), ws...), a.word)
			}
			walk(a.to, next, p*a.p)
		}
	}
	walk(start, nil, 1)
	return out
}

func TestGrammarGraphAcceptsExactlyTheContent(t *testing.T) {
	sents := [][]string{
		{"what", "are", "the", "opening", "hours"},
		{"when", "are", "the", "opening", "hours"},
		{"hello"},
	}
	exprs := []string{"is it open on <day> [ please ]", "( where | how ) is the <room>"}
	lists := map[string][]string{"day": {"monday", "sunday", "bank holiday"}, "room": {"cafe", "gift shop"}}
	g, err := buildGraph(sents, exprs, lists)
	if err != nil {
		t.Fatal(err)
	}
	got := fsgSentences(t, g.fsg("grammar"))
	want := []string{
		"what are the opening hours", "when are the opening hours", "hello",
		"is it open on monday", "is it open on sunday", "is it open on bank holiday",
		"is it open on monday please", "is it open on sunday please", "is it open on bank holiday please",
		"where is the cafe", "where is the gift shop", "how is the cafe", "how is the gift shop",
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(got) != len(want) {
		t.Fatalf("graph accepts %d sentences, want %d: %q", len(got), len(want), keys)
	}
	for _, w := range want {
		p, ok := got[w]
		if !ok {
			t.Errorf("graph does not accept %q", w)
		}
		if math.Abs(p-1/float64(len(want))) > 1e-4 {
			t.Errorf("P(%q) = %.4f, want every sentence equally likely (%.4f)", w, p, 1/float64(len(want)))
		}
	}
	// Minimal: "what/when are the opening hours" share everything after the first word, and
	// the sentences of the two days share the optional "please".
	if n := len(g.nodes); n > 16 {
		t.Errorf("graph has %d states; a minimal one has at most 16", n)
	}
}

func TestGrammarGraphRejectsBadExpressions(t *testing.T) {
	for _, expr := range []string{"( open | closed", "open ]", "on <nolist>"} {
		if _, err := buildGraph(nil, []string{expr}, map[string][]string{}); err == nil {
			t.Errorf("%q: no error", expr)
		}
	}
}
