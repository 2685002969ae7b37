package conversation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"voicebot/backend/content"
	vbembed "voicebot/embed"
)

// demoEngine loads the built-in demo pack, as `make run` does.
func demoEngine(t testing.TB) *Engine {
	t.Helper()
	e := New(NewMemorySessions(1000, time.Hour))
	if err := NewLoader(e, vbembed.DemoContent(), "built-in demo").Reload(); err != nil {
		t.Fatal(err)
	}
	return e
}

// want describes the expected answer: an intent name, "doc:" + a document path, or a kind
// (fallback, handoff, prompt, confirm, cancelled). slot, if set, is "name=value".
type turn struct {
	say, want, slot, lang string
}

// TestDemoAnswers is the table of the demo pack's questions, answered in both languages: one
// conversation per row, each turn in the same session.
func TestDemoAnswers(t *testing.T) {
	e := demoEngine(t)
	conversations := [][]turn{
		// English: templates and model
		{{say: "What are the opening hours?", want: "opening_hours"}},
		{{say: "when do you close on saturday", want: "opening_hours", slot: "day=saturday"}},
		{{say: "are you open on mondays?", want: "opening_hours", slot: "day=monday"}},
		{{say: "how late is the museum open today", want: "opening_hours"}},
		{{say: "How much is a ticket?", want: "ticket_prices"}},
		{{say: "do students get a discount", want: "ticket_prices"}},
		{{say: "is it free on the first sunday", want: "free_entry"}},
		{{say: "can I buy tickets online", want: "buy_tickets"}},
		{{say: "what's the address of the museum", want: "location_address"}},
		{{say: "which bus goes to the museum", want: "directions_transport"}},
		{{say: "where can I park my car", want: "parking"}},
		{{say: "is the museum wheelchair accessible", want: "accessibility"}},
		{{say: "where are the toilets", want: "where_is", slot: "place=toilets"}},
		{{say: "I'm looking for the cloakroom", want: "where_is", slot: "place=cloakroom"}},
		{{say: "do you serve lunch in the cafe", want: "cafe"}},
		{{say: "do you sell postcards", want: "gift_shop"}},
		{{say: "are there guided tours", want: "guided_tours"}},
		{{say: "can I rent an audio guide", want: "audio_guide"}},
		{{say: "am I allowed to take photos", want: "photography"}},
		{{say: "what exhibitions are on at the moment", want: "current_exhibitions"}},
		{{say: "what should I not miss in the collection", want: "permanent_collection"}},
		{{say: "is there anything for kids", want: "kids_families"}},
		{{say: "we are a school class of 25 pupils", want: "groups_schools"}},
		{{say: "is there wifi", want: "wifi"}},
		{{say: "I lost my umbrella", want: "lost_and_found", slot: "item=umbrella"}},
		{{say: "can I bring my dog", want: "pets"}},
		{{say: "can I eat my sandwich in the galleries", want: "food_drink"}},
		{{say: "how do I become a member", want: "membership"}},
		{{say: "what is your phone number", want: "contact"}},
		{{say: "how long does a visit take", want: "visit_duration"}},
		{{say: "I want to speak to a person", want: "human_help"}},
		{{say: "who are you", want: "bot_identity"}},
		{{say: "hello", want: "greeting"}},
		{{say: "thanks a lot", want: "thanks"}},
		{{say: "goodbye", want: "goodbye"}},
		// English: knowledge documents
		{{say: "when was the lighthouse lens made?", want: "doc:knowledge/en/the-lighthouse-lens.md"}},
		{{say: "who designed the renovation of the building?", want: "doc:knowledge/en/the-building.md"}},
		{{say: "what workshops do you have for schools", want: "doc:knowledge/en/learning-and-schools.md"}},
		{{say: "can I volunteer at the museum", want: "doc:knowledge/en/volunteering.md"}},
		{{say: "when is the archive open", want: "doc:knowledge/en/library-and-archive.txt"}},
		{{say: "can I hire the museum for a wedding", want: "doc:knowledge/en/venue-hire.html"}},
		{{say: "I have an old object I'd like to donate", want: "doc:knowledge/en/donating-objects.md"}},
		{{say: "when do the Lancashire looms run", want: "doc:knowledge/en/textile-mills-gallery.md"}},
		// English: follow-ups, forms, confirmations
		{{say: "what are the opening hours", want: "opening_hours"}, {say: "and on Sunday?", want: "opening_hours", slot: "day=sunday"}, {say: "what about thursday", want: "opening_hours", slot: "day=thursday"}},
		{{say: "where is the cafe", want: "where_is", slot: "place=cafe"}, {say: "and the toilets?", want: "where_is", slot: "place=toilets"}},
		{{say: "book a tour", want: "prompt"}, {say: "the architecture one", want: "prompt", slot: "tour=architecture"}, {say: "thursday", want: "confirm", slot: "day=thursday"}, {say: "yes please", want: "book_tour"}},
		{{say: "I'd like to book a family tour on saturday", want: "confirm"}, {say: "no", want: "cancelled"}},
		{{say: "how much does the lighthouse lens weigh", want: "doc:knowledge/en/the-lighthouse-lens.md"}, {say: "how tall is it?", want: "doc:knowledge/en/the-lighthouse-lens.md"}},
		// English: out of scope, also repeated (handoff on the third miss)
		{{say: "what is the capital of France", want: "fallback"}},
		{{say: "tell me a joke", want: "fallback"}},
		{{say: "what is the meaning of life", want: "fallback"}, {say: "who won the football yesterday", want: "fallback"}, {say: "order me a pizza", want: "handoff"}},
		// Spanish
		{{say: "¿Cuál es el horario?", want: "opening_hours"}},
		{{say: "¿a qué hora abrís el domingo?", want: "opening_hours", slot: "dia=domingo"}},
		{{say: "cuánto cuesta la entrada", want: "ticket_prices"}},
		{{say: "hay descuento para jubilados", want: "ticket_prices"}},
		{{say: "dónde están los baños", want: "where_is", slot: "lugar=aseos"}},
		{{say: "se puede aparcar cerca del museo", want: "parking"}},
		{{say: "hay visitas guiadas", want: "guided_tours"}},
		{{say: "se pueden hacer fotos", want: "photography"}},
		{{say: "qué exposiciones hay ahora", want: "current_exhibitions"}},
		{{say: "he perdido mi móvil", want: "lost_and_found", slot: "objeto=móvil"}},
		{{say: "hola", want: "greeting"}},
		{{say: "muchas gracias", want: "thanks"}},
		{{say: "cuándo se fabricó la lente del faro", want: "doc:knowledge/es/la-lente-del-faro.md"}},
		{{say: "quién construyó el edificio", want: "doc:knowledge/es/el-edificio.md"}},
		{{say: "puedo hacer voluntariado", want: "doc:knowledge/es/voluntariado.md"}},
		{{say: "¿a qué hora abrís?", want: "opening_hours"}, {say: "¿y el lunes?", want: "opening_hours", slot: "dia=lunes"}},
		{{say: "quiero reservar una visita", want: "prompt"}, {say: "arquitectura", want: "prompt"}, {say: "el sábado", want: "confirm"}, {say: "sí", want: "book_tour", slot: "dia=sábado"}},
		{{say: "¿cuál es la capital de Francia?", want: "fallback"}},
		// Explicit language
		{{say: "horario", lang: "es", want: "opening_hours"}},
	}
	total, failed := 0, 0
	for _, conv := range conversations {
		session := ""
		for i, tc := range conv {
			total++
			r, err := e.Reply(context.Background(), Request{SessionID: session, Text: tc.say, Lang: tc.lang})
			if err != nil {
				t.Fatalf("%q: %v", tc.say, err)
			}
			session = r.SessionID
			got := answered(r)
			ok := got == tc.want
			if ok && tc.slot != "" {
				k, v, _ := strings.Cut(tc.slot, "=")
				ok = r.Slots[k] == v
			}
			if !ok {
				failed++
				t.Errorf("turn %d %q: got %s %v (%s, confidence %.2f, via %s): %q; want %s %s", i+1, tc.say, got, r.Slots, r.Lang, r.Confidence, r.Via, r.Text, tc.want, tc.slot)
			}
		}
	}
	t.Logf("%d of %d turns answered as expected", total-failed, total)
	if total < 60 {
		t.Errorf("the table has %d turns; keep at least 60", total)
	}
}

