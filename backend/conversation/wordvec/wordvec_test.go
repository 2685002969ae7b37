package wordvec

import (
	"strings"
	"testing"

	"voicebot/backend/internal/testneeds"
	vbembed "voicebot/embed"
)

func TestEnglishTable(t *testing.T) {
	tab := For("en")
	if tab == nil || tab.Dims() != 100 || tab.Len() < 50000 {
		t.Fatalf("English table: %+v", tab)
	}
	if For("es") != nil {
		t.Error("a Spanish table where none is carried")
	}
	idx := func(w string) int {
		i := tab.Index(w)
		if i < 0 {
			t.Fatalf("%q not in the table", w)
		}
		return i
	}
	if tab.Index("zzzqqq") != -1 || tab.Index("") != -1 {
		t.Error("a word that is not there was found")
	}
	if tab.Rank(idx("the")) != 0 || tab.Rank(idx("museum")) < 100 {
		t.Errorf("ranks: the %d, museum %d", tab.Rank(idx("the")), tab.Rank(idx("museum")))
	}
	// What the vectors are for: related words are nearer than unrelated ones.
	near := tab.Similarity(idx("kids"), idx("children"))
	far := tab.Similarity(idx("kids"), idx("parking"))
	if near < 0.6 || far > near-0.3 {
		t.Errorf("similarity kids/children %.2f, kids/parking %.2f", near, far)
	}
	if s := tab.Similarity(idx("ticket"), idx("ticket")); s < 0.999 || s > 1.001 {
		t.Errorf("a word with itself: %.3f", s)
	}
	// Every way of comparing agrees, and no cosine passes 1 (the bytes are signed components,
	// not UTF-8: reading them as runes gave "vienna" and "opera" a cosine of 1.002).
	words := []string{"vienna", "opera", "ticket", "children", "kids", "parking", "museum"}
	var places []int32
	for _, w := range words {
		places = append(places, int32(idx(w)))
	}
	g := tab.Group(places)
	sims := make([]float32, g.Len())
	for _, w := range words {
		i := idx(w)
		g.Similarities(i, sims)
		var best float32
		for k, p := range places {
			direct := tab.Similarity(i, int(p))
			var u, v [100]float32
			tab.Add(i, 1, u[:])
			tab.Add(int(p), 1, v[:])
			var dot float32
			for d := range u {
				dot += u[d] * v[d]
			}
			if direct > 1.0001 || diff(direct, sims[k]) > 1e-5 || diff(direct, dot) > 1e-4 {
				t.Errorf("%s/%s: Similarity %.5f, Group %.5f, unit vectors %.5f", w, words[k], direct, sims[k], dot)
			}
			best = max(best, direct)
		}
		if m := g.Max(i); diff(m, best) > 1e-5 {
			t.Errorf("%s: Max %.5f, want %.5f", w, m, best)
		}
	}
	v := make([]float32, tab.Dims())
	tab.Add(idx("ticket"), 2, v)
	var n float32
	for _, x := range v {
		n += x * x
	}
	if n < 3.99 || n > 4.01 {
		t.Errorf("twice a unit vector has squared norm %.3f", n)
	}
}

func TestParseRefusesDamage(t *testing.T) {
	b := For("en")
	if b == nil {
		t.Fatal("no table")
	}
	full := string(mustRaw(t))
	for name, bad := range map[string]string{
		"empty":     "",
		"magic":     "NOTAVEC" + full[7:],
		"old":       "VBWV1\n" + full[6:],
		"truncated": full[:len(full)-1],
		"trailing":  full + "x",
	} {
		if _, err := Parse(bad); err == nil || !strings.HasPrefix(err.Error(), "wordvec:") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Parse(full); err != nil {
		t.Error(err)
	}
}

func mustRaw(t *testing.T) string {
	t.Helper()
	s := vbembed.WordVectors("en")
	if s == "" {
		t.Fatal("no English table in the binary")
	}
	return s
}

func diff(a, b float32) float32 {
	if a > b {
		return a - b
	}
	return b - a
}

// Common gives the most frequent words first, each once.
func TestCommon(t *testing.T) {
	tab := For("en")
	if tab == nil {
		testneeds.Missing(t, "no English table in this build")
	}
	words := tab.Common(1000)
	if len(words) < 950 || words[0] != "the" {
		t.Fatalf("%d common words, the first %q: want about 1000, the first the", len(words), words[0])
	}
	seen := map[string]bool{}
	last := -1
	for _, w := range words {
		r := tab.Rank(tab.Index(w))
		if w == "" || seen[w] || r <= last || r >= 1000 {
			t.Fatalf("%q (rank %d) after rank %d", w, r, last)
		}
		seen[w], last = true, r
	}
	if !seen["museum"] && !seen["water"] {
		t.Errorf("neither museum nor water among the 1000 commonest words")
	}
}

// TestKnows: the word list beside the table holds the language's less frequent words, which the
// spelling correction leaves as they are.
func TestKnows(t *testing.T) {
	en := For("en")
	for w, want := range map[string]bool{"the": true, "museum": true, "login": true, "donut": true, "ingest": true,
		"tikets": false, "opning": false, "": false} {
		if got := en.Knows(w); got != want {
			t.Errorf("Knows(%q) = %v, want %v", w, got, want)
		}
	}
	if en.Index("login") >= 0 {
		t.Error("login has a vector: the list is of words the table lacks")
	}
	var none *Table
	if none.Knows("the") {
		t.Error("the nil table knows a word")
	}
}
