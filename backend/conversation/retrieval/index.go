// Package retrieval answers questions from the knowledge documents of the content pack: the
// documents are cut into passages, indexed with BM25 over stemmed, accent-folded terms in each
// document's language, and the best passage is trimmed to the sentences that answer the question.
//
// Why an in-memory index rather than SQLite FTS5: the index is rebuilt from the content on every
// reload and swapped in with the rest of an immutable snapshot, so it never needs to be written to
// disk or share the store's single writer; an in-memory posting list with our own tokenizer is
// faster to build and to query than FTS5 through the Wasm SQLite (docs/BENCHMARKS.md compares
// both on SciFact), and the ranking formula is ours to tune.
package retrieval

import (
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"voicebot/backend/conversation/text"
)

// Document is one knowledge document.
type Document struct {
	ID    string // stable identifier: the file path inside the content pack, or a corpus id
	Title string
	Text  string
	Lang  string // language code; "" means searchable from every language
	Tags  []string
}

// Passage is a piece of a document: the unit that is indexed and returned.
type Passage struct {
	Doc   int // index into Index.Docs
	Text  string
	terms int // length in terms
}

// Options tune the index. The zero value means the defaults.
type Options struct {
	K1, B         float64 // BM25 parameters (defaults 0.9 and 0.4, Anserini's)
	PassageWords  int     // target words per passage (default 220)
	TitleInChunks bool    // index the title with every passage (default true via NewIndex)
}

// Index is an immutable BM25 index over passages. Safe for concurrent queries.
type Index struct {
	Docs     []Document
	Passages []Passage
	postings map[string][]posting // key: lang + "\x00" + term
	avgLen   float64
	k1, b    float64
	scratch  sync.Pool
}

type posting struct {
	passage int32
	tf      uint16
}

// Hit is one ranked passage.
type Hit struct {
	Passage int
	Doc     int
	Score   float64
	// Matched is the share of the query's distinct terms found in the passage, each weighted by
	// its idf (a term no passage has weighs most), in 0..1: a length-independent signal of
	// whether the passage is about the question at all, which rare words decide.
	Matched float64
}

// NewIndex cuts the documents into passages and indexes them. progress, if set, is called with
// the number of documents done.
func NewIndex(docs []Document, opt Options, progress func(done, total int)) *Index {
	if opt.K1 == 0 {
		opt.K1 = 0.9
	}
	if opt.B == 0 {
		opt.B = 0.4
	}
	if opt.PassageWords == 0 {
		opt.PassageWords = 220
	}
	ix := &Index{Docs: docs, postings: map[string][]posting{}, k1: opt.K1, b: opt.B}
	var total int
	tm := text.NewTermer()
	for d, doc := range docs {
		titleTerms := tm.Terms(doc.Lang, doc.Title)
		for _, chunk := range Chunk(doc.Text, opt.PassageWords) {
			p := int32(len(ix.Passages))
			terms := append(tm.Terms(doc.Lang, chunk), titleTerms...)
			tf := map[string]int{}
			for _, t := range terms {
				tf[t]++
			}
			for t, n := range tf {
				k := key(doc.Lang, t)
				ix.postings[k] = append(ix.postings[k], posting{passage: p, tf: uint16(min(n, math.MaxUint16))})
			}
			ix.Passages = append(ix.Passages, Passage{Doc: d, Text: chunk, terms: len(terms)})
			total += len(terms)
		}
		if progress != nil && ((d+1)%1000 == 0 || d+1 == len(docs)) {
			progress(d+1, len(docs))
		}
	}
	if len(ix.Passages) > 0 {
		ix.avgLen = float64(total) / float64(len(ix.Passages))
	}
	ix.scratch.New = func() any { s := make([]float32, len(ix.Passages)); return &s }
	return ix
}

func key(lang, term string) string { return lang + "\x00" + term }

