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
// ("don't" -> "dont") so contractions stay one token, except after an elided article or
// pronoun (elided: "l'entrée" -> "l entree"), whatever the language. A letter of a script written without
// spaces between words (Chinese, Japanese, Thai and their like) is a token of its own
// ("营业时间" -> "营 业 时 间"), so that every part of the engine that reads words (the intent
// model's coverage and word n-grams, retrieval, templates) reads such text by its characters
// rather than each sentence as one word.
func Fold(s string) string {
	b := make([]byte, 0, len(s))
	space := true // suppress leading spaces
	wide := false // whether anything but ASCII was written (then composed again, below)
	lastI := false
	word := 0 // where the word being written starts in b
	// compatibility forms too: ﬁ -> fi, full-width letters -> ASCII; an invalid byte is a space
	// (before it, the letter after one kept its accent: "\xf0É" -> "é", folded again "e")
	it := norm.NFKD.String(strings.ToValidUTF8(s, " "))
	for i := 0; i < len(it); {
		r, size := utf8.DecodeRuneInString(it[i:])
		i += size
		wasI := lastI
		lastI = false
		switch {
		case r == 0x0306 && wasI:
			// Russian й (и and a breve, however it was typed) is a letter of its own
			b = utf8.AppendRune(b[:len(b)-len("и")], 'й')
		case isMark(r):
			// A mark left by NFKD on a Latin, Greek or Cyrillic letter, Hebrew's points and
			// Arabic's vowel signs are accents, dropped. The marks of other scripts are parts
			// of their letters (Devanagari's and Tamil's vowel signs and viramas, Korean's
			// jamo): dropped, "संग्रहालय" became "सगरह लय".
			if space || accent(r) {
				continue
			}
			b = utf8.AppendRune(b, r)
		case r == '\'' || r == '\u2019':
			// An elided article or pronoun is a word of its own before a vowel or h
			// ("l'horaire" -> "l horaire", "qu'on" -> "qu on"); any other apostrophe joins
			// ("don't").
			if next, _ := utf8.DecodeRuneInString(it[i:]); beginsElided(next) && elided[string(b[word:])] {
				b = append(b, ' ')
				space, word = true, len(b)
			}
			continue
		case r >= 0x0E00 && unsegmented(r):
			if !space {
				b = append(b, ' ')
			}
			word = len(b)
			// Its marks stay with it: kana's voicing marks (ど is not と) and Thai's, Khmer's
			// and Myanmar's vowels and tones are letters of the word, not accents.
			b = utf8.AppendRune(b, r)
			for i < len(it) {
				m, msize := utf8.DecodeRuneInString(it[i:])
				if !isMark(m) || accent(m) {
					break
				}
				b = utf8.AppendRune(b, m)
				i += msize
			}
			b = append(b, ' ')
			space, wide, word = true, true, len(b)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Nl, r):
			if r == 'ß' || r == 'ẞ' {
				b = append(b, "ss"...) // as Swiss German spells it, and as the German stemmer reads it
			} else {
				f := foldRune(r)
				b = utf8.AppendRune(b, f)
				lastI = f == 'и'
			}
			space = false
			wide = wide || r >= utf8.RuneSelf
		default:
			if !space {
				b = append(b, ' ')
				space = true
			}
			word = len(b)
		}
	}
	out := strings.TrimRight(string(b), " ")
	if wide {
		out = norm.NFC.String(out) // Hangul's syllables and kana's voiced letters, whole again
	}
	return out
}

// elided are the articles, pronouns and conjunctions that French, Italian and Catalan write
// joined by an apostrophe to the word after them, folded: split off, "l'entrée" is "entree"
// with an article (a stop word), as "la sortie" is "sortie"; joined, "lentree" was a word of its
// own that no phrasing without the article said, and "d'emprunt" no form of "emprunt". Each is
// a stop word of its languages (extraStopwords where the lists lack it). Words that English
// writes before an apostrophe ("don't", "i'm", "it's", "o'clock") are not among them, and stay
// one token.
var elided = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("l d j m n s t c qu jusqu lorsqu puisqu quoiqu quelqu presqu " + // French (Catalan's among them)
		"dell all dall nell sull coll quest quell un v tutt") { // Italian; written folded (Fold reads them)
		m[w] = true
	}
	return m
}()

// beginsElided reports whether a letter can follow an elided word: a vowel or h, before which
// French, Italian and Catalan elide ("l'été", "dell'hotel"; NFKD has already taken the accent
// off as a mark of its own). "captain d's" keeps its apostrophe.
func beginsElided(r rune) bool {
	switch unicode.ToLower(r) {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'h':
		return true
	}
	return false
}

func isMark(r rune) bool {
	return r >= 0x0300 && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Me, r))
}

// accent reports the marks that fold away: the combining diacritics of Latin, Greek and
// Cyrillic letters, Hebrew's points and cantillation, Arabic's vowel signs, and the variation
// selectors that follow emoji ("2️⃣" is 2).
func accent(r rune) bool {
	switch {
	case r <= 0x036F, 0x1AB0 <= r && r <= 0x1AFF, 0x1DC0 <= r && r <= 0x1DFF, 0x20D0 <= r && r <= 0x20FF, 0xFE20 <= r && r <= 0xFE2F:
		return true
	case 0x0591 <= r && r <= 0x05C7:
		return true
	case 0x0610 <= r && r <= 0x061A, 0x064B <= r && r <= 0x065F, r == 0x0670, 0x06D6 <= r && r <= 0x06ED:
		return true
	case 0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF: // variation selectors (emoji)
		return true
	}
	return false
}

// Words counts the words of s as a reader does: what spaces separate, and each letter of a
// script written without spaces (unsegmented) as one more, so that passages and answers of such
// text are cut to length like any other. For text without such letters it is
// len(strings.Fields(s)). It allocates nothing.
func Words(s string) int {
	n, other := 0, false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			if other {
				n++
			}
			other = false
		case r >= 0x0E00 && unsegmented(r):
			n++
		case isMark(r) || r == '。' || r == '、' || r == '！' || r == '？':
			// part of the letter before it, or punctuation that no space follows
		default:
			other = true
		}
	}
	if other {
		n++
	}
	return n
}

// unsegmentedScripts are the scripts written without spaces between words.
var unsegmentedScripts = []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar}

// unsegmented reports whether a letter is of a script written without spaces between words.
// Before it, a sentence of such a script was one token: on a small Chinese or Japanese intent
// set no question but a listed one had any of its words said by an intent, the threshold fell
// to 0, and nothing out of scope was turned away (0% of it; docs/BENCHMARKS.md).
func unsegmented(r rune) bool {
	if !unicode.IsLetter(r) {
		return false
	}
	for _, t := range unsegmentedScripts {
		if unicode.Is(t, r) {
			return true
		}
	}
	return false
}

func foldRune(r rune) rune {
	switch r {
	case 'ς':
		return 'σ' // Greek's final sigma: "ΑΥΤΕΣ" and "αυτές" are one word
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
