// Package wordvec holds pretrained word vectors for the conversation engine: a table of unit
// word vectors quantised to one byte a dimension, read in place from the bytes the binary
// carries (embed/wordvec), so that a table costs no heap and only the pages it touches. The
// English table keeps the 50,000 most frequent words (6.0 MB): 100,000 gave the same figures on
// every development set and cost 6 MB more of the binary and of resident memory.
// The intent model reads a word its phrasings never use as their nearest words and counts near
// words in its confidence's coverage, and the knowledge index searches a word no passage has as
// the passages' nearest ("kids" and "children", "rent" and "hire"): knowledge a handful of
// operator phrasings cannot give.
//
// Why by hand: the file is the product's own (reduced and quantised from a registry package by
// gen/), and the reader is a binary search over sorted words and a dot product.
package wordvec

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"voicebot/backend/text"
	vbembed "voicebot/embed"
)

// Table is a read-only table of words and their vectors. Safe for concurrent use.
//
// The file layout (little endian): "VBWV2\n", uint32 count, uint16 dims, then count+1 uint32
// offsets into the word blob, the word blob (folded words, sorted), count uint32 rows (the row
// of each sorted word's vector), then by row: count uint32 frequency ranks (0 is the most
// frequent word of the source corpus) and count*dims int8 components, each vector scaled so
// that its largest component is ±127. Rows go in frequency order, so that the vectors a pack
// touches, mostly of common words, lie in few pages. A word's place (Index) is its row.
type Table struct {
	count, dims int
	offsets     string
	words       string
	rows        string
	ranks       string
	vecs        string
	more        wordList // less frequent words of the language, without vectors (Knows)
}

// wordList is a sorted list of words, one a line, with where each line starts.
type wordList struct {
	text   string
	starts []uint32
}

func newWordList(s string) wordList {
	l := wordList{text: s}
	for i := 0; i < len(s); {
		l.starts = append(l.starts, uint32(i))
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return l
}

func (l wordList) line(k int) string {
	s := l.text[l.starts[k]:]
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		return s[:j]
	}
	return s
}

func (l wordList) has(w string) bool {
	k := sort.Search(len(l.starts), func(k int) bool { return l.line(k) >= w })
	return k < len(l.starts) && l.line(k) == w
}

// Knows reports whether a folded word is a word of the language: one of the table's, or of the
// list of less frequent words that the binary carries beside it (embed/wordvec/en.words: the
// next 47,000 plain words of the same source, "login", "donut", "ingest"), which the spelling
// correction leaves as they are.
func (t *Table) Knows(word string) bool {
	return t.Index(word) >= 0 || t != nil && t.more.has(word)
}

const magic = "VBWV2\n"

// le32 reads a little-endian uint32 at s[i:].
func le32(s string, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

// Parse reads a table from its bytes, keeping references into b.
func Parse(b string) (*Table, error) {
	if !strings.HasPrefix(b, magic) || len(b) < len(magic)+6 {
		return nil, errors.New("wordvec: not a word vector table")
	}
	p := len(magic)
	t := &Table{count: int(le32(b, p)), dims: int(b[p+4]) | int(b[p+5])<<8}
	p += 6
	need := func(n int) (string, error) {
		if n < 0 || p+n > len(b) {
			return "", fmt.Errorf("wordvec: truncated table (%d bytes)", len(b))
		}
		out := b[p : p+n]
		p += n
		return out, nil
	}
	var err error
	if t.offsets, err = need(4 * (t.count + 1)); err != nil {
		return nil, err
	}
	if t.words, err = need(int(le32(t.offsets, 4*t.count))); err != nil {
		return nil, err
	}
	if t.rows, err = need(4 * t.count); err != nil {
		return nil, err
	}
	if t.ranks, err = need(4 * t.count); err != nil {
		return nil, err
	}
	if t.vecs, err = need(t.count * t.dims); err != nil {
		return nil, err
	}
	if p != len(b) {
		return nil, fmt.Errorf("wordvec: %d bytes after the table", len(b)-p)
	}
	return t, nil
}

// Dims is the length of the vectors (0 for the nil table).
func (t *Table) Dims() int {
	if t == nil {
		return 0
	}
	return t.dims
}

// Len is the number of words (0 for the nil table).
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return t.count
}

func (t *Table) word(i int) string {
	return t.words[le32(t.offsets, 4*i):le32(t.offsets, 4*i+4)]
}

// Index returns the place (row) of a folded word in the table, or -1.
func (t *Table) Index(word string) int {
	if t == nil {
		return -1
	}
	i := sort.Search(t.count, func(i int) bool { return t.word(i) >= word })
	if i < t.count && t.word(i) == word {
		return int(le32(t.rows, 4*i))
	}
	return -1
}