func TestLanguageFollowsTheVisitor(t *testing.T) {
	e := demoEngine(t)
	ctx := context.Background()
	r, _ := e.Reply(ctx, Request{Text: "¿Dónde está la cafetería?"})
	if r.Lang != "es" || !strings.Contains(r.Text, "Cafetería") {
		t.Fatalf("spanish question: %+v", r)
	}
	// a short word keeps the session's language
	r2, _ := e.Reply(ctx, Request{SessionID: r.SessionID, Text: "ok"})
	if r2.Lang != "es" {
		t.Errorf("short reply switched language: %+v", r2)
	}
	// a clear sentence in another language switches
	r3, _ := e.Reply(ctx, Request{SessionID: r.SessionID, Text: "How much does a ticket cost for adults?"})
	if r3.Lang != "en" || r3.Intent != "ticket_prices" {
		t.Errorf("english question in a spanish session: %+v", r3)
	}
}

func TestBadInput(t *testing.T) {
	e := demoEngine(t)
	ctx := context.Background()
	cases := []struct {
		req  Request
		want error
	}{
		{Request{Text: "   "}, ErrEmpty},
		{Request{Text: strings.Repeat("a", MaxUtteranceRunes+1)}, ErrTooLong},
		{Request{Text: "hi", SessionID: "../../etc/passwd"}, ErrSessionID},
		{Request{Text: "hi", SessionID: strings.Repeat("x", 65)}, ErrSessionID},
	}
	for _, c := range cases {
		if _, err := e.Reply(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%+v: got %v, want %v", c.req.SessionID, err, c.want)
		}
	}
	var le *LanguageError
	if _, err := e.Reply(ctx, Request{Text: "bonjour", Lang: "fr"}); !errors.As(err, &le) || len(le.Supported) != 2 {
		t.Errorf("unsupported language: %v", err)
	}
	// A browser sends its locale: "es-MX" asks the pack's "es", answered in it.
	if r, err := e.Reply(ctx, Request{Text: "¿cuánto cuesta la entrada?", Lang: "es-MX"}); err != nil || r.Lang != "es" || r.Intent != "ticket_prices" {
		t.Errorf("es-MX: %+v %v", r, err)
	}
	if _, err := New(NewMemorySessions(1, time.Minute)).Reply(ctx, Request{Text: "hi"}); !errors.Is(err, ErrNotReady) {
		t.Errorf("no content: %v", err)
	}
}

