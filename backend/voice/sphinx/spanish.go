package sphinx

// Spanish on the English acoustic model. No registry this appliance can reach ships a Spanish
// acoustic model for pocketsphinx (or any other offline recognizer's Spanish weights;
// docs/ARCHITECTURE.md), but Spanish has few sounds, and nearly all of them are close to one
// of the 39 phones the en-us model knows. Within a grammar of the content's own sentences the
// recognizer only has to tell those sentences apart, which the English phones do well enough:
// each Spanish word is pronounced by espeak-ng (its Spanish rules, both the Castilian and the
// Latin-American voice) and its IPA is mapped here onto the model's phones.

import (
	"sort"
	"strings"
	"unicode"

	"voicebot/backend/text"
)

// spanishPhones maps espeak-ng's Spanish IPA phonemes (as it writes them with a separator,
// stress and length marks removed) to phones of the en-us model, each with why.
var spanishPhones = map[string]string{
	// Vowels: Spanish has five, short and pure. English has no pure mid vowels; the tense
	// English vowels are nearest in quality (the lax ones, IH UH, are too central), and a
	// little glide costs less than the wrong colour.
	"a": "AA", // open central: English "father"
	"e": "EH", // close-mid front: between EH ("bet") and EY ("bait"); EH is steadier (tuning set)
	"ɛ": "EH", // open-mid, in a few loans
	"i": "IY",
	"u": "UW",
	"o": "OW", // close-mid back: English OW ("boat") without its glide; AO is too open
	"ɔ": "OW",
	// Diphthongs espeak-ng writes as one phoneme: English has the same glides.
	"aɪ": "AY", "aʊ": "AW", "oɪ": "OY", "eɪ": "EY", "eʊ": "EH UW",
	// Semivowels ("tiempo", "cuatro").
	"j": "Y", "w": "W",
	// Stops, nasals, laterals and fricatives English shares.
	"p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G",
	"f": "F", "s": "S", "m": "M", "n": "N", "l": "L", "tʃ": "CH", "ʃ": "SH", "dʒ": "JH",
	"ŋ": "NG", // n before k or g ("banco"), as in English "bank"
	"θ": "TH", // Castilian c/z ("cerráis"): English "think"
	"ð": "DH", // soft d between vowels ("todo"): English "this"
	// Spanish softens b, g between vowels into approximants English lacks; the stop of the
	// same place is the nearest sound (V would be labiodental, a different place).
	"β": "B", "v": "B",
	"ɣ": "G",
	"x": "HH", // jota ("jubilados"): velar friction; English has only the glottal HH
	"h": "HH",
	"ɲ": "N Y", // eñe ("mañana"): a palatal nasal, heard as n + y as in "canyon"
	"ʎ": "Y",   // ll: most speakers say it as y (yeísmo)
	"ʝ": "Y",   // y, ll in espeak-ng's Latin-American voice
	"ʒ": "ZH",
	"z": "S", // s voiced before a voiced consonant ("mismo"): still heard as s
	"y": "IY",
	"r": "R", // trill ("perro", "cerráis"): English has only its approximant r
	// "ɾ" (the tap, "para") is the flap of American English "water", which the model has
	// inside T and D, or an r: spanishPronunciations gives a word with taps both ways.
}

// tap is the Spanish tap r, given two ways (see spanishPhones).
const tap = "ɾ"

// tapPhones are the ways a tap is said with the model's phones.
var tapPhones = []string{"R", "D"}

// mapSpanish maps one word's IPA from espeak.Phonemes ("θ_e_r_ˈa_i_s", or several words
// separated by spaces when espeak-ng reads a token as more than one) onto the model's phones,
// once for each way of saying its taps; ok is false when it has a phoneme without a mapping.
func mapSpanish(ipa string) (prons []string, ok bool) {
	var phones []string
	taps := false
	for _, ph := range strings.FieldsFunc(ipa, func(r rune) bool { return r == '_' || unicode.IsSpace(r) }) {
		ph = strings.Map(func(r rune) rune {
			switch r {
			case 'ˈ', 'ˌ', 'ː', 'ˑ', '\u0303', '\u0361', '\u035c', '-', '‿':
				return -1
			}
			return r
		}, ph)
		switch {
		case ph == "":
		case ph == tap:
			phones, taps = append(phones, tap), true
		default:
			p, found := spanishPhones[ph]
			if !found {
				return nil, false
			}
			phones = append(phones, p)
		}
	}
	if len(phones) == 0 {
		return nil, false
	}
	if !taps {
		return []string{strings.Join(phones, " ")}, true
	}
	for _, t := range tapPhones {
		prons = append(prons, strings.ReplaceAll(strings.Join(phones, " "), tap, t))
	}
	return prons, true
}

