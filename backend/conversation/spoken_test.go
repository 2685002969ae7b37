package conversation

import (
	"context"
	"strings"
	"testing"
	"time"

	vbembed "voicebot/embed"
)

// recordingSessions keeps the turns an engine saves, for the tests that look at them.
type recordingSessions struct {
	*MemorySessions
	turns []*Turn
}

func (r *recordingSessions) Put(ctx context.Context, st *State, t *Turn) error {
	r.turns = append(r.turns, t)
	return r.MemorySessions.Put(ctx, st, t)
}

func spokenEngine(t *testing.T) (*Engine, *recordingSessions) {
	t.Helper()
	rs := &recordingSessions{MemorySessions: NewMemorySessions(100, time.Hour)}
	e := New(rs)
	if err := NewLoader(e, vbembed.DemoContent(), "built-in demo").Reload(); err != nil {
		t.Fatal(err)
	}
	return e, rs
}

// The readings of one utterance are weighed by what the content answers to each: agreeing
// readings are answered, a grammar sentence that fits the speech is answered whatever the free
// readings say, one forced onto the speech gives way to the free readings, readings that agree
// on nothing end in a repair that offers the likeliest, and speech about something the content
// does not hold is never answered with the grammar's nearest sentence.
// The readings are ones the built-in recogniser gave for spoken questions (the tuning set).
func TestSpokenReadingsChosenByMeaning(t *testing.T) {
	e, rs := spokenEngine(t)
	for _, tc := range []struct {
		name      string
		sp        Spoken
		want      string // answered(), or "repair"
		heard     string // the transcript answered or offered ("" = not checked)
		minConf   float64
		offerNone bool
	}{
		{"agreeing readings", Spoken{Expected: "when do you close on fridays", Free: []string{"when do you close on fridays", "when do you shut on fridays", "when do you shop on fridays"}},
			"opening_hours", "when do you close on fridays", 0.8, false},
		{"the grammar forced onto its nearest sentence", Spoken{Expected: "is the museum suitable for children", Free: []string{
			"is the museum suitable for wheelchair users", "is the museum suitable for wheelchair you serve", "is the museum suitable for wheelchair views are", "is the museum suitable for wheelchair you lift"}, Forced: 1},
			"accessibility|repair", "is the museum suitable for wheelchair users", 0.4, false},
		{"readings that agree on nothing", Spoken{Expected: "can i eat in the galleries", Free: []string{
			"can my key galleries", "can i feeling the galleries", "can my tickets in economic light", "can i book a class", "can i call you"}, Forced: 0.8},
			"repair", "", 0, false},
		{"a listed phrasing the free readings missed", Spoken{Expected: "hi mira", Free: []string{"i'm human", "i'm you", "hi human"}, Forced: 0.1},
			"greeting", "hi mira", 0.85, false},
		{"off-topic speech", Spoken{Expected: "what is the wifi password", Free: []string{
			"what is the weather today", "what is the whether today", "what is the weather to day", "what is a weather today"}, Forced: 0.9},
			"repair|fallback", "", 0, false},
		{"nothing answers any reading", Spoken{Expected: "", Free: []string{"play me some jazz", "play me some jars", "plays me some jazz"}},
			"fallback|repair", "", 0, true},
	} {
		r, err := e.Reply(context.Background(), Request{Spoken: &tc.sp, Lang: "en"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := answered(r)
		if !strings.Contains("|"+tc.want+"|", "|"+got+"|") {
			t.Errorf("%s: answered %s (%q, heard %+v), want %s", tc.name, got, r.Text, r.Heard, tc.want)
			continue
		}
		if r.Heard == nil {
			t.Errorf("%s: no Heard on a voice turn", tc.name)
			continue
		}
		if tc.heard != "" && r.Heard.Transcript != tc.heard {
			t.Errorf("%s: heard %q, want %q", tc.name, r.Heard.Transcript, tc.heard)
		}
		if r.Heard.Confidence < tc.minConf || r.Heard.Confidence > 1 {
			t.Errorf("%s: confidence %.2f, want %.2f..1", tc.name, r.Heard.Confidence, tc.minConf)
		}
		if got == KindRepair {
			if r.Offer != "" && !strings.Contains(r.Text, r.Offer) {
				t.Errorf("%s: the repair %q does not say the offer %q", tc.name, r.Text, r.Offer)
			}
			if tc.offerNone && r.Offer != "" {
				t.Errorf("%s: offered %q where nothing answers", tc.name, r.Offer)
			}
		}
		last := rs.turns[len(rs.turns)-1]
		if last.Heard == nil || last.Heard.Transcript != r.Heard.Transcript || last.Reply.Kind != r.Kind {
			t.Errorf("%s: the saved turn has %+v, want the reply's Heard", tc.name, last.Heard)
		}
	}
}

// A repair says the pack's repair_offer with the reading, or its repair line without one, and
// leaves the dialogue as it was: a follow-up after it still follows the question before.
func TestRepairKeepsTheDialogue(t *testing.T) {
	e, _ := spokenEngine(t)
	ctx := context.Background()
	r, err := e.Reply(ctx, Request{Text: "how much is a ticket", Lang: "en"})
	if err != nil || r.Intent != "ticket_prices" {
		t.Fatalf("first turn: %v %+v", err, r)
	}
	rep, err := e.Reply(ctx, Request{SessionID: r.SessionID, Lang: "en", Spoken: &Spoken{Expected: "can i eat in the galleries", Free: []string{
		"can my key galleries", "can i feeling the galleries", "can my tickets in economic light", "can i book a class", "can i call you"}, Forced: 1}})
	if err != nil || rep.Kind != KindRepair {
		t.Fatalf("want a repair: %v %+v", err, rep)
	}
	if rep.Offer != "" && rep.Text != "Sorry, I didn't catch that. Did you ask: "+rep.Offer+"?" {
		t.Errorf("repair with an offer says %q", rep.Text)
	}
	if rep.Offer == "" && rep.Text != "Sorry, I didn't catch that. Could you say it again?" {
		t.Errorf("repair without an offer says %q", rep.Text)
	}
	next, err := e.Reply(ctx, Request{SessionID: r.SessionID, Lang: "en", Spoken: &Spoken{Expected: "what about for seniors", Free: []string{"what about for seniors"}}})
	if err != nil || next.Intent != "ticket_prices" {
		t.Errorf("the follow-up after a repair: %v %s %q, want ticket_prices", err, answered(next), next.Text)
	}
}

// A bare list value that the content holds as a whole sentence (the follow-up template "[what
// about|and] [on] {day}" says "on monday") opens no conversation: heard with no intent in play,
// by the grammar or as a free reading, it supports no answer, and the repair offers it to be
// confirmed with a tap. After a question it is the follow-up it was written for; it fills a form's
// open slot; typed, it is answered as before; a list value that is no sentence of the content
// ("toilets", which only the language model can hear) is answered as typed; a sentence that fills
// no slot ("what is on today") is a question; and a transcription without a turn (Hear, which
// knows no session) takes it as heard.
func TestBareFollowUpOpensNoConversation(t *testing.T) {
	e, _ := spokenEngine(t)
	ctx := context.Background()
	bare := &Spoken{Expected: "on monday", Free: []string{"on monday", "on mondays", "and monday"}}
	r, err := e.Reply(ctx, Request{Lang: "en", Spoken: bare})
	if err != nil || r.Kind != KindRepair || r.Offer != "on monday" {
		t.Fatalf("first words %q: %v %s offering %q, want a repair offering it", bare.Expected, err, answered(r), r.Offer)
	}
	first, err := e.Reply(ctx, Request{Lang: "en", Text: "what are the opening hours"})
	if err != nil || first.Intent != "opening_hours" {
		t.Fatalf("opening hours: %v %s", err, answered(first))
	}
	r, err = e.Reply(ctx, Request{SessionID: first.SessionID, Lang: "en", Spoken: bare})
	if err != nil || r.Intent != "opening_hours" || r.Slots["day"] != "monday" {
		t.Errorf("%q after a question: %v %s %v, want opening_hours day=monday", bare.Expected, err, answered(r), r.Slots)
	}
	form, err := e.Reply(ctx, Request{Lang: "en", Text: "i would like to book a tour"})
	if err != nil || form.Kind != KindPrompt {
		t.Fatalf("a form: %v %s, want a prompt", err, answered(form))
	}
	r, err = e.Reply(ctx, Request{SessionID: form.SessionID, Lang: "en", Spoken: &Spoken{Expected: "on friday", Free: []string{"on friday"}}})
	if err != nil || r.Kind == KindRepair || r.Slots["day"] != "friday" {
		t.Errorf("%q for a form: %v %s %v, want day=friday filled", "on friday", err, answered(r), r.Slots)
	}
	if typed, err := e.Try("on monday", "en"); err != nil || typed.Intent != "opening_hours" {
		t.Errorf("typed %q: %v %s, want opening_hours", "on monday", err, answered(typed))
	}
	typed, err := e.Try("toilets", "en")
	if err != nil || typed.Kind == KindFallback {
		t.Fatalf("typed %q: %v %s, want an answer (the test needs one)", "toilets", err, answered(typed))
	}
	r, err = e.Reply(ctx, Request{Lang: "en", Spoken: &Spoken{Free: []string{"toilets"}}})
	if err != nil || answered(r) != answered(typed) {
		t.Errorf("spoken %q: %v %s, want %s as typed", "toilets", err, answered(r), answered(typed))
	}
	q := &Spoken{Expected: "what is on today", Free: []string{"what is on today"}}
	if r, err := e.Reply(ctx, Request{Lang: "en", Spoken: q}); err != nil || r.Intent != "current_exhibitions" {
		t.Errorf("first words %q: %v %s, want current_exhibitions", q.Expected, err, answered(r))
	}
	h, err := e.Hear(Spoken{Expected: "and on sunday", Free: []string{"and on sunday"}}, "en")
	if err != nil || h.Transcript != "and on sunday" || h.Confidence < 0.9 {
		t.Errorf("transcribing %q: %v %+v, want it heard", "and on sunday", err, h)
	}
}

// An external engine gives one transcript: it is answered as typed text would be.
func TestOneReadingIsAnsweredAsTyped(t *testing.T) {
	e, _ := spokenEngine(t)
	for _, q := range []string{"where can i leave my bag", "what is the wifi password", "how heavy is the lighthouse lens", "what is two plus two"} {
		typed, err := e.Try(q, "en")
		if err != nil {
			t.Fatal(err)
		}
		spoken, err := e.Reply(context.Background(), Request{Spoken: &Spoken{Expected: q, Free: []string{q}}, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if answered(spoken) != answered(typed) {
			t.Errorf("%q: spoken %s, typed %s", q, answered(spoken), answered(typed))
		}
	}
	if _, err := e.Reply(context.Background(), Request{Spoken: &Spoken{}, Lang: "en"}); err != ErrEmpty {
		t.Errorf("no readings: %v, want ErrEmpty", err)
	}
}

// A repair offers the answering intent's own phrasing nearest to what was heard, which the
// visitor recognises, rather than the misheard words; a document's answer offers the reading.
func TestRepairOffersTheContentsPhrasing(t *testing.T) {
	e, _ := spokenEngine(t)
	s := e.snap.Load()
	for _, tc := range []struct{ key, reading, want string }{
		{"intent|accessibility", "can i bring my guide includes light", "can I bring my guide dog"},
		{"intent|accessibility", "xyzzy plugh", "xyzzy plugh"},
		{"doc|knowledge/en/visitor-rules.md", "is smoke king allowed", "is smoke king allowed"},
	} {
		if got := s.offerFor("en", tc.key, tc.reading); got != tc.want {
			t.Errorf("offer for %q (%s): %q, want %q", tc.reading, tc.key, got, tc.want)
		}
		typed, err := e.Try(s.offerFor("en", tc.key, tc.reading), "en")
		if err == nil && tc.key == "intent|accessibility" && tc.reading != "xyzzy plugh" && typed.Intent != "accessibility" {
			t.Errorf("the offer %q is answered by %s", tc.want, answered(typed))
		}
	}
}
