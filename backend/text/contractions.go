package text

// contractions spell out what folding leaves of an English contraction ("where's" -> "wheres"),
// so that templates written with the full words match it ("where is the {place}").
var contractions = map[string]map[string][]string{
	"en": {
		"wheres": {"where", "is"}, "whats": {"what", "is"}, "hows": {"how", "is"}, "whos": {"who", "is"},
		"whens": {"when", "is"}, "thats": {"that", "is"}, "theres": {"there", "is"}, "heres": {"here", "is"},
		"im": {"i", "am"}, "youre": {"you", "are"}, "theyre": {"they", "are"},
		"dont": {"do", "not"}, "doesnt": {"does", "not"}, "didnt": {"did", "not"}, "cant": {"can", "not"},
		"isnt": {"is", "not"}, "arent": {"are", "not"}, "wont": {"will", "not"}, "ive": {"i", "have"},
		"lets": {"let", "us"}, "havent": {"have", "not"}, "hasnt": {"has", "not"}, "hadnt": {"had", "not"},
		"wasnt": {"was", "not"}, "werent": {"were", "not"}, "wouldnt": {"would", "not"}, "couldnt": {"could", "not"},
		"shouldnt": {"should", "not"}, "youve": {"you", "have"}, "weve": {"we", "have"}, "theyve": {"they", "have"},
		"youll": {"you", "will"}, "theyll": {"they", "will"}, // not "id" and "ill": they are words too ("do i need id")
	},
}

// SpelledOut returns the tokens with contractions spelled out, or nil when there are none.
func SpelledOut(lang string, toks []string) []string {
	table := contractions[Base(lang)]
	var out []string
	for i, t := range toks {
		if full := table[t]; full != nil {
			if out == nil {
				out = append(out, toks[:i]...)
			}
			out = append(out, full...)
		} else if out != nil {
			out = append(out, t)
		}
	}
	return out
}

// IsContraction reports whether a token is what folding leaves of a contraction the language
// spells out ("whats"): a word as it should be, though no dictionary has it.
func IsContraction(lang, tok string) bool { return contractions[Base(lang)][tok] != nil }