// Search ranks passages of the given language (and language-neutral ones) for the query and
// returns the best k.
func (ix *Index) Search(lang, query string, k int) []Hit {
	qterms := text.Terms(lang, query)
	if len(qterms) == 0 || len(ix.Passages) == 0 {
		return nil
	}
	seen := map[string]bool{}
	uniq := qterms[:0]
	for _, t := range qterms {
		if !seen[t] {
			seen[t] = true
			uniq = append(uniq, t)
		}
	}
	sp := ix.scratch.Get().(*[]float32)
	defer ix.scratch.Put(sp)
	scores := *sp
	matched := make(map[int32]float64, 64)
	N := float64(len(ix.Passages))
	var idfTotal float64
	langs := []string{lang}
	if lang != "" {
		langs = append(langs, "")
	}
	for _, t := range uniq {
		var df float64
		for _, l := range langs {
			df += float64(len(ix.postings[key(l, t)]))
		}
		idf := math.Log(1 + (N-df+0.5)/(df+0.5))
		idfTotal += idf
		for _, l := range langs {
			for _, p := range ix.postings[key(l, t)] {
				tf := float64(p.tf)
				norm := ix.k1 * (1 - ix.b + ix.b*float64(ix.Passages[p.passage].terms)/ix.avgLen)
				scores[p.passage] += float32(idf * tf * (ix.k1 + 1) / (tf + norm))
				matched[p.passage] += idf
			}
		}
	}
	hits := make([]Hit, 0, len(matched))
	for p, m := range matched {
		hits = append(hits, Hit{Passage: int(p), Doc: ix.Passages[p].Doc, Score: float64(scores[p]), Matched: m / idfTotal})
		scores[p] = 0 // leave the scratch clean for the next query
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Passage < hits[j].Passage
	})
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// SearchDocs ranks documents by their best passage.
func (ix *Index) SearchDocs(lang, query string, k int) []Hit {
	hits := ix.Search(lang, query, max(k*4, 100))
	seen := map[int]bool{}
	out := hits[:0]
	for _, h := range hits {
		if seen[h.Doc] {
			continue
		}
		seen[h.Doc] = true
		out = append(out, h)
		if len(out) == k {
			break
		}
	}
	return out
}

// Chunk cuts a text into passages of about the given number of words, on paragraph and sentence
// boundaries, so that a passage never starts mid-sentence.
func Chunk(s string, words int) []string {
	var out []string
	var cur []string
	n := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur, n = nil, 0
		}
	}
	for _, para := range splitParagraphs(s) {
		pw := len(strings.Fields(para))
		if n > 0 && n+pw > words {
			flush()
		}
		if pw <= words {
			cur = append(cur, para)
			n += pw
			continue
		}
		for _, sent := range Sentences(para) {
			sw := len(strings.Fields(sent))
			if n > 0 && n+sw > words {
				flush()
			}
			cur = append(cur, sent)
			n += sw
		}
	}
	flush()
	return out
}

func splitParagraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Sentences splits a paragraph after ., ! and ? followed by a space and an upper-case letter or
// a digit, which keeps "e.g. this" and "3.5 m" in one sentence.
func Sentences(p string) []string {
	var out []string
	rs := []rune(p)
	start := 0
	for i := 0; i < len(rs); i++ {
		if rs[i] != '.' && rs[i] != '!' && rs[i] != '?' {
			continue
		}
		j := i + 1
		for j < len(rs) && (rs[j] == '"' || rs[j] == ')' || rs[j] == '\'') {
			j++
		}
		if j < len(rs) && rs[j] == ' ' && j+1 < len(rs) && (unicode.IsUpper(rs[j+1]) || unicode.IsDigit(rs[j+1]) || rs[j+1] == '¿' || rs[j+1] == '¡') {
			out = append(out, strings.TrimSpace(string(rs[start:j])))
			start = j + 1
		}
	}
	if rest := strings.TrimSpace(string(rs[start:])); rest != "" {
		out = append(out, rest)
	}
	return out
}
