package text

import (
	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/spanish"
)

// Stem reduces a folded word to its stem with the Snowball stemmer of the language. Languages
// without a stemmer return the word unchanged, which still works for matching, only less loosely.
func Stem(lang, word string) string {
	switch lang {
	case "en":
		return english.Stem(word, false)
	case "es":
		return spanish.Stem(word, false)
	case "fr":
		return french.Stem(word, false)
	}
	return word
}

// Terms returns the stemmed content words of s: folded, stop words removed, stemmed. It is what
// the knowledge index stores and what queries are matched on.
func Terms(lang, s string) []string {
	toks := Tokens(s)
	out := toks[:0]
	for _, t := range toks {
		if IsStopword(lang, t) {
			continue
		}
		out = append(out, Stem(lang, t))
	}
	return out
}

// IsStopword reports whether a folded word is a stop word of the language (Snowball's lists).
func IsStopword(lang, word string) bool {
	switch lang {
	case "en":
		return english.IsStopWord(word)
	case "es":
		return spanish.IsStopWord(word)
	case "fr":
		return french.IsStopWord(word)
	}
	return false
}