// EachWithPrefix calls fn with every word that begins with prefix and its place, in sorted order
// (the words are sorted: a binary search finds where they begin).
func (t *Table) EachWithPrefix(prefix string, fn func(word string, place int)) {
	if t == nil {
		return
	}
	for i := sort.Search(t.count, func(i int) bool { return t.word(i) >= prefix }); i < t.count; i++ {
		w := t.word(i)
		if !strings.HasPrefix(w, prefix) {
			return
		}
		fn(w, int(le32(t.rows, 4*i)))
	}
}

// Rank is the frequency rank of the word at place i (0: the most frequent).
func (t *Table) Rank(i int) int { return int(le32(t.ranks, 4*i)) }

// Add adds w times the unit vector of the word at position i to dst (len(dst) == Dims()).
func (t *Table) Add(i int, w float32, dst []float32) {
	v := t.vecs[i*t.dims : (i+1)*t.dims]
	s := w / t.norm(i)
	for k := 0; k < len(v); k++ { // by byte: ranging over a string would decode runes
		dst[k] += float32(int8(v[k])) * s
	}
}

// Similarity is the cosine of the vectors of the words at places i and j.
func (t *Table) Similarity(i, j int) float32 {
	return float32(t.dot(i, j)) / (t.norm(i) * t.norm(j))
}

// norm is the length of the quantised vector at place i.
func (t *Table) norm(i int) float32 {
	v := t.vecs[i*t.dims : (i+1)*t.dims]
	var n int32
	for k := 0; k < len(v); k++ { // by byte: ranging over a string would decode runes
		n += int32(int8(v[k])) * int32(int8(v[k]))
	}
	return float32(math.Sqrt(float64(n)))
}

// dot is the dot product of the quantised vectors at places i and j.
func (t *Table) dot(i, j int) int32 {
	a, b := t.vecs[i*t.dims:(i+1)*t.dims], t.vecs[j*t.dims:(j+1)*t.dims]
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	k := 0
	for ; k+4 <= len(a); k += 4 {
		s0 += int32(int8(a[k])) * int32(int8(b[k]))
		s1 += int32(int8(a[k+1])) * int32(int8(b[k+1]))
		s2 += int32(int8(a[k+2])) * int32(int8(b[k+2]))
		s3 += int32(int8(a[k+3])) * int32(int8(b[k+3]))
	}
	for ; k < len(a); k++ {
		s0 += int32(int8(a[k])) * int32(int8(b[k]))
	}
	return s0 + s1 + s2 + s3
}

// Group is a set of words of the table, to compare one word with all of them: their places and
// the inverse lengths of their vectors, worked out once (the vectors stay in place).
type Group struct {
	t      *Table
	places []int32
	inv    []float32
}

// Group returns the words at the given places as a group (empty for the nil table).
func (t *Table) Group(places []int32) Group {
	g := Group{t: t, places: places}
	if t == nil {
		g.places = nil
		return g
	}
	g.inv = make([]float32, len(places))
	for k, p := range places {
		g.inv[k] = 1 / t.norm(int(p))
	}
	return g
}

// Len is the number of words in the group.
func (g Group) Len() int { return len(g.places) }

// Similarities writes the cosine of the word at place i with each word of the group to dst
// (len(dst) >= Len()).
func (g Group) Similarities(i int, dst []float32) {
	q := 1 / g.t.norm(i)
	for k, p := range g.places {
		dst[k] = float32(g.t.dot(i, int(p))) * q * g.inv[k]
	}
}

// Max is the greatest cosine of the word at place i with a word of the group (0 for an empty
// group).
func (g Group) Max(i int) float32 {
	if len(g.places) == 0 {
		return 0
	}
	q := 1 / g.t.norm(i)
	best := float32(0)
	for k, p := range g.places {
		best = max(best, float32(g.t.dot(i, int(p)))*g.inv[k])
	}
	return best * q
}

var (
	english     *Table
	englishOnce sync.Once
)

// For returns the table of a language, or nil when the binary carries none for it (only English
// today: no registry package ships Spanish vectors under a licence the product can carry).
func For(lang string) *Table {
	if text.Base(lang) != "en" {
		return nil
	}
	englishOnce.Do(func() {
		b := vbembed.WordVectors("en")
		if b == "" {
			return
		}
		t, err := Parse(b)
		if err != nil {
			panic(err) // the table is compiled in and tested
		}
		t.more = newWordList(vbembed.WordList("en"))
		english = t
	})
	return english
}

// Common returns the words among the table's n most frequent, the most frequent first (fewer
// than n: the source's punctuation folds to nothing and is left out).
func (t *Table) Common(n int) []string {
	if t == nil {
		return nil
	}
	n = min(n, t.count)
	byRank := make([]string, n)
	for i := 0; i < t.count; i++ {
		if r := t.Rank(int(le32(t.rows, 4*i))); r < n {
			byRank[r] = t.word(i)
		}
	}
	out := byRank[:0]
	for _, w := range byRank {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}
