package conversation

import (
	"testing"
)

// TestCandidates: the intents the model weighs for an utterance, likeliest first, never "oos".
func TestCandidates(t *testing.T) {
	e := englishPack(t, `language: en
intents:
  hours:
    examples: [when do you open, what are your opening hours, what time do you close, are you open on sunday]
    responses: [nine to five]
  tickets:
    examples: [how much is a ticket, ticket prices, what does entry cost, is there a student discount]
    responses: [ten euros]
  parking:
    examples: [where can I park, is there a car park, parking near the museum, can I leave my car]
    responses: [behind the museum]
out_of_scope: [what is the capital of France, tell me a joke]
`)
	c, err := e.Candidates("how much does a ticket cost", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 3 || c[0].Intent != "tickets" || c[0].Probability < c[1].Probability || c[1].Probability < c[2].Probability {
		t.Fatalf("candidates %+v", c)
	}
	for _, x := range c {
		if x.Intent == "oos" {
			t.Errorf("oos offered: %+v", c)
		}
	}
	if c, _ := e.Candidates("parking", "en", 1); len(c) != 1 || c[0].Intent != "parking" {
		t.Errorf("n=1: %+v", c)
	}
	if _, err := e.Candidates("hello", "fr", 3); err == nil {
		t.Error("a language the pack lacks: no error")
	}
}
