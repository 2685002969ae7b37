package conversation

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
)

// visitorQuestions are questions to the demo as visitors put them: the engine's development set
// for understanding (a sealed set elsewhere checks that what is learnt here holds on questions
// nobody tuned to). Most are not in the pack; some are a phrasing it lists word for word (a
// template's expansion or an example, such as "is there a discount for students", which the
// engine once missed), and answerVisitors reports the unlisted ones apart. want is as in
// TestDemoAnswers, with alternatives separated by "|"; "oos" means the fallback or handoff.
var visitorQuestions = [][]turn{
	// English: intents
	{{say: "what time do you open in the morning", want: "opening_hours"}},
	{{say: "are you open on saturday afternoon", want: "opening_hours", slot: "day=saturday"}},
	{{say: "until what time can i come in", want: "opening_hours"}},
	{{say: "how much do adults pay", want: "ticket_prices"}},
	{{say: "is there a discount for students", want: "ticket_prices"}},
	{{say: "what does it cost for a family of four", want: "ticket_prices"}},
	{{say: "do pensioners get a reduced price", want: "ticket_prices"}},
	{{say: "is entry free for children", want: "ticket_prices|free_entry"}},
	{{say: "where do i pay for my ticket", want: "buy_tickets"}},
	{{say: "do you take credit cards", want: "buy_tickets"}},
	{{say: "what street are you on", want: "location_address"}},
	{{say: "how do i get here from the train station", want: "directions_transport"}},
	{{say: "which tram stops near the museum", want: "directions_transport"}},
	{{say: "where can i leave my car", want: "parking"}},
	{{say: "is there somewhere to lock my bike", want: "parking"}},
	{{say: "is there a lift for wheelchairs", want: "accessibility|where_is"}},
	{{say: "can my guide dog come in", want: "accessibility|pets"}},
	{{say: "where do i leave my backpack", want: "where_is|doc:knowledge/en/visitor-rules.md", slot: ""}},
	{{say: "are there lockers", want: "where_is", slot: "place=cloakroom"}},
	{{say: "where is the nearest toilet", want: "where_is", slot: "place=toilets"}},
	{{say: "how do i find the maritime gallery", want: "where_is", slot: "place=maritime gallery"}},
	{{say: "is there somewhere to get a coffee", want: "cafe|where_is"}},
	{{say: "do you have gluten free food", want: "cafe"}},
	{{say: "can i buy a book about the museum", want: "gift_shop"}},
	{{say: "when does the next tour start", want: "guided_tours"}},
	{{say: "how long do the guided tours last", want: "guided_tours"}},
	{{say: "i would like to join the highlights tour on friday", want: "confirm"}},
	{{say: "is there an audio guide in german", want: "audio_guide"}},
	{{say: "can i take pictures inside", want: "photography"}},
	{{say: "is flash photography allowed", want: "photography"}},
	{{say: "what is showing right now", want: "current_exhibitions"}},
	{{say: "what is the temporary exhibition about", want: "current_exhibitions|doc:knowledge/en/river-of-light-exhibition.md"}},
	{{say: "what are the highlights of the museum", want: "permanent_collection"}},
	{{say: "can i bring a stroller", want: "kids_families"}},
	{{say: "is the museum fun for children", want: "kids_families"}},
	{{say: "do you have group rates", want: "groups_schools"}},
	{{say: "what is the wifi password", want: "wifi"}},
	{{say: "i left my jacket somewhere", want: "lost_and_found|where_is"}},
	{{say: "are dogs allowed", want: "pets"}},
	{{say: "can i bring a bottle of water", want: "food_drink"}},
	{{say: "what are the benefits of membership", want: "membership"}},
	{{say: "how can i contact the museum", want: "contact"}},
	{{say: "how much time do i need to see everything", want: "visit_duration"}},
	{{say: "can i talk to a real person", want: "human_help|bot_identity"}},
	{{say: "what's your name", want: "bot_identity"}},
	{{say: "good afternoon", want: "greeting"}},
	{{say: "thank you very much for your help", want: "thanks"}},
	// English: documents
	{{say: "how old is the building", want: "doc:knowledge/en/the-building.md|doc:knowledge/en/history-of-the-museum.md"}},
	{{say: "who built the warehouse", want: "doc:knowledge/en/the-building.md"}},
	{{say: "how heavy is the lighthouse lens", want: "doc:knowledge/en/the-lighthouse-lens.md"}},
	{{say: "can kids do workshops", want: "doc:knowledge/en/learning-and-schools.md|kids_families"}},
	{{say: "can i give an old photograph to the museum", want: "doc:knowledge/en/donating-objects.md"}},
	{{say: "can we rent a room for a party", want: "doc:knowledge/en/venue-hire.html"}},
	{{say: "how do i become a volunteer", want: "doc:knowledge/en/volunteering.md"}},
	{{say: "can i do research in the library", want: "doc:knowledge/en/library-and-archive.txt"}},
	{{say: "is smoking allowed on the terrace", want: "doc:knowledge/en/visitor-rules.md"}},
	// English: follow-ups
	{{say: "how much is a ticket", want: "ticket_prices"}, {say: "what about for seniors?", want: "ticket_prices"}},
	{{say: "when are you open on friday", want: "opening_hours"}, {say: "and saturday?", want: "opening_hours", slot: "day=saturday"}},
	{{say: "where is the shop", want: "where_is"}, {say: "what about the lifts", want: "where_is", slot: "place=lift"}},
	// English: out of scope
	{{say: "translate good morning into japanese", want: "oos"}},
	{{say: "what is the weather like tomorrow", want: "oos"}},
	{{say: "can you recommend a good hotel in town", want: "oos"}},
	{{say: "what is two plus two", want: "oos"}},
	{{say: "who is the president of the united states", want: "oos"}},
	{{say: "play some music", want: "oos"}},
	{{say: "how do i reset my phone", want: "oos"}},
	{{say: "book me a taxi to the airport", want: "oos"}},
	// Spanish: intents
	{{say: "¿a qué hora cerráis hoy?", want: "opening_hours"}},
	{{say: "¿abrís los domingos por la tarde?", want: "opening_hours", slot: "dia=domingo"}},
	{{say: "¿cuánto pagan los niños?", want: "ticket_prices"}},
	{{say: "¿hay descuento para estudiantes?", want: "ticket_prices"}},
	{{say: "¿dónde compro las entradas?", want: "buy_tickets"}},
	{{say: "¿dónde está el museo exactamente?", want: "location_address"}},
	{{say: "¿cómo llego en autobús?", want: "directions_transport"}},
	{{say: "¿se puede aparcar cerca?", want: "parking"}},
	{{say: "¿dónde puedo dejar la mochila?", want: "where_is"}},
	{{say: "¿hay ascensor?", want: "where_is|accessibility"}},
	{{say: "¿dónde están los servicios?", want: "where_is", slot: "lugar=aseos"}},
	{{say: "¿se puede comer algo en el museo?", want: "cafe|food_drink"}},
	{{say: "¿tenéis audioguías en español?", want: "audio_guide"}},
	{{say: "¿puedo sacar fotos?", want: "photography"}},
	{{say: "¿qué se puede ver ahora?", want: "current_exhibitions"}},
	{{say: "¿hay algo para los niños?", want: "kids_families"}},
	{{say: "¿puedo llevar a mi perro?", want: "pets"}},
	{{say: "¿cuánto dura la visita?", want: "visit_duration|guided_tours"}},
	{{say: "quiero hablar con una persona", want: "human_help"}},
	{{say: "buenas tardes", want: "greeting"}},
	{{say: "adiós, gracias", want: "goodbye|thanks"}},
	// Spanish: documents
	{{say: "¿de qué año es el edificio?", want: "doc:knowledge/es/el-edificio.md|doc:knowledge/es/historia-del-museo.md"}},
	{{say: "¿cuánto pesa la lente del faro?", want: "doc:knowledge/es/la-lente-del-faro.md"}},
	{{say: "¿cómo puedo ser voluntario?", want: "doc:knowledge/es/voluntariado.md"}},
	// Spanish: follow-ups
	{{say: "¿cuál es el horario?", want: "opening_hours"}, {say: "¿y los domingos?", want: "opening_hours", slot: "dia=domingo"}},
	{{say: "¿cuánto cuesta la entrada?", want: "ticket_prices"}, {say: "¿y para jubilados?", want: "ticket_prices"}},
	// Spanish: out of scope
	{{say: "¿cómo reinicio mi teléfono?", want: "oos"}},
	{{say: "¿qué tiempo hará mañana?", want: "oos"}},
	{{say: "pídeme un taxi", want: "oos"}},
	{{say: "¿quién ganó el partido ayer?", want: "oos"}},
}

