package conversation

import (
	"reflect"
	"testing"
)

// TestCandidates: the intents the model weighs for an utterance, the one it answers with first
// and then the likeliest, never "oos".
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
	// A typing slip is put right before the model reads the question, as a turn does: the
	// candidates are those of the question answered.
	right, err := e.Candidates("where can I leave my car", "en", 3)
	if err != nil || len(right) == 0 {
		t.Fatalf("candidates %+v, %v", right, err)
	}
	slip, err := e.Candidates("where can I laeve my car", "en", 3)
	if err != nil || !reflect.DeepEqual(right, slip) || right[0].Intent != "parking" {
		t.Errorf("with a slip %+v, written right %+v", slip, right)
	}

	// The intent the model answers with comes first, also when it is not the likeliest: for
	// "how do i get a parking permit", membership is likelier (its phrasings all open "how do
	// i get"), but parking's phrasings say the question's subject, so the model answers with
	// parking.
	e = englishPack(t, `language: en
intents:
  tickets:
    examples: [ticket prices, what does entry cost, price for children]
    responses: [ten euros]
  parking:
    examples: [where can I park, is there a car park, parking near the museum, can I leave my car, how much is parking, bike racks]
    responses: [behind the museum]
  membership:
    examples: [how do i get a membership card, how do i renew my membership, how do i join as a member, how do i become a member, how do i cancel my membership, how do i upgrade my membership, how do i sign up, how do i register, how do i get a pass, how do i buy a gift membership]
    responses: [at the desk]
  hours:
    examples: [when do you open, what are the opening hours, are you open on sunday, what time do you close, opening times today, how late are you open]
    responses: [nine to five]
`)
	c, err = e.Candidates("how do i get a parking permit", "en", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 3 || c[0].Intent != "parking" || c[1].Intent != "membership" {
		t.Fatalf("candidates %+v, want parking first, then membership", c)
	}
	if c[1].Probability <= c[0].Probability {
		t.Fatalf("candidates %+v: parking is also the likeliest, the case no longer tests the order", c)
	}
}
