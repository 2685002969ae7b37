package content

import "testing"

func TestMatchLanguage(t *testing.T) {
	for _, c := range []struct {
		langs      []string
		tag, want  string
		wantServed bool
	}{
		{[]string{"en", "es"}, "es-MX", "es", true},
		{[]string{"en", "es"}, "EN", "en", true},
		{[]string{"en-GB"}, "en", "en-GB", true},
		{[]string{"en-GB"}, "en-us", "en-GB", true},
		{[]string{"en", "en-GB"}, "en-US", "en", true},
		{[]string{"en", "en-GB"}, "en-gb", "en-GB", true},
		{[]string{"pt-BR", "pt-PT"}, "pt", "", false},
		{[]string{"en", "es"}, "fr", "", false},
		{[]string{"en"}, "", "", false},
		{[]string{"en"}, "_", "", false},
	} {
		b := Bot{Languages: c.langs}
		got, ok := b.MatchLanguage(c.tag)
		if got != c.want || ok != c.wantServed {
			t.Errorf("%v asked %q: %q %v, want %q %v", c.langs, c.tag, got, ok, c.want, c.wantServed)
		}
	}
}
