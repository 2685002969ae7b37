package spelling

import (
	"math/rand/v2"
	"strings"
	"testing"

	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/text"
)

func museum(lang string, lexicon *wordvec.Table) *Speller {
	counts := map[string]int{}
	Count(counts,
		"how much are the tickets", "what are the opening hours", "is there parking", "where is the cafe",
		"the restaurant serves lunch", "what is the wifi password", "where are the toilets",
		"we open at ten on tuesdays", "the museum was built in 1898",
		"cuánto cuestan las entradas", "horario de apertura", "dónde están los baños", "hay cafetería")
	counts["tickets"] += 5 // the commonest of two candidates wins
	return New(lang, counts, lexicon)
}

func TestCorrect(t *testing.T) {
	en := museum("en", wordvec.For("en"))
	for in, want := range map[string]string{
		"how much are tikets":      "how much are tickets",     // a letter dropped
		"opning hours":             "opening hours",            // dropped, in a word of 6
		"wher is the cafe":         "where is the cafe",        // 4 letters, one edit
		"how mcuh are the tickets": "how much are the tickets", // two neighbours swapped
		"is there parkng":          "is there parking",
		"do you have a resturant":  "do you have a restaurant",
		"where are the toilettes":  "where are the toilets",    // two edits in a word of 9
		"whats the wifi pasword":   "whats the wifi password",  // "whats" is a contraction, not a slip
		"do you take crefit cards": "do you take credit cards", // not the content's: a word of English
		"i spiled my coffee":       "i spilled my coffee",      // a doubled letter dropped, not the commoner "sailed"
		"clean toweks please":      "clean towels please",      // the key beside, not the commoner "towers"
		"what is the prixe":        "what is the price",        // the key beside, not the commoner "prime"
	} {
		fixed, changed := en.Correct(strings.Fields(in))
		if got := strings.Join(fixed, " "); got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, changed, want)
		}
	}
	for _, in := range []string{
		"how much are the tickets",             // nothing to put right
		"translate good morning into japanese", // real words the content does not use
		"is it open in 1898b",                  // digits
		"are you a bot",                        // stop words and short words
		"can i bring my dgo",                   // 3 letters
		"how much are xickets",                 // no candidate of the same first letter
		"how much does the lens weig",          // 4 letters the content lacks: too many real neighbours
	} {
		if fixed, changed := en.Correct(strings.Fields(in)); fixed != nil {
			t.Errorf("%q: changed %v", in, changed)
		}
	}
	fixed, changed := en.Correct([]string{"how", "much", "are", "tikets"})
	if Note(changed) != "tikets>tickets" || fixed[3] != "tickets" {
		t.Errorf("note %q", Note(changed))
	}
}

// TestCorrectWithoutWordList: in a language with no word list only words of 7 letters or more
// are put right, one edit away, to the content's words.
func TestCorrectWithoutWordList(t *testing.T) {
	es := museum("es", nil)
	for in, want := range map[string]string{
		"cuánto cuestan las entardas": "cuanto cuestan las entradas",
		"horario de apertrua":         "horario de apertura",
		"hay cafeteria":               "",              // folded, it is the content's word
		"donde estan los banos":       "",              // the content's words, folded
		"cuándo abren":                "",              // no word of the content one edit away
		"fonde está":                  "",              // 5 letters: a real word may be one edit from the content's
		"dónde están los vaños":       "",              // likewise
		"cuanto cuestas":              "",              // 7 letters, but another form of the content's word (stem)
		"hay cafetera":                "hay cafeteria", // the limit without a word list: a real word (a coffee maker) one edit from the content's
	} {
		fixed, changed := es.Correct(strings.Fields(strings.ToLower(foldAll(in))))
		if got := strings.Join(fixed, " "); got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, changed, want)
		}
	}
}

// foldAll folds accents as text.Tokens does, for the test's inputs.
func foldAll(s string) string {
	return strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n").Replace(s)
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		bound int
		want  int
	}{
		{"tikets", "tickets", 2, 1},
		{"mcuh", "much", 2, 1}, // a swap is one edit
		{"toilettes", "toilets", 2, 2},
		{"receta", "museo", 1, 2}, // past the bound: bound + 1
		{"abc", "abc", 1, 0},
		{"ca", "abc", 3, 3}, // optimal string alignment, not full Damerau (2): no substring edited twice
		{"", "ab", 2, 2},
		{"kitten", "sitting", 3, 3},
	} {
		if got := editDistance([]rune(c.a), c.b, c.bound); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.bound, got, c.want)
		}
	}
}

func TestNilSpeller(t *testing.T) {
	var sp *Speller
	if fixed, _ := sp.Correct([]string{"tikets"}); fixed != nil {
		t.Error("a nil speller changed a word")
	}
}

// TestSplit: a missed space is put back where both halves are words (the content's first).
func TestSplit(t *testing.T) {
	en := museum("en", wordvec.For("en"))
	for in, want := range map[string]string{
		"whereis the cafe":          "where is the cafe",
		"what are the openinghours": "what are the opening hours",
		"how much are thetickets":   "how much are the tickets",
	} {
		fixed, changed := en.Correct(strings.Fields(in))
		if got := strings.Join(fixed, " "); got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, changed, want)
		}
	}
	es := museum("es", nil)
	if fixed, changed := es.Correct([]string{"horariode", "apertura"}); fixed != nil {
		t.Errorf("split without a word list: %v", changed)
	}
}

