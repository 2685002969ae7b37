package conversation

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

func TestZZDebug(t *testing.T) {
	e := demoEngine(t)
	s := e.Snapshot()
	for _, q := range strings.Split(os.Getenv("QS"), "|") {
		lang := s.detect(q, "")
		lb := s.langs[lang]
		p := lb.model.Predict(q)
		fmt.Printf("%q [%s] pred=%s/%s %.2f unknown=%v strange=%v\n", q, lang, p.Label, p.Intent, p.Confidence, lb.model.UnknownWords(q), lb.model.StrangeWords(q))
		pr, _ := lb.model.Probabilities(q)
		labels := lb.model.Labels()
		idx := make([]int, len(pr))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return pr[idx[a]] > pr[idx[b]] })
		for _, i := range idx[:4] {
			fmt.Printf("    %s %.3f", labels[i], pr[i])
		}
		fmt.Println()
		for _, h := range s.index.Search(lang, q, 1) {
			fmt.Printf("    doc %s score=%.2f matched=%.2f\n", s.index.Docs[h.Doc].ID, h.Score, h.Matched)
		}
		if in, m, ok := s.answerFor(lb, lang, q); ok {
			fmt.Printf("    answer search %s %.2f\n", in.Name, m)
		}
		r, _ := e.Try(q, lang)
		fmt.Printf("    => %s %s %.2f via %s\n", r.Kind, r.Intent, r.Confidence, r.Via)
	}
}