// spanishVoices are the espeak-ng voices whose pronunciations a Spanish word gets: Castilian
// (θ for c and z, ʎ for ll) and Latin-American (s, ʝ).
var spanishVoices = []string{"es", "es-419"}

// maxVariants bounds a word's pronunciations (voices × ways of saying its taps).
const maxVariants = 4

// spanishWord reports whether a token is a word to pronounce: letters only.
func spanishWord(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// lettersWords splits a sentence into lower-case words of any letters; ok is false when a
// token holds digits or symbols (a speaker would say "10:00" some way the text does not show).
func lettersWords(s string) (out []string, ok bool) {
	ok = true
	for _, tok := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",.;:!?¿¡\"()[]«»“”…", r)
	}) {
		tok = strings.Trim(tok, "'-")
		if tok == "" {
			continue
		}
		if !spanishWord(tok) {
			ok = false
		}
		out = append(out, tok)
	}
	return out, ok
}

// spellings chooses one spelling for the words that fold alike ("miércoles" and "miercoles",
// "mañana" and "manana", "qué" and "que"), so that the recognizer hears one word where the
// speech is one, not two that sound the same and split the decoder's beam and its readings
// (the engine folds accents, so the answer is the same). The corpus's templates and lists come
// folded ("manana", "ano nuevo"), its phrasings and texts as written: a word is spelled with
// its accents or ñ when the content writes it so anywhere (the commonest such spelling), so
// it is shown as the content writes it and pronounced right ("año" is not "ano").
func spellings(texts []string) map[string]string {
	count := map[string]int{}
	for _, s := range texts {
		ws, _ := lettersWords(s)
		for _, w := range ws {
			if spanishWord(w) {
				count[w]++
			}
		}
	}
	best := map[string]string{}
	for w, n := range count {
		k := text.Fold(w)
		b, seen := best[k]
		marked, bMarked := w != k, b != k
		if !seen || marked && !bMarked || marked == bMarked && (n > count[b] || n == count[b] && w < b) {
			best[k] = w
		}
	}
	out := map[string]string{}
	for w := range count {
		out[w] = best[text.Fold(w)]
	}
	return out
}

// respell writes a sentence or a template expression with the chosen spellings, lower case;
// template syntax ("(", "|", "<list_dia>") and tokens with digits are left as they are.
func respell(s string, spell map[string]string) string {
	fs := strings.Fields(strings.ToLower(s))
	for i, f := range fs {
		core := strings.Trim(f, ",.;:!?¿¡\"«»“”…")
		if sp, ok := spell[core]; ok && sp != core {
			fs[i] = strings.Replace(f, core, sp, 1)
		}
	}
	return strings.Join(fs, " ")
}

// pronunciations gives each word its pronunciations from the IPA of each voice, deduplicated,
// at most maxVariants; words with a phoneme the table lacks are returned as unknown.
func pronunciations(ipa map[string][]string) (dict dictionary, variants map[string][]string, unknown []string) {
	dict, variants = dictionary{}, map[string][]string{}
	for w, perVoice := range ipa {
		var prons []string
		for _, one := range perVoice {
			ps, ok := mapSpanish(one)
			if !ok {
				continue
			}
			for _, p := range ps {
				if len(prons) < maxVariants && !contains(prons, p) {
					prons = append(prons, p)
				}
			}
		}
		if len(prons) == 0 {
			unknown = append(unknown, w)
			continue
		}
		dict[w], variants[w] = prons[0], prons
	}
	sort.Strings(unknown)
	return dict, variants, unknown
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// dictEntries are the words with their variants as a pocketsphinx dictionary names them
// ("cierra", "cierra(2)", ...), bases before their variants.
func dictEntries(variants map[string][]string) [][2]string {
	words := make([]string, 0, len(variants))
	for w := range variants {
		words = append(words, w)
	}
	sort.Strings(words)
	var out [][2]string
	for _, w := range words {
		for i, p := range variants[w] {
			name := w
			if i > 0 {
				name = w + "(" + string(rune('1'+i)) + ")"
			}
			out = append(out, [2]string{name, p})
		}
	}
	return out
}