// visitorQuestionsLater were written after the engine's changes for issue 12 were made on
// visitorQuestions, and measured once, as a check on how much of the gain was fitted to them.
var visitorQuestionsLater = [][]turn{
	{{say: "what time does the museum shut", want: "opening_hours"}},
	{{say: "are you open on bank holidays", want: "opening_hours", slot: "day=holiday"}},
	{{say: "how much is entry for a child", want: "ticket_prices|free_entry"}},
	{{say: "is there a family ticket", want: "ticket_prices"}},
	{{say: "can i get tickets at the entrance", want: "buy_tickets"}},
	{{say: "what's the museum's postcode", want: "location_address"}},
	{{say: "is the museum near the river", want: "location_address|directions_transport"}},
	{{say: "which bus should i take", want: "directions_transport"}},
	{{say: "where is the closest car park", want: "parking"}},
	{{say: "is there step free access to all floors", want: "accessibility"}},
	{{say: "where's the gents", want: "where_is", slot: "place=toilets"}},
	{{say: "where can i get something to drink", want: "cafe|where_is|food_drink"}},
	{{say: "does the shop sell postcards", want: "gift_shop"}},
	{{say: "is there a tour in the afternoon", want: "guided_tours"}},
	{{say: "do you rent audio guides", want: "audio_guide"}},
	{{say: "am i allowed to film", want: "photography"}},
	{{say: "what's new at the museum", want: "current_exhibitions"}},
	{{say: "what is the museum famous for", want: "permanent_collection"}},
	{{say: "is there a baby changing room", want: "kids_families"}},
	{{say: "i found a wallet", want: "lost_and_found"}},
	{{say: "can i bring my cat", want: "pets"}},
	{{say: "is eating allowed in the galleries", want: "food_drink"}},
	{{say: "how much is a membership", want: "membership"}},
	{{say: "what's your email address", want: "contact"}},
	{{say: "is an hour enough to see the museum", want: "visit_duration"}},
	{{say: "when was the museum founded", want: "doc:knowledge/en/history-of-the-museum.md|doc:knowledge/en/the-building.md"}},
	{{say: "how big is the lighthouse lens", want: "doc:knowledge/en/the-lighthouse-lens.md"}},
	{{say: "do you run school workshops", want: "doc:knowledge/en/learning-and-schools.md|groups_schools"}},
	{{say: "when are you open on sundays", want: "opening_hours"}, {say: "and on mondays?", want: "opening_hours", slot: "day=monday"}},
	{{say: "how much are tickets", want: "ticket_prices"}, {say: "what about students?", want: "ticket_prices"}},
	{{say: "what's the best pizza place nearby", want: "oos"}},
	{{say: "set a timer for five minutes", want: "oos"}},
	{{say: "what's the exchange rate for dollars", want: "oos"}},
	{{say: "tell me about quantum physics", want: "oos"}},
	{{say: "¿a qué hora abre el museo?", want: "opening_hours"}},
	{{say: "¿hay entradas para familias?", want: "ticket_prices"}},
	{{say: "¿dónde está la cafetería?", want: "where_is|cafe"}},
	{{say: "¿hay visitas en inglés?", want: "guided_tours"}},
	{{say: "¿se puede entrar con carrito de bebé?", want: "kids_families"}},
	{{say: "¿cuánto cuesta ser socio?", want: "membership"}},
	{{say: "¿qué hay en la galería marítima?", want: "doc:knowledge/es/galeria-maritima.md|where_is|permanent_collection"}},
	{{say: "¿abrís el lunes?", want: "opening_hours", slot: "dia=lunes"}, {say: "¿y el sábado?", want: "opening_hours", slot: "dia=sábado"}},
	{{say: "¿cuál es la receta de la paella?", want: "oos"}},
	{{say: "¿quién es el presidente de Francia?", want: "oos"}},
}

