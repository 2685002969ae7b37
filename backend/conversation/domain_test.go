package conversation

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestHotelPack answers the visitor questions of a second development pack, in another domain:
// the lobby kiosk of a hotel (testdata/hotel), English and Spanish, 18 intents of 5 to 8
// examples, templates for two of them, 7 documents. Pack and questions were written by a helper
// session that neither ran the engine nor read its code (2026-12-03), so that the engine is
// measured on content it was not shaped on, as the demo's visitor sets can no longer be.
// questions.tsv: lang, question, want (an intent, doc:path, or oos; alternatives separated by
// "|"), and the earlier question a follow-up is asked after. Two wants were widened after the
// first run, where the answer given was right by the content: gym_pool's response says where
// the pool and the gym are, so it answers "which way is the swimming pool?" and "and the gym?".
func TestHotelPack(t *testing.T) {
	if pct := askPack(t, "hotel"); pct < minHotelShare {
		t.Errorf("hotel pack answered right: %.1f%%, want at least %.1f%%", pct, minHotelShare)
	}
}

// TestLibraryPack answers the visitor questions of a third development pack: the kiosk of a
// public library (testdata/library), English, French and German, 19 intents of 5 to 8
// examples, 10 documents, 98 questions. Written the same way as the hotel's (2026-12-03, by a
// helper session that neither ran the engine nor read its code), asked to paraphrase freely,
// set scenes and speak informally, and it was measured once as written, before any change to
// the engine: French and German have stems and stop words but no word vectors, and this is
// the first pack that measures them.
func TestLibraryPack(t *testing.T) {
	if pct := askPack(t, "library"); pct < minLibraryShare {
		t.Errorf("library pack answered right: %.1f%%, want at least %.1f%%", pct, minLibraryShare)
	}
}

// TestSportsPack answers the visitor questions of a fourth development pack: the reception kiosk
// of a sports centre (testdata/sports), English, Italian and (European) Portuguese, 20 intents
// of 5 to 8 examples, 10 documents, 97 questions, written the same way as the library's
// (2026-12-03, ninth session); the first to measure Italian and Portuguese.
func TestSportsPack(t *testing.T) {
	if pct := askPack(t, "sports"); pct < minSportsShare {
		t.Errorf("sports pack answered right: %.1f%%, want at least %.1f%%", pct, minSportsShare)
	}
}

// TestTourismPack answers the visitor questions of a fifth development pack: a small town's
// tourist information kiosk (testdata/tourism), English, Spanish and German, 19 intents of 5 to
// 8 examples, 10 documents, 89 questions, written the same way at the end of the ninth session
// (2026-12-03), after every change of that session: it gave 70 of 89 both on that session's
// first engine and on its last, a held-out measure of the session's rules (none moved it).
func TestTourismPack(t *testing.T) {
	if pct := askPack(t, "tourism"); pct < minTourismShare {
		t.Errorf("tourism pack answered right: %.1f%%, want at least %.1f%%", pct, minTourismShare)
	}
}

// minTourismShare is the floor of the tourism pack (70 of 89 on its first run; 71 with a
// visitor's numbers left out of the coverage, 74 with the words past a question's first three
// weighing less in it, nlu.weighed; the floor leaves one question).
const minTourismShare = 82.0

// TestTownhallPack answers the visitor questions of a sixth development pack: the kiosk of a
// small town's town hall (testdata/townhall), English, Spanish and Dutch, 20 intents of 5 to 8
// examples, 10 documents, 95 questions, written the same way at the start of the tenth session
// (2026-12-03), the first to measure Dutch. It gave 69 of 95 on that session's first engine
// (5747c2d), 70 with its first change and 71 with the words past a question's first three
// weighing less in the coverage (nlu.weighed), which was chosen on the other packs before this
// one was run with it.
func TestTownhallPack(t *testing.T) {
	if pct := askPack(t, "townhall"); pct < minTownhallShare {
		t.Errorf("town hall pack answered right: %.1f%%, want at least %.1f%%", pct, minTownhallShare)
	}
}

// minTownhallShare is the floor of the town hall pack (71 of 95; the floor leaves one question).
const minTownhallShare = 73.6

// minSportsShare is the floor of the sports pack (67 of 97 on 2026-12-03, its first run; 68
// with a question alone of one meaningful word answering only with the intent the whole leans
// to; 69 with the assistant's name left out where a visitor calls it by name; 71 with sums
// turned away; 72 with the words past a question's first three weighing less in the coverage,
// nlu.weighed; the floor leaves one question).
const minSportsShare = 73.1

