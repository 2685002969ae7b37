package conversation

// Sums: "what is 17 times 23?", "combien font 12 fois 8 ?", "¿cuánto es la raíz cuadrada de
// 144?" ask the assistant to calculate, which no content pack answers unless it says so. Their
// one word in common with a pack ("times" with "opening times", "fois" with nothing) was enough
// for a small pack's low threshold: the hotel pack answered "what is 17 times 23?" with its
// check-in times (0.13), the sports pack with its opening hours (0.11). A turn that is a sum
// and nothing else is turned away before the model, unless the pack's own phrasings do sums (a
// calculator intent, as CLINC150 has).

import (
	"regexp"
	"strings"

	"voicebot/backend/text"
)

// sumWords are the words of a sum besides numbers and stop words, by language, folded: the
// operators that need two numbers, those that need one, and the words a sum is asked with.
var sumWords = map[string]struct{ binary, unary, asked map[string]bool }{
	"en": {set("plus minus times multiplied divided over x"), set("squared cubed root sqrt factorial"), set("sum result equals equal calculate compute math square cube")},
	"es": {set("mas menos por multiplicado dividido entre"), set("raiz cuadrada cubica factorial"), set("cuanto cuantos es son da resultado igual calcula suma")},
	"fr": {set("plus moins fois multiplie divise par"), set("racine carree cubique factorielle"), set("combien font fait egal egale calcule resultat somme")},
	"de": {set("plus minus mal geteilt durch"), set("wurzel quadratwurzel hoch fakultat"), set("ergibt rechne gleich summe ergebnis")},
	"it": {set("piu meno per moltiplicato diviso"), set("radice quadrata cubica fattoriale"), set("quanto fa fanno uguale calcola risultato somma")},
	"pt": {set("mais menos vezes multiplicado dividido por"), set("raiz quadrada cubica fatorial"), set("quanto e sao da igual calcula resultado soma")},
}

// sumSign is an operator written as a sign between two numbers ("4+4", "7 x 7", "3/4"), which
// folding takes away.
var sumSign = regexp.MustCompile(`\d\s*[-+*/×÷^x]\s*\d`)

// isSum reports whether a turn is a sum and nothing else: numbers, an operator (a word of the
// language's, or a sign between two numbers in the raw text) with as many numbers as it needs,
// and otherwise only stop words and the words a sum is asked with.
func isSum(lang, raw string, toks []string) bool {
	w, ok := sumWords[text.Base(lang)]
	if !ok {
		return false
	}
	numbers, binary, unary := 0, sumSign.MatchString(strings.ToLower(raw)), false
	for _, t := range toks {
		switch {
		case isNumber(t):
			numbers++
		case w.binary[t]:
			binary = true
		case w.unary[t]:
			unary = true
		case w.asked[t], text.IsStopword(lang, t):
		default:
			return false // a word that asks something else
		}
	}
	return (binary && numbers >= 2) || (unary && numbers >= 1)
}

func isNumber(t string) bool {
	for _, r := range t {
		if r < '0' || r > '9' {
			return false
		}
	}
	return t != ""
}

// doesSums reports whether any of the language's listed phrasings is a sum: then the pack
// answers sums itself.
func doesSums(lb *langBrain) bool {
	for _, in := range lb.intents {
		for _, ex := range in.Examples {
			if isSum(lb.lang, ex, text.Tokens(ex)) {
				return true
			}
		}
	}
	return false
}
