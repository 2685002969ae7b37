package conversation

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"voicebot/backend/evaluate"
)

// readCLINC reads a CLINC150 split (the shared benchmark data beside the clone) as the texts of
// each label.
func readCLINC(t *testing.T, split string) map[string][]string {
	path := "../../../shared/bench/clinc150/" + split + ".csv"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("CLINC150 is not beside this clone (../shared/bench/clinc150): %v", err)
	}
	rows, err := evaluate.ReadIntentCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Label] = append(out[r.Label], r.Text)
	}
	return out
}

// TestSmallPacks builds packs as operators write them from CLINC150: 5 packs of 25 intents
// drawn at random, 8 phrasings each from train.csv, no out-of-scope examples. Each is asked
// valid.csv's questions of its own intents (to be answered by them), 3 questions of each of 60
// other intents and CLINC's oos questions (to be turned away), through the whole engine; and
// its own intents' and the oos questions again with one typing slip each (typo), with the
// spelling correction and without it.
func TestSmallPacks(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 5 packs")
	}
	train, valid := readCLINC(t, "train"), readCLINC(t, "valid")
	var labels []string
	for l := range train {
		if l != "oos" {
			labels = append(labels, l)
		}
	}
	sort.Strings(labels)
	nIntents, shots := 25, 8
	var inOK, inN, outOK, outN, oosOK, oosN int
	slipIn, slipOOS := map[bool]*[2]int{true: {}, false: {}}, map[bool]*[2]int{true: {}, false: {}} // right, asked
	pct := func(c *[2]int) float64 { return 100 * float64(c[0]) / float64(c[1]) }
	for p := 0; p < 5; p++ {
		r := rand.New(rand.NewPCG(uint64(p), 9))
		perm := r.Perm(len(labels))
		pack := map[string]bool{}
		var y strings.Builder
		y.WriteString("language: en\nintents:\n")
		for _, i := range perm[:nIntents] {
			l := labels[i]
			pack[l] = true
			fmt.Fprintf(&y, "  %s:\n    examples:\n", l)
			ex := append([]string(nil), train[l]...)
			r.Shuffle(len(ex), func(a, b int) { ex[a], ex[b] = ex[b], ex[a] })
			for _, e := range ex[:shots] {
				fmt.Fprintf(&y, "      - %q\n", e)
			}
			fmt.Fprintf(&y, "    responses: [\"answer %s\"]\n", l)
		}
		fsys := fstest.MapFS{
			"bot.yaml":        {Data: []byte("name: X\nlanguages: [en]\nfallback:\n  en: [\"sorry\"]\nhandoff:\n  en: \"ask staff\"\nhandoff_after: 100\n")},
			"intents/en.yaml": {Data: []byte(y.String())},
		}
		e := New(NewMemorySessions(100000, time.Hour))
		if err := NewLoader(e, fsys, "dev").Reload(); err != nil {
			t.Fatal(err)
		}
		ask := func(q string) string {
			rep, err := e.Reply(context.Background(), Request{Text: q, Lang: "en"})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind == KindIntent {
				return rep.Intent
			}
			return "oos"
		}
		for l := range pack {
			for _, q := range valid[l] {
				inN++
				if ask(q) == l {
					inOK++
				}
			}
		}
		k := 0
		for _, i := range perm[nIntents:] {
			for _, q := range valid[labels[i]][:3] {
				outN++
				if ask(q) == "oos" {
					outOK++
				}
			}
			k++
			if k == 60 {
				break
			}
		}
		for _, q := range valid["oos"] {
			oosN++
			if ask(q) == "oos" {
				oosOK++
			}
		}
		// The same questions with one typing slip each (typo), asked with the spelling
		// correction and again without it (spelling.go).
		tr := rand.New(rand.NewPCG(uint64(p), 11))
		type slip struct{ q, want string }
		var slips []slip
		for _, i := range perm[:nIntents] {
			for _, q := range valid[labels[i]] {
				slips = append(slips, slip{typo(q, tr), labels[i]})
			}
		}
		for _, q := range valid["oos"] {
			slips = append(slips, slip{typo(q, tr), "oos"})
		}
		for _, on := range []bool{true, false} {
			if !on {
				for _, lb := range e.Snapshot().langs {
					lb.spell = nil
				}
			}
			for _, sl := range slips {
				right := ask(sl.q) == sl.want
				switch {
				case sl.want == "oos":
					slipOOS[on][1]++
					if right {
						slipOOS[on][0]++
					}
				default:
					slipIn[on][1]++
					if right {
						slipIn[on][0]++
					}
				}
			}
		}
	}
	in, other, oos := 100*float64(inOK)/float64(inN), 100*float64(outOK)/float64(outN), 100*float64(oosOK)/float64(oosN)
	t.Logf("the same with a typing slip in each question: in scope answered right %.1f%% (without the spelling correction %.1f%%), oos turned away %.1f%% (%.1f%%)",
		pct(slipIn[true]), pct(slipIn[false]), pct(slipOOS[true]), pct(slipOOS[false]))
	// A slip costs the questions little once put right (docs/BENCHMARKS.md: 87.8% against 88.8%
	// without slips, 78.6% uncorrected); an off-topic question put right is turned away about
	// as often as without the slip (90.8% both; a slip alone makes it stranger still: 93.4%).
	if pct(slipIn[true]) < pct(slipIn[false])+5 || pct(slipIn[true]) < in-3 || pct(slipOOS[true]) < oos-2 {
		t.Errorf("questions with a slip: in scope %.1f%%, want 5 points over %.1f%% and at most 3 under %.1f%%; oos turned away %.1f%%, want at most 2 under %.1f%%",
			pct(slipIn[true]), pct(slipIn[false]), in, pct(slipOOS[true]), oos)
	}
	t.Logf("packs of %d intents x %d phrasings: in scope answered right %.1f%% (%d), other intents' questions turned away %.1f%% (%d), oos turned away %.1f%% (%d)",
		nIntents, shots, in, inN, other, outN, oos, oosN)
	// Floors a little under the figures in docs/BENCHMARKS.md (88.8, 71.1, 90.2).
	if in < 86 || other < 68 || oos < 87 {
		t.Errorf("below the floors 86 / 68 / 87")
	}
}
