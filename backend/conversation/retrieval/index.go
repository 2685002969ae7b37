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

	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/text"
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
	// Vectors, if set, gives the word vectors of a language (nil for none): a question's word
	// that no passage has is then also searched as the passages' words nearest to it ("rent"
	// as "hire", "kids" as "children"), each counted by its similarity.
	Vectors func(lang string) *wordvec.Table
}

// Index is an immutable BM25 index over passages. Safe for concurrent queries.
type Index struct {
	Docs     []Document
	Passages []Passage
	postings map[string][]posting // key: lang + "\x00" + term
	avgLen   float64
	k1, b    float64
	scratch  sync.Pool
	near     map[string]*nearWords // by language: the indexed words with vectors
}

// nearWords are the words of one language's passages that the word vectors have: each word's
// stem (its term in the index) and its place in the vectors (read in place, no copy).
type nearWords struct {
	vec   *wordvec.Table
	terms []string
	ranks []int // each word's place by how common it is (Hit.Rarest)
	group wordvec.Group
}

// Expansion: a missing word is searched as at most expandK indexed words of similarity
// expandMin or more, each counting for expandCredit of its similarity towards the share of the
// question a passage matches. Chosen on the demo's visitor questions: at 0.6 and full credit
// "what is the meaning of life" matched a page on school visits; at 0.7 and half credit the
// expansions answer ("can we rent a room for a party" finds venue hire) without that.
// SciFact's nDCG@10 is unchanged (0.6838): its queries' words are in its corpus.
const (
	expandK      = 2
	expandMin    = 0.7
	expandCredit = 0.5
	expandWords  = 2 // missing words a question is expanded for, each a pass over the words
)