// visitorQuestionsThird were written on 2026-12-02 (fifth session), after the changes for
// everyday words were made on the 306 typed questions of the spoken sets, and measured once
// on the engine before them and after (docs/BENCHMARKS.md): a third check of how much of a gain
// holds on questions nothing was tuned to. One want was mended after that measurement: "i need
// to put my bag in a locker" is rightly answered by the visitor rules' "Large bags ... must be
// left in the cloakroom or the free lockers".
var visitorQuestionsThird = [][]turn{
	{{say: "what time do you open on saturday morning", want: "opening_hours"}},
	{{say: "are you open on easter monday", want: "opening_hours"}},
	{{say: "how much do kids pay", want: "ticket_prices|free_entry"}},
	{{say: "is it free for babies", want: "ticket_prices|free_entry"}},
	{{say: "can i book tickets online", want: "buy_tickets"}},
	{{say: "what's the museum's address", want: "location_address"}},
	{{say: "how do i get there from the station", want: "directions_transport"}},
	{{say: "where should i leave my car", want: "parking"}},
	{{say: "is there a ramp at the entrance", want: "accessibility"}},
	{{say: "i need to put my bag in a locker", want: "where_is|doc:knowledge/en/visitor-rules.md"}},
	{{say: "does the cafe do sandwiches", want: "cafe"}},
	{{say: "is there a souvenir shop", want: "gift_shop|where_is"}},
	{{say: "do you do guided tours at weekends", want: "guided_tours"}},
	{{say: "is there an audio guide in german", want: "audio_guide"}},
	{{say: "can i take photos with flash", want: "photography"}},
	{{say: "are service dogs allowed", want: "pets"}},
	{{say: "what exhibitions are on this summer", want: "current_exhibitions"}},
	{{say: "what's in the permanent collection", want: "permanent_collection"}},
	{{say: "is the museum good for toddlers", want: "kids_families"}},
	{{say: "can a school class visit", want: "groups_schools|doc:knowledge/en/learning-and-schools.md"}},
	{{say: "what's the wifi password", want: "wifi"}},
	{{say: "i lost my gloves", want: "lost_and_found"}},
	{{say: "what are the benefits of membership", want: "membership"}},
	{{say: "can i email someone at the museum", want: "contact"}},
	{{say: "how much time do i need for the whole museum", want: "visit_duration"}},
	{{say: "can i talk to a real person", want: "human_help"}},
	{{say: "are you a robot", want: "bot_identity"}},
	{{say: "how much does the lighthouse lens weigh", want: "doc:knowledge/en/the-lighthouse-lens.md"}},
	{{say: "how old is the warehouse", want: "doc:knowledge/en/the-building.md|doc:knowledge/en/history-of-the-museum.md"}},
	{{say: "can i see the museum archive", want: "doc:knowledge/en/library-and-archive.txt"}},
	{{say: "how do i become a volunteer", want: "doc:knowledge/en/volunteering.md"}},
	{{say: "can i hire the museum for a wedding", want: "doc:knowledge/en/venue-hire.html"}},
	{{say: "can i give my old letters to the museum", want: "doc:knowledge/en/donating-objects.md"}},
	{{say: "how much is a ticket", want: "ticket_prices"}, {say: "and for children?", want: "ticket_prices|free_entry"}},
	{{say: "what time do you close on friday", want: "opening_hours"}, {say: "what about saturday?", want: "opening_hours", slot: "day=saturday"}},
	{{say: "what's the capital of spain", want: "oos"}},
	{{say: "play the radio", want: "oos"}},
	{{say: "how do i fix a flat tyre", want: "oos"}},
	{{say: "book me a hotel room", want: "oos"}},
	{{say: "who painted the mona lisa", want: "oos"}},
	{{say: "¿a qué hora cierran los domingos?", want: "opening_hours"}},
	{{say: "¿cuánto pagan los niños?", want: "ticket_prices|free_entry"}},
	{{say: "¿dónde está el aseo?", want: "where_is"}},
	{{say: "¿dónde aparco el coche?", want: "parking"}},
	{{say: "¿tenéis wifi gratis?", want: "wifi"}},
	{{say: "¿se admiten perros?", want: "pets"}},
	{{say: "¿qué exposiciones hay ahora?", want: "current_exhibitions"}},
	{{say: "¿cuándo se fundó el museo?", want: "doc:knowledge/es/historia-del-museo.md|doc:knowledge/es/el-edificio.md"}},
	{{say: "¿cómo llego en autobús?", want: "directions_transport"}},
	{{say: "¿qué precio tiene la entrada?", want: "ticket_prices"}, {say: "¿y para estudiantes?", want: "ticket_prices"}},
	{{say: "¿qué hora es en Nueva York?", want: "oos"}},
	{{say: "ponme una canción", want: "oos"}},
}