// TestCorrectBoundsTheSearch: a question of many words nobody knows is searched for at most
// maxSearched of them (a paragraph of noise must not cost a search a word).
func TestCorrectBoundsTheSearch(t *testing.T) {
	en := museum("en", wordvec.For("en"))
	toks := strings.Fields(strings.Repeat("sxqwerty ", 200) + "tikets")
	if fixed, changed := en.Correct(toks); fixed != nil {
		t.Errorf("changed %v: the search went past its bound", changed[:min(len(changed), 4)])
	}
}

func TestSlipKind(t *testing.T) {
	for _, c := range []struct {
		slip, word string
		kind       int
	}{
		{"spiled", "spilled", likelySlip},   // a doubled letter dropped
		{"tickkets", "tickets", likelySlip}, // a letter doubled
		{"ticketa", "tickets", likelySlip},  // the key beside (a, s)
		{"tikcets", "tickets", likelySlip},  // two neighbours swapped
		{"ticketsd", "tickets", likelySlip}, // a key beside hit too
		{"spiled", "spoiled", otherGap},     // a letter dropped
		{"spiled", "sailed", otherKey},      // another letter
		{"tickemts", "tickets", otherGap},   // m is not beside e or t
		{"abcd", "ab", otherKey},            // two letters too many: no slip of one
	} {
		if got := slipKind([]rune(c.slip), c.word); got != c.kind {
			t.Errorf("slipKind(%q, %q) = %d, want %d", c.slip, c.word, got, c.kind)
		}
	}
	for _, p := range []string{"as", "qw", "qa", "ws", "zx", "za", "sx", "bh", "ol", "pl"} {
		if !keysTouch(rune(p[0]), rune(p[1])) || !keysTouch(rune(p[1]), rune(p[0])) {
			t.Errorf("%c and %c are neighbours", p[0], p[1])
		}
	}
	for _, p := range []string{"aa", "qs", "ap", "qz", "p1", "ei", "l;"} {
		if keysTouch(rune(p[0]), rune(p[1])) {
			t.Errorf("%c and %c are not neighbours", p[0], p[1])
		}
	}
}

// TestWordListSlips: slips of English words put right from the word list alone (no content),
// one slip each of 10,000 words ranked 300 - 15,000 of 5 to 10 letters: a letter dropped, two
// swapped, a neighbouring key, a letter doubled. Slips that leave a real word, or fewer letters
// than the word list puts right (spellFromLexicon), are not counted. The share put back to the
// word is logged by kind beside the rule before slipCost (the commonest word one edit away).
func TestWordListSlips(t *testing.T) {
	tb := wordvec.For("en")
	if tb == nil {
		t.Skip("no English word list built in")
	}
	sp := New("en", map[string]int{}, tb)
	var words []string
	for l := 'a'; l <= 'z'; l++ {
		tb.EachWithPrefix(string(l), func(w string, p int) {
			if r := tb.Rank(p); r >= 300 && r < 15000 && len(w) >= 5 && len(w) <= 10 && isWord(w) && !text.IsStopword("en", w) {
				words = append(words, w)
			}
		})
	}
	var neighbours = map[rune][]rune{}
	for x := 'a'; x <= 'z'; x++ {
		for y := 'a'; y <= 'z'; y++ {
			if keysTouch(x, y) {
				neighbours[x] = append(neighbours[x], y)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"dropped", "swapped", "neighbouring key", "doubled"}
	var right, base, all [4]int
	for range 10000 {
		w := words[r.IntN(len(words))]
		a := []rune(w)
		k := 1 + r.IntN(len(a)-1)
		kind := r.IntN(4)
		switch kind {
		case 0:
			a = append(a[:k:k], a[k+1:]...)
		case 1:
			a[k-1], a[k] = a[k], a[k-1]
		case 2:
			nb := neighbours[a[k]]
			a[k] = nb[r.IntN(len(nb))]
		case 3:
			a = append(a[:k+1:k+1], a[k:]...)
		}
		s := string(a)
		if s == w || tb.Knows(s) || len(a) < spellFromLexicon {
			continue
		}
		all[kind]++
		if got, _ := sp.fix(s); got == w {
			right[kind]++
		}
		if commonestOneEdit(tb, a) == w {
			base[kind]++
		}
	}
	var n, ok, okBase int
	for i, name := range kinds {
		t.Logf("%s: %d of %d put right (%.1f%%; the commonest word one edit away %.1f%%)", name, right[i], all[i],
			100*float64(right[i])/float64(all[i]), 100*float64(base[i])/float64(all[i]))
		n, ok, okBase = n+all[i], ok+right[i], okBase+base[i]
	}
	share := 100 * float64(ok) / float64(n)
	t.Logf("all: %d of %d (%.1f%%; the commonest word one edit away %.1f%%)", ok, n, share, 100*float64(okBase)/float64(n))
	if share < 93 || ok <= okBase {
		t.Errorf("slips put right: %.1f%% (%d), want at least 93%% and more than the commonest word (%d)", share, ok, okBase)
	}
}

// commonestOneEdit is the word list's commonest word one edit away from a slip that begins with
// its first or second letter: the rule before slipCost, the baseline of TestWordListSlips.
func commonestOneEdit(tb *wordvec.Table, a []rune) string {
	best, bestRank := "", -1
	for _, first := range a[:2] {
		tb.EachWithPrefix(string(first), func(c string, place int) {
			if r := tb.Rank(place); (bestRank < 0 || r < bestRank) && len(c) >= spellShortestTarget && editDistance(a, c, 1) <= 1 {
				best, bestRank = c, r
			}
		})
	}
	return best
}
