// Package text holds the text handling every part of the conversation engine shares: normalisation
// (case and accent folding), tokenisation, per-language stemming and stop words. Templates, the
// intent model, retrieval and language detection all see utterances through these functions, so
// that "¿Qué HORARIO tiene?" and "que horario tiene" are the same input everywhere.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s, strips accents and turns every rune that is not a letter or a digit into a
// single space. The result has no leading or trailing space. Apostrophes inside words are dropped
// ("don't" -> "dont") so contractions stay one token.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true             // suppress leading spaces
	it := norm.NFKD.String(s) // compatibility forms too: ﬁ -> fi, full-width letters -> ASCII
	for i := 0; i < len(it); {
		r, size := utf8.DecodeRuneInString(it[i:])
		i += size
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // combining mark left by NFD: the accent itself
		case r == '\'' || r == '\u2019':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(foldRune(r))
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	out := b.String()
	return strings.TrimRight(out, " ")
}

func foldRune(r rune) rune {
	switch r {
	case 'ß':
		return 's'
	case 'ø', 'Ø':
		return 'o'
	case 'đ', 'Đ':
		return 'd'
	case 'ł', 'Ł':
		return 'l'
	}
	return unicode.ToLower(r)
}

// Tokens folds s and splits it into words.
func Tokens(s string) []string {
	f := Fold(s)
	if f == "" {
		return nil
	}
	return strings.Split(f, " ")
}
