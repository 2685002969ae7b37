package retrieval

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"voicebot/backend/conversation/wordvec"
)

func TestSentences(t *testing.T) {
	got := Sentences("It is 3.7 m tall, e.g. very tall. It turned on mercury! Was it loud? ¿Y en español? Sí.")
	want := []string{"It is 3.7 m tall, e.g. very tall.", "It turned on mercury!", "Was it loud?", "¿Y en español?", "Sí."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

// TestSentencesFullWidth: Chinese and Japanese end a sentence with a full-width mark and no
// space, and a passage of them is cut by its characters (text.Words).
func TestSentencesFullWidth(t *testing.T) {
	got := Sentences("レンズは1870年に作られました。重さは三トンです！「本当？」と聞かれます。")
	want := []string{"レンズは1870年に作られました。", "重さは三トンです！", "「本当？」と聞かれます。"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("灯台のレンズは二階にあります。", 20) // 14 words a sentence
	chunks := Chunk(long, 50)
	if len(chunks) < 5 {
		t.Errorf("%d chunks of 50 words from 280", len(chunks))
	}
}

func TestChunk(t *testing.T) {
	para := strings.Repeat("word ", 50) + "end."
	text := para + "\n\n" + para + "\n\n" + para
	chunks := Chunk(text, 120)
	if len(chunks) != 2 {
		t.Fatalf("%d chunks", len(chunks))
	}
	long := strings.Repeat("One sentence here. ", 100)
	for _, c := range Chunk(long, 50) {
		if n := len(strings.Fields(c)); n > 50 {
			t.Errorf("chunk of %d words", n)
		}
		if !strings.HasPrefix(c, "One") {
			t.Errorf("chunk starts mid-sentence: %q", c[:20])
		}
	}
}

func TestSearchRanksAndFiltersLanguage(t *testing.T) {
	docs := []Document{
		{ID: "lens", Title: "The Lighthouse Lens", Text: "The lens was made in Paris in 1887 and weighs six tonnes.", Lang: "en"},
		{ID: "cafe", Title: "The Café", Text: "The café serves coffee and cakes on the terrace.", Lang: "en"},
		{ID: "lente", Title: "La Lente del Faro", Text: "La lente se fabricó en París en 1887 y pesa seis toneladas.", Lang: "es"},
		{ID: "any", Title: "Wi-Fi", Text: "Network HCM-Visitors.", Lang: ""},
	}
	ix := NewIndex(docs, Options{}, nil)
	hits := ix.Search("en", "how much does the lighthouse lens weigh", 5)
	if len(hits) == 0 || docs[hits[0].Doc].ID != "lens" || hits[0].Matched < 0.99 {
		t.Fatalf("english: %+v", hits)
	}
	for _, h := range hits {
		if docs[h.Doc].Lang == "es" {
			t.Errorf("a Spanish passage answered an English question")
		}
	}
	if hits := ix.Search("es", "¿cuánto pesa la lente?", 5); len(hits) == 0 || docs[hits[0].Doc].ID != "lente" {
		t.Errorf("spanish: %+v", hits)
	}
	if hits := ix.Search("es", "hcm visitors", 5); len(hits) == 0 || docs[hits[0].Doc].ID != "any" {
		t.Errorf("language-neutral document: %+v", hits)
	}
	if hits := ix.Search("en", "the and of", 5); hits != nil {
		t.Errorf("stop words only: %+v", hits)
	}
	// a query word no document has lowers the match share more than a common one
	a := ix.Search("en", "lens zeppelin", 1)[0].Matched
	b := ix.Search("en", "lens", 1)[0].Matched
	if !(a < 0.6 && b > 0.99) {
		t.Errorf("match shares: %v %v", a, b)
	}
}

// TestRarestMatchedWord: a hit records the place, by how common, of the rarest word it shares
// with the question (a near word when it stands for a missing one), from the word vectors of the
// question's language; without vectors every word is taken as rare.
func TestRarestMatchedWord(t *testing.T) {
	vec := wordvec.For("en")
	if vec == nil {
		t.Skip("no English word vectors built in")
	}
	docs := []Document{
		{ID: "ships", Title: "Ships", Text: "The Aurora sailed in all weather from the old quay.", Lang: "en"},
		{ID: "barcos", Title: "Barcos", Text: "El Aurora navegaba con cualquier tiempo.", Lang: "es"},
	}
	ix := NewIndex(docs, Options{Vectors: wordvec.For}, nil)
	rank := func(w string) int { return vec.Rank(vec.Index(w)) }
	h := ix.Search("en", "what's the weather like", 1)
	if len(h) != 1 || h[0].Rarest != rank("weather") {
		t.Fatalf("weather: %+v, want Rarest %d", h, rank("weather"))
	}
	h = ix.Search("en", "what happened to the aurora in bad weather", 1)
	if len(h) != 1 || h[0].Rarest != max(rank("aurora"), rank("weather")) || rank("aurora") < rank("weather") {
		t.Fatalf("aurora: %+v (aurora %d, weather %d)", h, rank("aurora"), rank("weather"))
	}
	// "rain" is in no passage: the passage's near word "weather" (0.71) stands for it, and
	// its rank is what the passage shares ("rain" is the rarer: past the 2,000 commonest)
	h = ix.Search("en", "rain", 1)
	if len(h) != 1 || h[0].Rarest != rank("weather") || rank("rain") <= rank("weather") {
		t.Fatalf("rain: %+v, want Rarest %d (weather), not %d (rain)", h, rank("weather"), rank("rain"))
	}
	if h := ix.Search("es", "qué tiempo hace", 1); len(h) != 1 || h[0].Rarest != math.MaxInt {
		t.Fatalf("a language without vectors: %+v", h)
	}
}

// TestCommonWordsWeighLittle: a question's common words weigh no more than their commonness in
// English allows in the share of it a passage matches, whether a passage has them or not: the
// page on hearing answers "I'm hard of hearing, is there anything to help me notice the fire
// alarm?" although another passage says "help" and "fire". Without the bound for the words a
// passage has, "help" and "fire" took their idf in a small corpus and the page matched 43%.
func TestCommonWordsWeighLittle(t *testing.T) {
	if wordvec.For("en") == nil {
		t.Skip("no English word vectors built in")
	}
	docs := []Document{
		{ID: "access", Title: "Accessibility", Text: "For guests who are deaf or hard of hearing, there is a hearing loop at the front desk, and vibrating alarm kits with a flashing light are available for the rooms.", Lang: "en"},
		{ID: "rules", Title: "House rules", Text: "Smoking is not allowed anywhere in the hotel: a smoke detector that goes off calls the fire brigade. Ask the desk for help with anything else.", Lang: "en"},
	}
	// a corpus the size of a small pack's, so that a word in one passage has the idf it has there
	for i, topic := range []string{"breakfast is served in the garden room", "the pool is heated all year",
		"parking is under the building", "bikes can be hired at reception", "the bar serves cocktails until late",
		"laundry is collected each morning", "the gym has rowing machines", "taxis wait outside the main door",
		"the rooftop terrace opens in summer", "luggage is stored behind the desk", "pets stay in ground floor rooms",
		"the library lends board games", "late checkout costs twenty euros", "the shuttle bus leaves every hour"} {
		docs = append(docs, Document{ID: fmt.Sprint("other", i), Title: "Other", Text: topic + ".", Lang: "en"})
	}
	ix := NewIndex(docs, Options{Vectors: wordvec.For}, nil)
	h := ix.Search("en", "I'm hard of hearing, is there anything to help me notice the fire alarm?", 1)
	if len(h) != 1 || docs[h[0].Doc].ID != "access" || h[0].Matched < 0.5 {
		t.Fatalf("hits %+v, want the accessibility page matching at least half", h)
	}
}
