package evaluate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"voicebot/backend/conversation/retrieval"
	"voicebot/backend/conversation/wordvec"
)

// RetrievalResult is the JSON contract of `voicebot eval retrieval --json`.
type RetrievalResult struct {
	NDCGAt10     float64 `json:"ndcg_at_10"`
	RecallAt100  float64 `json:"recall_at_100"`
	MRRAt10      float64 `json:"mrr_at_10"`
	IndexSeconds float64 `json:"index_seconds"`
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
	NQueries     int     `json:"n_queries"`
	NDocs        int     `json:"n_docs"`
	NPassages    int     `json:"n_passages"`
}

type beirDoc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// ReadBEIRCorpus reads a BEIR corpus.jsonl file.
func ReadBEIRCorpus(path, lang string) ([]retrieval.Document, error) {
	var docs []retrieval.Document
	err := readJSONL(path, func(line int, raw []byte) error {
		var d beirDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if d.ID == "" {
			return fmt.Errorf("%s:%d: document without _id", path, line)
		}
		docs = append(docs, retrieval.Document{ID: d.ID, Title: d.Title, Text: d.Text, Lang: lang})
		return nil
	})
	return docs, err
}

// ReadBEIRQueries reads a BEIR queries.jsonl file into id -> text.
func ReadBEIRQueries(path string) (map[string]string, error) {
	q := map[string]string{}
	err := readJSONL(path, func(line int, raw []byte) error {
		var d beirDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		q[d.ID] = d.Text
		return nil
	})
	return q, err
}

// ReadQrels reads a BEIR qrels TSV file (query-id, corpus-id, score, with a header).
func ReadQrels(path string) (map[string]map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[string]int{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Split(strings.TrimSpace(sc.Text()), "\t")
		if len(fields) < 3 {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return nil, fmt.Errorf("%s:%d: expected query-id, corpus-id and score separated by tabs", path, line)
		}
		score, err := strconv.Atoi(fields[2])
		if err != nil {
			if line == 1 {
				continue // header
			}
			return nil, fmt.Errorf("%s:%d: score %q is not a whole number", path, line, fields[2])
		}
		if out[fields[0]] == nil {
			out[fields[0]] = map[string]int{}
		}
		out[fields[0]][fields[1]] = score
	}
	return out, sc.Err()
}

func readJSONL(path string, fn func(line int, raw []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		if err := fn(line, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// Retrieval indexes the corpus and measures the queries that have judgements.
func Retrieval(docs []retrieval.Document, queries map[string]string, qrels map[string]map[string]int, lang string, progress func(stage string, done, total int)) (*RetrievalResult, error) {
	start := time.Now()
	ix := retrieval.NewIndex(docs, retrieval.Options{Vectors: vectorsFor}, func(d, t int) {
		if progress != nil {
			progress("index", d, t)
		}
	})
	res := &RetrievalResult{IndexSeconds: round(time.Since(start).Seconds(), 3), NDocs: len(docs), NPassages: len(ix.Passages)}
	ids := make([]string, 0, len(qrels))
	for id := range qrels {
		if _, ok := queries[id]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no query in the qrels file has a text in the queries file")
	}
	sort.Strings(ids)
	var ndcg, rec, mrr float64
	lat := make([]float64, 0, len(ids))
	for n, id := range ids {
		t0 := time.Now()
		hits := ix.SearchDocs(lang, queries[id], 100)
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
		rel := qrels[id]
		ranked := make([]string, len(hits))
		for i, h := range hits {
			ranked[i] = docs[h.Doc].ID
		}
		ndcg += NDCGAt(ranked, rel, 10)
		rec += recallAt(ranked, rel, 100)
		mrr += mrrAt(ranked, rel, 10)
		if progress != nil && (n+1)%100 == 0 {
			progress("query", n+1, len(ids))
		}
	}
	q := float64(len(ids))
	res.NQueries = len(ids)
	res.NDCGAt10 = round(ndcg/q, 4)
	res.RecallAt100 = round(rec/q, 4)
	res.MRRAt10 = round(mrr/q, 4)
	sort.Float64s(lat)
	res.P50us = round(percentile(lat, 0.5), 1)
	res.P99us = round(percentile(lat, 0.99), 1)
	return res, nil
}

// NDCGAt follows BEIR (pytrec_eval): gain is the judged relevance, discount log2(rank+1).
func NDCGAt(ranked []string, rel map[string]int, k int) float64 {
	var dcg float64
	for i, id := range ranked[:min(k, len(ranked))] {
		if g := rel[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i)+2)
		}
	}
	var gains []int
	for _, g := range rel {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	var idcg float64
	for i, g := range gains[:min(k, len(gains))] {
		idcg += float64(g) / math.Log2(float64(i)+2)
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

func recallAt(ranked []string, rel map[string]int, k int) float64 {
	var total, found int
	for _, g := range rel {
		if g > 0 {
			total++
		}
	}
	for _, id := range ranked[:min(k, len(ranked))] {
		if rel[id] > 0 {
			found++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(found) / float64(total)
}

func mrrAt(ranked []string, rel map[string]int, k int) float64 {
	for i, id := range ranked[:min(k, len(ranked))] {
		if rel[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// vectorsFor is how eval retrieval searches: as the engine does, with the built-in word vectors
// of the corpus's language (set to a function returning nil to measure without).
var vectorsFor = wordvec.For