func TestResponsesRotate(t *testing.T) {
	e := demoEngine(t)
	ctx := context.Background()
	r1, _ := e.Reply(ctx, Request{Text: "hello"})
	r2, _ := e.Reply(ctx, Request{SessionID: r1.SessionID, Text: "hello"})
	if r1.Text == r2.Text {
		t.Errorf("the same greeting twice: %q", r1.Text)
	}
}

func TestKnowledgeCacheDiesWithTheSnapshot(t *testing.T) {
	e := demoEngine(t)
	ctx := context.Background()
	q := "can I hire the museum for a wedding"
	r1, _ := e.Reply(ctx, Request{Text: q})
	r2, _ := e.Reply(ctx, Request{Text: q})
	if r1.Via != "knowledge" || r2.Via != "cache" || r1.Text != r2.Text {
		t.Fatalf("first %s, second %s", r1.Via, r2.Via)
	}
	if err := NewLoader(e, vbembed.DemoContent(), "demo").Reload(); err != nil {
		t.Fatal(err)
	}
	r3, _ := e.Reply(ctx, Request{Text: q})
	if r3.Via != "knowledge" {
		t.Errorf("after a reload the answer came from %s", r3.Via)
	}
}

func TestBrokenPackKeepsServing(t *testing.T) {
	e := demoEngine(t)
	before := e.Snapshot().Version
	broken := content.Errors{}
	l := NewLoader(e, brokenFS(), "broken")
	err := l.Reload()
	if !errors.As(err, &broken) || len(broken) == 0 {
		t.Fatalf("want content errors, got %v", err)
	}
	if e.Snapshot().Version != before {
		t.Errorf("a broken pack was swapped in")
	}
	if st := l.Status(); st.OK || st.Errors[0].Line == 0 || st.Errors[0].File != "intents/en.yaml" {
		t.Errorf("status: %+v", st)
	}
}