// TestVisitorQuestions answers the development set and holds its figure (docs/BENCHMARKS.md).
func TestVisitorQuestions(t *testing.T) {
	e := demoEngine(t)
	if pct := answerVisitors(t, e, visitorQuestions); pct < minVisitorShare {
		t.Errorf("visitor questions answered right: %.1f%%, want at least %.0f%%", pct, minVisitorShare)
	}
	if pct := answerVisitors(t, e, visitorQuestionsLater); pct < minVisitorShareLater {
		t.Errorf("later visitor questions answered right: %.1f%%, want at least %.0f%%", pct, minVisitorShareLater)
	}
	if pct := answerVisitors(t, e, visitorQuestionsThird); pct < minVisitorShareThird {
		t.Errorf("third set of visitor questions answered right: %.1f%%, want at least %.0f%%", pct, minVisitorShareThird)
	}
	// The fourth set (testdata/demo-visitors.tsv, askTSV's form) was written at the start of the
	// tenth session (2026-12-03) by a helper session that read only the demo's content, asked
	// for visitors who set the scene, speak informally and slip: 47 of 90 on that session's
	// first engine, 48 with a question asked first read alone, 54 with the words past a
	// question's first three weighing less in the coverage (nlu.weighed).
	if pct := askTSV(t, e, "the demo's fourth visitor set", "testdata/demo-visitors.tsv"); pct < minVisitorShareFourth {
		t.Errorf("fourth set of visitor questions answered right: %.1f%%, want at least %.1f%%", pct, minVisitorShareFourth)
	}
}

