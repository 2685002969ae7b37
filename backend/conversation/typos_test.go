package conversation

import (
	"math/rand/v2"
	"strings"
	"unicode"
)

// qwertyNeighbours are the keys beside each letter on a QWERTY keyboard, for substitutions.
var qwertyNeighbours = map[rune]string{
	'q': "wa", 'w': "qes", 'e': "wrd", 'r': "etf", 't': "ryg", 'y': "tuh", 'u': "yij", 'i': "uok", 'o': "ipl", 'p': "ol",
	'a': "qsz", 's': "adw", 'd': "sfe", 'f': "dgr", 'g': "fht", 'h': "gjy", 'j': "hku", 'k': "jli", 'l': "ko",
	'z': "xa", 'x': "zcs", 'c': "xvd", 'v': "cbf", 'b': "vng", 'n': "bmh", 'm': "nj",
}

// typo makes one typing slip in one word of 5 letters or more, as a visitor in a hurry does: a
// letter dropped, two neighbours swapped, a neighbouring key hit instead, a letter doubled, or
// the space after the word missed.
// The question is returned as it is when it has no such word.
func typo(q string, r *rand.Rand) string {
	words := strings.Fields(q)
	var long []int
	for i, w := range words {
		n := 0
		for _, c := range w {
			if unicode.IsLetter(c) {
				n++
			}
		}
		if n >= 5 {
			long = append(long, i)
		}
	}
	if len(long) == 0 {
		return q
	}
	i := long[r.IntN(len(long))]
	w := []rune(words[i])
	var letters []int // positions of letters after the first
	for k, c := range w {
		if k > 0 && unicode.IsLetter(c) {
			letters = append(letters, k)
		}
	}
	k := letters[r.IntN(len(letters))]
	switch r.IntN(5) {
	case 4: // the space after it missed (not after a mark or a digit: "wheelchair,is" reads as it was)
		if i+1 < len(words) && unicode.IsLetter(w[len(w)-1]) {
			words[i] += words[i+1]
			return strings.Join(append(words[:i+1], words[i+2:]...), " ")
		}
		w = append(w[:k+1:k+1], w[k:]...)
	case 0: // dropped
		w = append(w[:k:k], w[k+1:]...)
	case 1: // swapped with the letter before
		w[k-1], w[k] = w[k], w[k-1]
	case 2: // a neighbouring key
		if nb := qwertyNeighbours[unicode.ToLower(w[k])]; nb != "" {
			w[k] = rune(nb[r.IntN(len(nb))])
		} else {
			w = append(w[:k:k], w[k+1:]...)
		}
	default: // doubled
		w = append(w[:k+1:k+1], w[k:]...)
	}
	words[i] = string(w)
	return strings.Join(words, " ")
}