// minLibraryShare is the floor of the library pack (54 of 98 on 2026-12-03, its first run; 53
// with French elisions split off, text.elided; 56 with the question alone answered when the
// whole turn is turned away, clauseAlone; the floor leaves one question).
const minLibraryShare = 56.0

// askPack asks a development pack's questions (testdata/DIR/questions.tsv: lang, question,
// want, and the earlier question a follow-up is asked after) in the sessions they belong to,
// logs the misses and the share answered right by kind, and returns that share in percent.
func askPack(t *testing.T, dir string) float64 {
	t.Helper()
	e := New(NewMemorySessions(1000, time.Hour))
	if err := NewLoader(e, os.DirFS("testdata/"+dir), "dev").Reload(); err != nil {
		t.Fatal(err)
	}
	return askTSV(t, e, dir+" pack", "testdata/"+dir+"/questions.tsv")
}

// askTSV asks the questions of a file in askPack's form of an engine, as askPack does.
func askTSV(t *testing.T, e *Engine, name, path string) float64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sessions := map[string]string{} // question -> the session it was asked in
	ok, n := 0, 0
	byKind := map[string][2]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		f := append(strings.Split(line, "\t"), "", "", "")
		lang, q, want, after := f[0], f[1], f[2], f[3]
		r, err := e.Reply(context.Background(), Request{SessionID: sessions[after], Text: q, Lang: lang})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		sessions[q] = r.SessionID
		got, good := judge(r, turn{want: want})
		kind := lang + " " + map[bool]string{true: "intent", false: "document"}[!strings.HasPrefix(want, "doc:")]
		switch {
		case want == "oos":
			kind = "off-topic"
		case after != "":
			kind = "follow-up"
		}
		c := byKind[kind]
		c[1]++
		n++
		if good {
			ok++
			c[0]++
		} else {
			t.Logf("miss [%s] %q: got %s (%.2f via %s), want %s", lang, q, got, r.Confidence, r.Via, want)
		}
		byKind[kind] = c
	}
	pct := 100 * float64(ok) / float64(n)
	t.Logf("%s: %d of %d (%.1f%%) answered right; by kind %v", name, ok, n, pct, byKind)
	return pct
}

// minHotelShare is the floor of the hotel pack (50 of 70 on 2026-12-03, its first run; 52 with
// the question read alone after a clause that sets the scene; 53 with anaphoric follow-ups, 54
// after review; 55 with every word's weight in a passage's share bounded by its commonness; 56
// with Snowball's accented Spanish stop words recognised once folded; 57 with sums turned away,
// arithmetic.go; the floor leaves one).
const minHotelShare = 79.9

