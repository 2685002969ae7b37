package spelling

import (
	"os"
	"strings"
	"testing"

	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/text"
)

// BenchmarkCorrect: putting right a question with a slip against a vocabulary of CLINC150's
// training phrasings (about 6,000 words) and the English word list: the path of a typed
// question with a word nobody knows, which searches the content's words and then the word
// list's of the same first letters. Skipped without ../shared/bench.
func BenchmarkCorrect(b *testing.B) {
	raw, err := os.ReadFile("../../../../shared/bench/clinc150/train.csv")
	if err != nil {
		b.Skipf("CLINC150 is not beside this clone (../shared/bench/clinc150): %v", err)
	}
	counts := map[string]int{}
	Count(counts, string(raw))
	sp := New("en", counts, wordvec.For("en"))
	for _, q := range []string{"how much are the tickets", "can you assist me on my fradulent activity", "what does crefit mean for sxhool"} {
		toks := text.Tokens(q)
		b.Run(strings.Fields(q)[len(strings.Fields(q))-1], func(b *testing.B) {
			for b.Loop() {
				sp.Correct(toks)
			}
		})
	}
}
