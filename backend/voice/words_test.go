package voice

import (
	"strings"
	"testing"
	"testing/fstest"

	"voicebot/backend/content"
)

func TestWordEdits(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"what are the opening hours", "what are the opening hours", 0},
		{"what are the opening hours", "where are the lighthouse lens", 3},
		{"how much is a ticket", "how much is the", 2},
		{"", "hello there", 2},
		{"hello there", "", 2},
	} {
		if got := WordEdits(strings.Fields(tc.a), strings.Fields(tc.b)); got != tc.want {
			t.Errorf("WordEdits(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestCorpusByLanguage: an "en-GB" pack's phrasings are what the English models are adapted to.
func TestCorpusByLanguage(t *testing.T) {
	fsys := fstest.MapFS{
		"bot.yaml":           {Data: []byte("name: T\nlanguages: [en-GB]\n")},
		"intents/en-GB.yaml": {Data: []byte("language: en-GB\nintents:\n  hours:\n    examples: [when do you open]\n    responses: [At ten.]\n")},
	}
	p, err := content.Load(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	c := CorpusFrom(p)
	if len(c.Sentences["en"]) != 1 || c.Sentences["en"][0] != "when do you open" || len(c.Text["en"]) == 0 {
		t.Errorf("corpus %+v", c)
	}
}

// TestCorpusJoinsRegionalLists: a pack's en and en-GB lists of one name are one rule, with the
// values of both, whichever language the corpus reads first.
func TestCorpusJoinsRegionalLists(t *testing.T) {
	intents := func(lang, value string) []byte {
		return []byte("language: " + lang + "\nlists:\n  place:\n    - value: " + value + "\nintents:\n  where:\n    templates: [\"where is the {place}\"]\n    responses: [Here.]\n")
	}
	fsys := fstest.MapFS{
		"bot.yaml":           {Data: []byte("name: T\nlanguages: [en, en-GB]\n")},
		"intents/en.yaml":    {Data: intents("en", "parking lot")},
		"intents/en-GB.yaml": {Data: intents("en-GB", "car park")},
	}
	p, err := content.Load(fsys, "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // map order varies from run to run
		got := CorpusFrom(p).Lists["en"][ListRule("place")]
		if len(got) != 2 {
			t.Fatalf("list rule %q", got)
		}
	}
}