// TestSceneSettingClause: a question after a clause that sets the scene is answered by the
// document the question alone names; a document that the question alone matches only in part
// does not take a question the intents answer, nor one that the question alone says too little
// of; an intent answers the question alone when the whole turn is turned away, and a question
// alone of one meaningful word only with the intent the whole leans to.
func TestSceneSettingClause(t *testing.T) {
	e := New(NewMemorySessions(10, time.Hour))
	if err := NewLoader(e, os.DirFS("testdata/hotel"), "dev").Reload(); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"my father uses a wheelchair, is there a ramp at the entrance?": "doc:knowledge/en/accessibility.md",
		"I have a meeting at 10, where's the conference room?":          "where_is",
		"I spilled wine on my trousers, can someone clean them?":        "laundry",
		"my fahter uses a wheelchiar, is there a ramp at the entrnace?": "doc:knowledge/en/accessibility.md", // slips too
	} {
		r, err := e.Reply(context.Background(), Request{Text: q, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if got := answered(r); got != want {
			t.Errorf("%q: got %s (%.2f via %s), want %s", q, got, r.Confidence, r.Via, want)
		}
	}
	// The whole turn is turned away and the question alone is answered (clauseAlone).
	library := New(NewMemorySessions(10, time.Hour))
	if err := NewLoader(library, os.DirFS("testdata/library"), "dev").Reload(); err != nil {
		t.Fatal(err)
	}
	// ("there are four of us doing a school project, can we get a room together?" was the case
	// until the coverage weighed a question's words past the first three less, nlu.weighed:
	// the model now answers the whole.)
	q := "Entschuldigung, wo ist hier das Klo?"
	if p := library.Snapshot().langs["de"].model.Predict(q); p.Label != "oos" {
		t.Fatalf("%q: the model answers the whole (%s %.2f); the case no longer tests the question alone", q, p.Label, p.Confidence)
	}
	if p := library.Snapshot().langs["de"].model.Predict(questionClause(q)); p.Confidence >= doubtfulIntent || p.Confidence < clauseAlone {
		t.Fatalf("%q: the question alone is %s %.2f; the case no longer tests clauseAlone", q, p.Label, p.Confidence)
	}
	if r, err := library.Reply(context.Background(), Request{Text: q, Lang: "de"}); err != nil || answered(r) != "where_is" {
		t.Errorf("%q: got %s (%.2f via %s, %v), want where_is", q, answered(r), r.Confidence, r.Via, err)
	}
	// A question alone of one meaningful word answers only with the intent the whole leans to:
	// "como marcamos?" ("how do we book?") is a personal trainer's phrasing, but the padel
	// court is what the whole asks of; "le avete trovate?" ("have you found them?") went to the
	// address.
	sports := New(NewMemorySessions(10, time.Hour))
	if err := NewLoader(sports, os.DirFS("testdata/sports"), "dev").Reload(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, q, want string }{
		{"pt", "queremos jogar padel amanhã à tarde, como marcamos?", "fallback"},                                // not the personal trainer
		{"it", "ieri ho lasciato le chiavi della macchina negli spogliatoi, le avete trovate?", "lost_property"}, // not the address
	} {
		if r, err := sports.Reply(context.Background(), Request{Text: c.q, Lang: c.lang}); err != nil || answered(r) != c.want {
			t.Errorf("%q: got %s (%.2f via %s, %v), want %s", c.q, answered(r), r.Confidence, r.Via, err, c.want)
		}
	}
	// A question alone with one meaningful word is not searched alone: "would you take them"
	// is all in the archive page, which says "take".
	q = "I've got a couple of bags of old paperbacks, would you take them?"
	if r, err := library.Reply(context.Background(), Request{Text: q, Lang: "en"}); err != nil || answered(r) == "doc:knowledge/en/local-history-archive.md" {
		t.Errorf("%q: got %s (%.2f via %s, %v), want anything but the archive page", q, answered(r), r.Confidence, r.Via, err)
	}
}

// TestAnaphoricFollowUp: a short question that points back with a pronoun and asks nothing of
// its own, or only what the last answer says, is read against the last intent; one that asks
// of another intent is not.
func TestAnaphoricFollowUp(t *testing.T) {
	hotel := New(NewMemorySessions(10, time.Hour))
	if err := NewLoader(hotel, os.DirFS("testdata/hotel"), "dev").Reload(); err != nil {
		t.Fatal(err)
	}
	library := New(NewMemorySessions(10, time.Hour))
	if err := NewLoader(library, os.DirFS("testdata/library"), "dev").Reload(); err != nil {
		t.Fatal(err)
	}
	demo := demoEngine(t)
	for _, c := range []struct {
		e                 *Engine
		lang, first, then string
		want              string // the intent, or "!" and an intent it must not be
	}{
		{hotel, "en", "could we keep the room past eleven on our last day?", "how much would that be?", "late_checkout"},
		{demo, "en", "how much is a ticket", "how much is it for children?", "ticket_prices"},
		{demo, "en", "how much is a ticket", "is it open today?", "opening_hours"},
		{demo, "en", "where is the cafe", "what time does it close on sunday", "opening_hours"},
		// what the last answer says, asked of with a pronoun: "Study rooms ... are free"; a
		// page that says "free" does not take it (pointsBack)
		{library, "en", "can I book a study room?", "is it free?", "study_rooms"},
		// pronouns of other languages: "das", "c'" (ce)
		{library, "de", "wie reserviere ich ein Buch?", "was kostet das?", "reservations"},
		{library, "fr", "comment réserver un livre ?", "c'est gratuit ?", "reservations"},
		// an opening of four tokens ("qu'en est-il", text.elided) and "les", a stop word
		{library, "fr", "comment avoir une carte de lecteur ?", "qu'en est-il pour les enfants ?", "library_card"},
		// the last answer says "l'accueil", but the model is sure the question asks elsewhere
		{library, "fr", "comment réserver un livre ?", "c'est où l'accueil ?", "!reservations"},
	} {
		r, err := c.e.Reply(context.Background(), Request{Text: c.first, Lang: c.lang})
		if err != nil {
			t.Fatal(err)
		}
		r, err = c.e.Reply(context.Background(), Request{SessionID: r.SessionID, Text: c.then, Lang: c.lang})
		if err != nil {
			t.Fatal(err)
		}
		got := answered(r)
		if not, ok := strings.CutPrefix(c.want, "!"); ok {
			if got == not {
				t.Errorf("%q then %q: got %s (via %s), want anything else", c.first, c.then, got, r.Via)
			}
		} else if got != c.want || (c.e == library && r.Via != "followup") {
			t.Errorf("%q then %q: got %s (via %s), want %s (via followup for the library's)", c.first, c.then, got, r.Via, c.want)
		}
	}
}
