package text

import (
	"reflect"
	"testing"
)

func TestFold(t *testing.T) {
	cases := map[string]string{
		"¿Qué HORARIO tiene?":     "que horario tiene",
		"  What's   on, today?! ": "whats on today",
		"Straße Ørsted":           "strasse orsted",
		"niño—café":               "nino cafe",
		"10:00–18:00":             "10 00 18 00",
		"":                        "",
		"¡¡¡":                     "",
		"L'été à Montréal":        "l ete a montreal", // an elided article is a word of its own
		"jusqu\u2019à l'entrée":   "jusqu a l entree",
		"dell'orario, c'è":        "dell orario c e",
		"aujourd'hui":             "aujourdhui", // not an elision
		"don\u2019t":              "dont",       // English contractions stay one token
		"I'm at 5 o'clock":        "im at 5 oclock",
		"captain d's, c'mon":      "captain ds cmon", // elision only before a vowel or h
		"the guests' lounge":      "the guests lounge",
		"Ｆｕｌｌｗｉｄｔｈ ﬁle":           "fullwidth file",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestElidedStopwords: what splits off an elided word is a stop word of its language, so that
// "l'entrée" and "entrée" say the same.
func TestElidedStopwords(t *testing.T) {
	for lang, words := range map[string][]string{
		"fr": {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "quelqu", "presqu"},
		"it": {"l", "d", "c", "m", "n", "s", "t", "v", "un", "dell", "all", "dall", "nell", "sull", "coll", "quest", "quell", "tutt"},
		"ca": {"l", "d", "s", "m", "n", "t"},
	} {
		for _, w := range words {
			if !elided[w] {
				t.Errorf("%s %q is not split off", lang, w)
			}
			if !IsStopword(lang, w) {
				t.Errorf("%s %q is not a stop word", lang, w)
			}
		}
	}
	if got, want := Terms("fr", "l'horaire d'ouverture"), Terms("fr", "horaire ouverture"); !reflect.DeepEqual(got, want) {
		t.Errorf("fr terms %v, want %v", got, want)
	}
}

// TestCommonFunctionWords: each language's commonest articles and pronouns are stop words; the
// lists the text package takes from Snowball and Orama lack some ("les" in French, "это" in
// Russian), which then counted as words that carry meaning.
func TestCommonFunctionWords(t *testing.T) {
	for lang, words := range map[string]string{
		"en": "the a an of to in on at is are it they them this that us we've they'll you'd haven't",
		"es": "el la los las lo un una unos unas de del al y que en se",
		"fr": "le la les un une des du de au aux ce cet cette ces il ils elle elles leur leurs",
		"de": "der die das den dem des ein eine einen und in im am zu von mit ist ich unsere unserem",
		"it": "il lo la i gli le un uno una di del della e che in nel",
		"pt": "o a os as um uma uns umas de do da dos das em no na e que",
		"nl": "de het een en in op van ik jij je hij zij wij we jullie ze onze jouw jou hen",
		"sv": "en ett den det de och i på jag du han hon vi ni dom",
		"no": "en et ei den det de og i på jeg du han hun vi",
		"nb": "ei og jeg", // Norwegian's written forms share its lists, its own words too
		"ru": "и в на с не что это я ты он она мы вы они",
		"tr": "ve bir bu da de ile için mi mı mu mü",
	} {
		for _, w := range Tokens(words) {
			if !IsStopword(lang, w) {
				t.Errorf("%s %q is not a stop word", lang, w)
			}
		}
	}
}

func TestTerms(t *testing.T) {
	if got, want := Terms("en", "Tell me: when were the lighthouses automated?"), []string{"lighthous", "autom"}; !reflect.DeepEqual(got, want) {
		t.Errorf("en terms %v, want %v", got, want)
	}
	if got, want := Terms("es", "¿Cuándo se automatizaron los faros?"), []string{"automatiz", "far"}; !reflect.DeepEqual(got, want) {
		t.Errorf("es terms %v, want %v", got, want)
	}
	tm := NewTermer()
	if got := tm.Terms("en", "running runs"); !reflect.DeepEqual(got, []string{"run", "run"}) {
		t.Errorf("memoised terms %v", got)
	}
}

func TestBase(t *testing.T) {
	for tag, want := range map[string]string{"en": "en", "en-GB": "en", "EN_us": "en", " es-419 ": "es", "spa": "es", "eng": "en", "de-DE": "de", "gsw": "gsw", "": "", "iw": "he", "iw-IL": "he", "in": "id"} {
		if got := Base(tag); got != want {
			t.Errorf("Base(%q) = %q, want %q", tag, got, want)
		}
	}
	if Stem("en-US", "tickets") != Stem("en", "tickets") || !IsStopword("es-ES", "para") || !IsStopword("EN", "the") {
		t.Error("a regional tag is not read as its language")
	}
}

func TestFoldUnsegmentedScripts(t *testing.T) {
	for in, want := range map[string]string{
		"营业时间？":                         "营 业 时 间",
		"トイレはどこですか":                     "ト イ レ は ど こ で す か",
		"コーヒーはありますか":                    "コ ー ヒ ー は あ り ま す か",
		"Wi-Fi のパスワード":                  "wi fi の パ ス ワ ー ド",
		"ห้องน้ำ":                       "ห้ อ ง น้ํ า", // Thai: its vowel and tone marks stay with their letters (NFKD splits ำ)
		"ABC漢字def":                      "abc 漢 字 def",
		"Straße ΑΥΤΕΣ αυτές":            "strasse αυτεσ αυτεσ",
		"संग्रहालय कब खुलता है":         "संग्रहालय कब खुलता है", // Devanagari's vowel signs and virama are letters
		"காலை நேரம் என்ன":               "காலை நேரம் என்ன",
		"입장료는 얼마예요?":                    "입장료는 얼마예요", // Hangul syllables stay whole
		"и\u0306 I want 2️⃣ tickets ℹ️": "й i want 2 tickets i",
		"a\uE000b":                      "a b",
		"Музейный МОЙ ёлка":             "музейный мой елка",
		"កាហ្វេ":                        "កា ហ្ វេ", // Khmer: each letter with its signs
		"مَتْحَف":                       "متحف",     // Arabic's vowel signs are accents
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzFold: folding is idempotent and its tokens are never empty, whatever the script.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"¿Qué HORARIO tiene?", "トイレはどこですか", "ห้องน้ำ", "Wi-Fi のパスワード", "don't", "ﬁ  Ａ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Fold(s)
		if again := Fold(once); again != once {
			t.Errorf("Fold(%q) = %q, folded again %q", s, once, again)
		}
		for _, tok := range Tokens(s) {
			if tok == "" {
				t.Errorf("Tokens(%q) has an empty token", s)
			}
		}
	})
}

func TestStemMoreLanguages(t *testing.T) {
	for _, c := range []struct{ lang, a, b string }{
		{"de", "offnungszeiten", "offnungszeit"}, {"it", "biglietti", "biglietto"}, {"pt-BR", "ingressos", "ingresso"},
		{"nl", "tentoonstellingen", "tentoonstelling"}, {"ru", "билеты", "билет"}, {"sv", "biljetter", "biljett"},
	} {
		if Stem(c.lang, c.a) != Stem(c.lang, c.b) {
			t.Errorf("%s: %q -> %q and %q -> %q", c.lang, c.a, Stem(c.lang, c.a), c.b, Stem(c.lang, c.b))
		}
	}
	// what the engine stems and asks about are folded words
	for _, c := range []struct{ lang, word string }{{"sv", "på"}, {"no", "også"}, {"nb", "på"}, {"ru", "мой"}, {"hu", "és"}, {"de", "für"}, {"hi", "और"}} {
		for _, w := range Tokens(c.word) {
			if !IsStopword(c.lang, w) {
				t.Errorf("%s: %q (folded %q) is not a stop word", c.lang, c.word, w)
			}
		}
	}
	if Stem("ru", Tokens("музейный")[0]) != Stem("ru", Tokens("музейная")[0]) {
		t.Errorf("ru: the folded forms of one word stem apart: %q %q", Stem("ru", Tokens("музейный")[0]), Stem("ru", Tokens("музейная")[0]))
	}
	// a language without a stemmer cuts words at 5 letters; no language stems nothing
	if Stem("xx", "tickets") != "ticke" || Stem("pl", "biletów") != "bilet" || Stem("xx", "bus") != "bus" || Stem("", "tickets") != "tickets" {
		t.Errorf("truncation: %q %q %q %q", Stem("xx", "tickets"), Stem("pl", "biletów"), Stem("xx", "bus"), Stem("", "tickets"))
	}
}

func TestWords(t *testing.T) {
	for s, want := range map[string]int{
		"":                           0,
		"  e.g. 3.5 m — well-known ": 5,
		"営業時間は10時から":                 9,
		"the 博物馆 opens":              5,
	} {
		if got := Words(s); got != want {
			t.Errorf("Words(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestAccentedStopwords: Snowball's Spanish and French stop words that have an accent are stop
// words as the engine folds them too ("tenéis" reaches IsStopword as "teneis").
func TestAccentedStopwords(t *testing.T) {
	for _, c := range []struct{ lang, word string }{
		{"es", "tenéis"}, {"es", "está"}, {"es", "también"}, {"es", "habría"}, {"es", "cuánto"}, {"es", "Cuántas"}, {"es", "algún"},
		{"fr", "été"}, {"fr", "même"}, {"fr", "à"},
	} {
		toks := Tokens(c.word)
		if len(toks) != 1 || !IsStopword(c.lang, toks[0]) {
			t.Errorf("%s %q (%v) is no stop word", c.lang, c.word, toks)
		}
	}
	for _, c := range []struct{ lang, word string }{{"es", "entradas"}, {"es", "museo"}, {"fr", "billets"}} {
		if IsStopword(c.lang, Tokens(c.word)[0]) {
			t.Errorf("%s %q is a stop word", c.lang, c.word)
		}
	}
}
