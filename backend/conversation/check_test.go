package conversation

import (
	"testing"
)

// TestCheck: a phrasing a template of another intent takes is reported wrong, with the confused
// pair; a phrasing listed twice, and one under two intents, are duplicates; the rest is right.
func TestCheck(t *testing.T) {
	e := englishPack(t, `language: en
lists:
  day: [monday, sunday]
intents:
  hours:
    templates: ["are you open on {day}"]
    examples: [when do you open, what are your opening hours, what time do you close, when do you open, how much is a ticket]
    responses: [nine to five]
  tickets:
    templates: ["how much is a ticket"]
    examples: [ticket prices, what does entry cost, is there a student discount, what time do you close]
    responses: [ten euros]
  parking:
    examples: [where can I park, is there a car park, parking near the museum, can I leave my car]
    responses: [behind the museum]
`)
	rep, err := e.Check(CheckTemplateSample)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Phrasings < 15 || rep.Right+len(rep.Wrong) != rep.Phrasings {
		t.Fatalf("report: %d phrasings, %d right, %d wrong", rep.Phrasings, rep.Right, len(rep.Wrong))
	}
	var ticket bool
	for _, w := range rep.Wrong {
		if w.Text == "how much is a ticket" && w.Intent == "hours" && w.Got == "tickets" && w.Source == "example" && w.File == "intents/en.yaml" && w.Line == 5 {
			ticket = true
		}
	}
	if !ticket {
		t.Errorf("the example a template of another intent takes is not reported: %+v", rep.Wrong)
	}
	var pair bool
	for _, c := range rep.Confusions {
		if c.Want == "hours" && c.Got == "tickets" && c.N >= 1 {
			pair = true
		}
	}
	if !pair {
		t.Errorf("confusions %+v", rep.Confusions)
	}
	dups := map[string][]string{}
	for _, d := range rep.Duplicates {
		dups[d.Text] = d.Intents
	}
	if got := dups["when do you open"]; len(got) != 2 || got[0] != "hours" || got[1] != "hours" {
		t.Errorf("listed twice: %v", dups)
	}
	if got := dups["what time do you close"]; len(got) != 2 || got[0] != "hours" || got[1] != "tickets" {
		t.Errorf("under two intents: %v", dups)
	}
	if _, ok := dups["how much is a ticket"]; !ok {
		t.Errorf("an example another intent's template says: %v", dups)
	}
	if len(rep.PerLang) != 1 || rep.PerLang[0].Phrasings != rep.Phrasings {
		t.Errorf("per language %+v", rep.PerLang)
	}
}