// match is what a passage matched of a query: the idf it was credited, and the rank of the
// rarest word it shares with the query, a query word or a near word standing for one
// (Hit.Rarest).
type match struct {
	credit float64
	rarest int
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
	// Rarest is the place, among the language's words by how common they are, of the rarest
	// word the passage shares with the query (a query word, or the passage's near word that
	// stood for a missing one): a passage that shares only everyday words with a question
	// ("weather", "road", "today") may have happened to use them. math.MaxInt when the
	// language has no word vectors or the word is not in them.
	Rarest int
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
	surface := map[string]map[string]string{} // lang -> word -> term
	for d, doc := range docs {
		if opt.Vectors != nil && opt.Vectors(doc.Lang) != nil {
			if surface[doc.Lang] == nil {
				surface[doc.Lang] = map[string]string{}
			}
			for _, w := range text.Tokens(doc.Title + " " + doc.Text) {
				if _, ok := surface[doc.Lang][w]; !ok && !text.IsStopword(doc.Lang, w) {
					surface[doc.Lang][w] = tm.Terms(doc.Lang, w)[0]
				}
			}
		}
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
	for lang, words := range surface {
		nw := &nearWords{vec: opt.Vectors(lang)}
		ws := make([]string, 0, len(words))
		for w := range words {
			ws = append(ws, w)
		}
		sort.Strings(ws) // deterministic order
		var places []int32
		for _, w := range ws {
			if i := nw.vec.Index(w); i >= 0 {
				places = append(places, int32(i))
				nw.terms = append(nw.terms, words[w])
				nw.ranks = append(nw.ranks, nw.vec.Rank(i))
			}
		}
		nw.group = nw.vec.Group(places)
		if ix.near == nil {
			ix.near = map[string]*nearWords{}
		}
		ix.near[lang] = nw
	}
	ix.scratch.New = func() any { s := make([]float32, len(ix.Passages)); return &s }
	return ix
}

func key(lang, term string) string { return lang + "\x00" + term }

// Search ranks passages of the given language (and language-neutral ones) for the query and
// returns the best k.
func (ix *Index) Search(lang, query string, k int) []Hit {
	var words, qterms []string
	for _, w := range text.Tokens(query) {
		if !text.IsStopword(lang, w) {
			words = append(words, w)
			qterms = append(qterms, text.Stem(lang, w))
		}
	}
	if len(qterms) == 0 || len(ix.Passages) == 0 {
		return nil
	}
	seen := map[string]bool{}
	uniq := qterms[:0]
	var uniqWords []string
	for i, t := range qterms {
		if !seen[t] {
			seen[t] = true
			uniq = append(uniq, t)
			uniqWords = append(uniqWords, words[i])
		}
	}
	sp := ix.scratch.Get().(*[]float32)
	defer ix.scratch.Put(sp)
	scores := *sp
	matched := make(map[int32]match, 64)
	N := float64(len(ix.Passages))
	var idfTotal float64
	langs := []string{lang}
	if lang != "" {
		langs = append(langs, "")
	}
	df := func(t string) float64 {
		var n float64
		for _, l := range langs {
			n += float64(len(ix.postings[key(l, t)]))
		}
		return n
	}
	// add scores the passages that have term t, weighted by w, and credits credit of the
	// query's idf to them as matched.
	add := func(t string, w, credit float64, rank int) {
		n := df(t)
		idf := math.Log(1 + (N-n+0.5)/(n+0.5))
		for _, l := range langs {
			for _, p := range ix.postings[key(l, t)] {
				tf := float64(p.tf)
				norm := ix.k1 * (1 - ix.b + ix.b*float64(ix.Passages[p.passage].terms)/ix.avgLen)
				scores[p.passage] += float32(w * idf * tf * (ix.k1 + 1) / (tf + norm))
				m := matched[p.passage]
				matched[p.passage] = match{credit: m.credit + credit, rarest: max(m.rarest, rank)}
			}
		}
	}
	expanded := 0
	for i, t := range uniq {
		n := df(t)
		idf := math.Log(1 + (N-n+0.5)/(n+0.5))
		rank := ix.rank(lang, uniqWords[i])
		idf = min(idf, commonness(rank))
		idfTotal += idf
		if n > 0 {
			add(t, 1, idf, rank)
			continue
		}
		if expanded == expandWords {
			continue
		}
		expanded++
		for _, e := range ix.expand(lang, uniqWords[i]) {
			if !seen[e.term] {
				add(e.term, e.sim, expandCredit*e.sim*idf, e.rank) // the passage has the near word
			}
		}
	}
	hits := make([]Hit, 0, len(matched))
	for p, m := range matched {
		hits = append(hits, Hit{Passage: int(p), Doc: ix.Passages[p].Doc, Score: float64(scores[p]), Matched: m.credit / idfTotal, Rarest: m.rarest})
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

// rank is a word's place among the language's words by how common they are (0 the commonest),
// math.MaxInt when the language has no word vectors or they lack the word.
func (ix *Index) rank(lang, word string) int {
	nw := ix.near[lang]
	if nw == nil {
		return math.MaxInt
	}
	i := nw.vec.Index(word)
	if i < 0 {
		return math.MaxInt
	}
	return nw.vec.Rank(i)
}

// commonness bounds the weight of a question's word in the share a passage matches by how
// common the word is in the language (its rank in the word vectors' corpus): a small corpus
// gives every word it lacks the highest idf, so "become" in "how do i become a volunteer"
// outweighed "volunteer", which the page on volunteering has; and a common word that one
// passage happens to say takes nearly as much, so "help" and "fire" (in the house rules) kept
// the page on hearing under half of "I'm hard of hearing, is there anything to help me notice
// the fire alarm?" (43%). The bound holds for every word since 2026-12-03 (before, only for the
// words no passage has): the hotel pack 54 -> 55 of 70, the demo's typed visitor sets
// unchanged, the ranking itself (BM25's own idf) unchanged, SciFact's nDCG@10 0.6838 as before;
// by voice (docs/BENCHMARKS.md) typed answers 46.3 -> 45.9%, different answers 22.9 -> 22.2%,
// off-topic turned away 79.2 -> 78.4% (one of 120). Without vectors for the language, no bound.
func commonness(rank int) float64 {
	if rank == math.MaxInt {
		return math.Inf(1)
	}
	return math.Log(1 + float64(rank)/100)
}

type expansion struct {
	term string
	sim  float64
	rank int // the near word's place by how common it is
}

// expand returns the indexed terms whose words are nearest to a word in the word vectors.
func (ix *Index) expand(lang, word string) []expansion {
	nw := ix.near[lang]
	if nw == nil || len(nw.terms) == 0 {
		return nil
	}
	i := nw.vec.Index(word)
	if i < 0 {
		return nil
	}
	sims := make([]float32, nw.group.Len())
	nw.group.Similarities(i, sims)
	var out []expansion
	for range expandK {
		best := -1
		for j, s := range sims {
			if s >= expandMin && (best < 0 || s > sims[best]) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		out = append(out, expansion{nw.terms[best], float64(sims[best]), nw.ranks[best]})
		for j := range sims { // one expansion a term, whichever of its words is nearest
			if nw.terms[j] == nw.terms[best] {
				sims[j] = -1
			}
		}
	}
	return out
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
		pw := text.Words(para)
		if n > 0 && n+pw > words {
			flush()
		}
		if pw <= words {
			cur = append(cur, para)
			n += pw
			continue
		}
		for _, sent := range Sentences(para) {
			sw := text.Words(sent)
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
// a digit, which keeps "e.g. this" and "3.5 m" in one sentence, and after the full-width marks
// of Chinese and Japanese (。！？), which no space follows.
func Sentences(p string) []string {
	var out []string
	rs := []rune(p)
	start := 0
	for i := 0; i < len(rs); i++ {
		if rs[i] == '。' || rs[i] == '！' || rs[i] == '？' {
			if i+1 < len(rs) && strings.ContainsRune("」』）”", rs[i+1]) {
				continue // a quotation's end: 「本当？」と聞かれます。 is one sentence
			}
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
			continue
		}
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
