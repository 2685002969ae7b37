package text

import (
	"reflect"
	"testing"
)

func TestFold(t *testing.T) {
	cases := map[string]string{
		"¿Qué HORARIO tiene?":     "que horario tiene",
		"  What's   on, today?! ": "whats on today",
		"Straße Ørsted":           "strase orsted",
		"niño—café":               "nino cafe",
		"10:00–18:00":             "10 00 18 00",
		"":                        "",
		"¡¡¡":                     "",
		"L'été à Montréal":        "lete a montreal",
		"don\u2019t":              "dont",
		"Ｆｕｌｌｗｉｄｔｈ ﬁle":           "fullwidth file",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
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
	for tag, want := range map[string]string{"en": "en", "en-GB": "en", "EN_us": "en", " es-419 ": "es", "spa": "es", "eng": "en", "de-DE": "de", "gsw": "gsw", "": ""} {
		if got := Base(tag); got != want {
			t.Errorf("Base(%q) = %q, want %q", tag, got, want)
		}
	}
	if Stem("en-US", "tickets") != Stem("en", "tickets") || !IsStopword("es-ES", "para") || !IsStopword("EN", "the") {
		t.Error("a regional tag is not read as its language")
	}
}