// TestTypingSlipsAnswered: a typed question with a slip is answered as if written right
// (package spelling), in English and in Spanish.
func TestTypingSlipsAnswered(t *testing.T) {
	e := demoEngine(t)
	for q, want := range map[string]string{
		"how much are tikets":           "ticket_prices",
		"opning hours":                  "opening_hours",
		"is there parkng":               "parking",
		"do you have a resturant":       "cafe",
		"¿cuánto cuestan las entardas?": "ticket_prices",
		"horario de apertrua":           "opening_hours",
	} {
		r, err := e.Reply(context.Background(), Request{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if r.Intent != want {
			t.Errorf("%q: got %s %s (%.2f via %s), want %s", q, r.Kind, r.Intent, r.Confidence, r.Via, want)
		}
	}
}

// TestQuestionClause: the question of a turn that sets the scene first is read alone too.
func TestQuestionClause(t *testing.T) {
	for in, want := range map[string]string{
		"my father uses a wheelchair, is there a ramp at the entrance?": "is there a ramp at the entrance",
		"we just landed. can we check in now?":                          "can we check in now",
		"perdona, ¿el spa en qué piso está?":                            "¿el spa en qué piso está",
		"I have a meeting at 10; where's the conference room":           "where's the conference room",
		"is there anywhere to grab a bite? my daughter is coeliac":      "is there anywhere to grab a bite", // the question first
		"¿hay wifi? me he quedado sin datos":                            "hay wifi",
		"hi, is there a cafe? we're starving":                           "is there a cafe",
		"is there a cafe? and a shop?":                                  "and a shop", // ends with a question
		"wifi? it won't connect":                                        "",           // one word
		"where is the pool?":                                            "",           // one clause
		"where is the pool, please":                                     "",           // the last clause is one word
		", where is the pool":                                           "",           // nothing before it
		"is it open today?!":                                            "",
		"open at 10:30 tomorrow morning":                                "", // a mark inside a token
		"mail info@hotel.com about my booking":                          "",
	} {
		if got := questionClause(in); got != want {
			t.Errorf("questionClause(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCalledByName: a visitor who calls the assistant by name asks nothing with the name: before
// withoutName, "thanks mira" was the bot's identity (its answer says "I'm Mira") and "hey mira
// what time do you close today" a greeting. A name that is a word of the content stays a word.
func TestCalledByName(t *testing.T) {
	e := demoEngine(t)
	for q, want := range map[string]string{
		"thanks mira":                           "thanks",
		"hey mira what time do you close today": "opening_hours",
		"ok mira, bye":                          "goodbye",
		"Mira, do you have a gift shop?":        "gift_shop",
		"hi mira":                               "greeting",
		"mira":                                  "greeting", // the name alone is kept
	} {
		r, err := e.Try(q, "en")
		if err != nil {
			t.Fatal(err)
		}
		if got := answered(r); got != want {
			t.Errorf("%q: got %s (%.2f via %s), want %s", q, got, r.Confidence, r.Via, want)
		}
	}
	harbour := New(NewMemorySessions(10, time.Hour))
	fsys := fstest.MapFS{
		"bot.yaml":                {Data: []byte("name: Marina\nlanguages: [en]\n")},
		"intents/en.yaml":         {Data: []byte("language: en\nintents:\n  hello:\n    examples: [hi, hello]\n    responses: [Hello!]\n  boats:\n    examples: [where can I moor a boat]\n    responses: [At the pontoon.]\n")},
		"knowledge/en/harbour.md": {Data: []byte("# The harbour\n\nThe marina has 200 berths for visiting yachts.\n")},
	}
	if err := NewLoader(harbour, fsys, "test").Reload(); err != nil {
		t.Fatal(err)
	}
	if lb := harbour.Snapshot().langs["en"]; lb.name != nil {
		t.Errorf("Marina is a word of the documents, yet taken as the assistant's name: %v", lb.name)
	}
	if name := assistantName(&content.Pack{Bot: content.Bot{Name: "Will"}}, "en", nil); name != nil {
		t.Errorf("a name that is a stop word is taken as the assistant's: %v", name)
	}
	if got := withoutName(&langBrain{lang: "en", name: []string{"mira"}}, []string{"where", "is", "the", "mira"}); len(got) != 4 {
		t.Errorf("the name after an article was dropped: %v", got)
	}
}
