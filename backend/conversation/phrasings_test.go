package conversation

import (
	"context"
	"strings"
	"testing"

	"voicebot/backend/text"
)

// TestDemoAnswersItsOwnPhrasings asks every example of every demo intent, and a sample of each
// template's expansions, in both languages, as the first turn of a new session: each must be
// answered by its own intent (a form's first question or a confirmation count as that intent).
// A sentence that two intents' templates both say ("is there a shop": where_is and gift_shop)
// belongs to neither alone; `voicebot content check` reports those.
func TestDemoAnswersItsOwnPhrasings(t *testing.T) {
	e := demoEngine(t)
	s := e.Snapshot()
	for _, lang := range s.Languages() {
		lb := s.langs[lang]
		total, wrong := 0, 0
		owners := map[string]map[string]bool{}
		phrasings := map[string][]string{}
		for i, in := range lb.intents {
			phr := append([]string(nil), in.Examples...)
			for k, tp := range in.Templates {
				phr = append(phr, tp.Expand(lb.lists, 8, uint64(i*131+k))...)
				// every expansion, to find sentences shared with another intent
				for _, x := range tp.Expand(lb.lists, 100000, 1) {
					f := text.Fold(x)
					if owners[f] == nil {
						owners[f] = map[string]bool{}
					}
					owners[f][in.Name] = true
				}
			}
			phrasings[in.Name] = phr
		}
		for _, in := range lb.intents {
			for _, p := range phrasings[in.Name] {
				if o := owners[text.Fold(p)]; len(o) > 1 {
					t.Logf("%s %q is said by %d intents' templates", lang, p, len(o))
					continue
				}
				total++
				r, err := e.Try(p, lang)
				if err != nil {
					t.Fatalf("%s %q: %v", lang, p, err)
				}
				if r.Intent != in.Name {
					wrong++
					t.Errorf("%s %q (%s): answered %s %s (%.2f, via %s)", lang, p, in.Name, r.Kind, r.Intent, r.Confidence, r.Via)
				}
			}
		}
		t.Logf("%s: %d of %d phrasings answered by their own intent", lang, total-wrong, total)
		if total < 400 {
			t.Errorf("%s: only %d phrasings asked", lang, total)
		}
	}
}

// TestDemoContentCheck: `voicebot content check` on the demo finds every phrasing answered by
// its intent (sentences two intents' templates both say are reported as duplicates, not as
// mistakes) and no out_of_scope phrasing answered.
func TestDemoContentCheck(t *testing.T) {
	rep, err := demoEngine(t).Check(CheckTemplateSample)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Right != rep.Phrasings || rep.Phrasings < 1000 {
		t.Errorf("demo: %d of %d phrasings right; wrong %+v", rep.Right, rep.Phrasings, rep.Wrong)
	}
}

// TestContractionsMeetTemplates: "where's the gents" is where_is's template "where (is|are) the
// {place}" with the contraction spelled out, also after a follow-up's opening.
func TestContractionsMeetTemplates(t *testing.T) {
	e := demoEngine(t)
	for _, q := range []string{"where's the gents", "and where's the cloakroom"} {
		r, err := e.Try(q, "en")
		if err != nil {
			t.Fatal(err)
		}
		if r.Intent != "where_is" || r.Via != "template" {
			t.Errorf("%q: %s via %s", q, r.Intent, r.Via)
		}
	}
	if got := text.SpelledOut("en", []string{"where", "is"}); got != nil {
		t.Errorf("nothing to spell out: %v", got)
	}
	if got := strings.Join(text.SpelledOut("en", []string{"im", "lost", "whats", "this"}), " "); got != "i am lost what is this" {
		t.Errorf("spelled out: %q", got)
	}
}

// TestEllipticalFollowUps: "what about for seniors?" after a ticket question is the ticket
// intent again, and so is "and for children?", which the model alone is sure is the families'
// intent (the ticket intent's phrasings say "children"); "what about the capital of France?"
// after it is not a follow-up at all, nor is "and for children?" after the opening hours.
func TestEllipticalFollowUps(t *testing.T) {
	e := demoEngine(t)
	for _, tc := range []struct{ first, then, want string }{
		{"how much is a ticket", "what about for seniors?", "ticket_prices"},
		{"¿cuánto cuesta la entrada?", "¿y para jubilados?", "ticket_prices"},
		{"how much is a ticket", "what about the capital of France?", ""},
		{"how much is a ticket", "and for children?", "ticket_prices"},
		{"when do you open", "and for children?", "kids_families"},
	} {
		r, err := e.Reply(context.Background(), Request{Text: tc.first})
		if err != nil {
			t.Fatal(err)
		}
		r, err = e.Reply(context.Background(), Request{SessionID: r.SessionID, Text: tc.then})
		if err != nil {
			t.Fatal(err)
		}
		if r.Intent != tc.want || (tc.want == "" && r.Kind == KindIntent) {
			t.Errorf("%q after %q: %s %s via %s", tc.then, tc.first, r.Kind, r.Intent, r.Via)
		}
	}
}