// answerVisitors asks each conversation in a new session and returns the share of turns
// answered right, logging the misses.
func answerVisitors(t *testing.T, e *Engine, set [][]turn) float64 {
	t.Helper()
	total, ok := 0, 0
	unlisted, unlistedOK := 0, 0 // turns not answered word for word (template or example)
	byLang := map[string][2]int{}
	for _, conv := range set {
		session := ""
		for _, tc := range conv {
			r, err := e.Reply(context.Background(), Request{SessionID: session, Text: tc.say, Lang: tc.lang})
			if err != nil {
				t.Fatalf("%q: %v", tc.say, err)
			}
			session = r.SessionID
			got, good := judge(r, tc)
			total++
			listed := r.Via == "template" || r.Via == "example"
			if !listed {
				unlisted++
			}
			c := byLang[r.Lang]
			c[1]++
			if good {
				ok++
				c[0]++
				if !listed {
					unlistedOK++
				}
			} else {
				t.Logf("miss %q: got %s %v (%s, %.2f, via %s); want %s %s", tc.say, got, r.Slots, r.Lang, r.Confidence, r.Via, tc.want, tc.slot)
			}
			byLang[r.Lang] = c
		}
	}
	pct := 100 * float64(ok) / float64(total)
	t.Logf("visitor questions: %d of %d (%.1f%%); by language %v; not listed in the pack: %d of %d (%.1f%%)",
		ok, total, pct, byLang, unlistedOK, unlisted, 100*float64(unlistedOK)/float64(max(unlisted, 1)))
	return pct
}

