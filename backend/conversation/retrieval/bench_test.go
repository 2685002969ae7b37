package retrieval_test

import (
	"path/filepath"
	"testing"

	"voicebot/backend/conversation/retrieval"
	"voicebot/backend/evaluate"
	"voicebot/backend/internal/benchdata"
)

func loadSciFact(tb testing.TB) ([]retrieval.Document, map[string]string) {
	dir := benchdata.Dir(tb, "scifact")
	docs, err := evaluate.ReadBEIRCorpus(filepath.Join(dir, "corpus.jsonl"), "en")
	if err != nil {
		tb.Fatal(err)
	}
	qs, err := evaluate.ReadBEIRQueries(filepath.Join(dir, "queries.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	return docs, qs
}

// BenchmarkIndexSciFact indexes the 5,183 SciFact abstracts (budget: 10 s).
func BenchmarkIndexSciFact(b *testing.B) {
	docs, _ := loadSciFact(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		retrieval.NewIndex(docs, retrieval.Options{}, nil)
	}
}

// BenchmarkSearchSciFact ranks documents for SciFact claims (budget: p99 20 ms a query).
func BenchmarkSearchSciFact(b *testing.B) {
	docs, qs := loadSciFact(b)
	ix := retrieval.NewIndex(docs, retrieval.Options{}, nil)
	var queries []string
	for _, q := range qs {
		queries = append(queries, q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.SearchDocs("en", queries[i%len(queries)], 10)
	}
}
