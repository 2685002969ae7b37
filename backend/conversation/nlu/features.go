package nlu

import (
	"math"
	"slices"
	"sort"

	"voicebot/backend/conversation/text"
)

// The intent model sees an utterance as a sparse vector of hashed features: word unigrams, word
// bigrams (with sentence boundaries) and character n-grams of 1 to 5 letters inside each word
// (with word boundaries). Character n-grams carry typos, inflections and unseen compound words;
// word n-grams carry the phrasing. Features are weighted by sublinear term frequency times inverse
// document frequency and the vector is L2-normalised, so long and short utterances compare alike.

const (
	groupWord byte = iota + 1
	groupBigram
	groupChar
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashStart(g byte) uint64 { return ((fnvOffset ^ uint64(g)) * fnvPrime) &^ charBit }

// charBit marks character n-gram features, so that the two views (words and characters) can be
// normalised apart and weighted.
const charBit = 1 << 63

func hashAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h &^ charBit
}

func hashByte(h uint64, b byte) uint64 {
	h ^= uint64(b)
	return h * fnvPrime
}

// rawFeatures appends the hashed features of a folded token list to dst.
func rawFeatures(dst []uint64, toks []string) []uint64 {
	prev := "^"
	for _, t := range toks {
		dst = append(dst, hashAdd(hashStart(groupWord), t))
		dst = append(dst, hashAdd(hashByte(hashAdd(hashStart(groupBigram), prev), ' '), t))
		prev = t
		// character n-grams over "<token>"
		w := make([]byte, 0, len(t)+2)
		w = append(w, '<')
		w = append(w, t...)
		w = append(w, '>')
		for n := 1; n <= 5; n++ {
			for i := 0; i+n <= len(w); i++ {
				h := hashStart(groupChar)
				for _, c := range w[i : i+n] {
					h = hashByte(h, c)
				}
				dst = append(dst, h|charBit)
			}
		}
	}
	if len(toks) > 0 {
		dst = append(dst, hashAdd(hashByte(hashAdd(hashStart(groupBigram), prev), ' '), "$"))
	}
	return dst
}

// sparse is one vectorised utterance: feature indices (sorted, unique) and their weights.
type sparse struct {
	idx []int32
	val []float32
}

// vocabulary maps hashed features to dense indices and holds their idf weights.
type vocabulary struct {
	index map[uint64]int32
	idf   []float32
}

func buildVocabulary(docs [][]uint64) *vocabulary {
	// On a large training set a feature seen once cannot generalise, and dropping those halves
	// the model; a small content pack needs every word it has.
	minDF := int32(1)
	if len(docs) >= 5000 {
		minDF = 2
	}
	df := make(map[uint64]int32, len(docs)*8)
	seen := make(map[uint64]struct{}, 64)
	for _, d := range docs {
		clear(seen)
		for _, h := range d {
			if _, ok := seen[h]; ok {
				continue
			}
			seen[h] = struct{}{}
			df[h]++
		}
	}
	v := &vocabulary{index: make(map[uint64]int32, len(df)), idf: make([]float32, 0, len(df))}
	keys := make([]uint64, 0, len(df))
	for h, n := range df {
		if n >= minDF {
			keys = append(keys, h)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] }) // deterministic layout
	n := float64(len(docs))
	for _, h := range keys {
		v.index[h] = int32(len(v.idf))
		v.idf = append(v.idf, float32(math.Log((1+n)/(1+float64(df[h])))+1))
	}
	return v
}

// vectorize turns raw hashed features into a weighted, normalised sparse vector; features the
// vocabulary does not know are dropped.
func (v *vocabulary) vectorize(raw []uint64) sparse {
	ids := make([]int32, 0, len(raw))
	for _, h := range raw {
		if i, ok := v.index[h]; ok {
			ids = append(ids, i)
		}
	}
	slices.Sort(ids)
	s := sparse{idx: ids[:0], val: make([]float32, 0, len(ids))}
	var norm float64
	for k := 0; k < len(ids); {
		i, n := ids[k], 1
		for k+n < len(ids) && ids[k+n] == i {
			n++
		}
		k += n
		w := (1 + float32(math.Log(float64(n)))) * v.idf[i]
		s.idx = append(s.idx, i) // writes behind the read position: safe in place
		s.val = append(s.val, w)
		norm += float64(w) * float64(w)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for k := range s.val {
			s.val[k] *= inv
		}
	}
	return s
}

// featurize is the whole path from an utterance to its vector.
func (v *vocabulary) featurize(utterance string) sparse {
	return v.vectorize(rawFeatures(nil, text.Tokens(utterance)))
}