// judge names what a reply answered ("oos" for the fallback or handoff) and whether it is what
// the turn wants.
func judge(r Reply, tc turn) (got string, good bool) {
	got = answered(r)
	if r.Kind == KindFallback || r.Kind == KindHandoff {
		got = "oos"
	}
	for _, w := range strings.Split(tc.want, "|") {
		good = good || w == got
	}
	if good && tc.slot != "" {
		k, v, _ := strings.Cut(tc.slot, "=")
		good = r.Slots[k] == v
	}
	return got, good
}

// TestVisitorQuestionsWithSlips asks the first question of every conversation of the three
// visitor sets with one typing slip (typo; 5 draws of slips), with the spelling correction
// (package spelling) and without it, beside the same questions as written.
func TestVisitorQuestionsWithSlips(t *testing.T) {
	var firsts []turn
	for _, set := range [][][]turn{visitorQuestions, visitorQuestionsLater, visitorQuestionsThird} {
		for _, conv := range set {
			firsts = append(firsts, conv[0])
		}
	}
	share := func(e *Engine, slips bool) float64 {
		ok, n := 0, 0
		for seed := uint64(1); seed <= 5; seed++ {
			r := rand.New(rand.NewPCG(seed, 2))
			for _, tc := range firsts {
				if slips {
					tc.say = typo(tc.say, r)
				}
				rep, err := e.Reply(context.Background(), Request{Text: tc.say, Lang: tc.lang})
				if err != nil {
					t.Fatal(err)
				}
				n++
				if _, good := judge(rep, tc); good {
					ok++
				}
			}
		}
		return 100 * float64(ok) / float64(n)
	}
	e := demoEngine(t)
	written, corrected := share(e, false), share(e, true)
	for _, lb := range e.Snapshot().langs {
		lb.spell = nil
	}
	uncorrected := share(e, true)
	t.Logf("first questions of the visitor sets (%d, 5 draws of slips): as written %.1f%%, with a slip %.1f%% (without the spelling correction %.1f%%)",
		len(firsts), written, corrected, uncorrected)
	// 2026-12-03: 90.7% as written, 85.8% with a slip, 64.4% uncorrected.
	if corrected < uncorrected+12 || corrected < written-6 {
		t.Errorf("with a slip %.1f%%: want 12 points over %.1f%% and at most 6 under %.1f%%", corrected, uncorrected, written)
	}
}

// minVisitorShare is the floor the development set must keep.
const minVisitorShare = 88.0

// minVisitorShareLater is the floor of the later set.
const minVisitorShareLater = 85.0

// minVisitorShareThird is the floor of the third set (51 of 55 on 2026-12-02).
const minVisitorShareThird = 88.0

// minVisitorShareFourth is the floor of the fourth set (54 of 90; the floor leaves one).
const minVisitorShareFourth = 58.8
