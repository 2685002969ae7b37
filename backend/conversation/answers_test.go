package conversation

import (
	"testing"
)

// TestAnswersSpeakForTheirIntent: a question none of an intent's phrasings resemble, but its
// answer speaks of, is answered by that intent through the answer search; a question no answer
// speaks of, or one like what the content marks as not for this assistant, is not.
func TestAnswersSpeakForTheirIntent(t *testing.T) {
	e := englishPack(t, `language: en
intents:
  hours:
    examples: [when do you open, what are your opening hours, what time do you close, are you open on sunday]
    responses: ["We open at nine and close at five, every day but Monday."]
  tickets:
    examples: [how much is a ticket, ticket prices, what does entry cost, is there a student discount]
    responses: ["A ticket is ten euros. The desk takes credit cards and cash."]
  parking:
    examples: [where can I park, is there a car park, parking near the museum, can I leave my car]
    responses: ["The car park is behind the museum", "Bicycle racks are by the main door."] # each response its own line: "museum" and "Bicycle" stay apart
out_of_scope: [five a day of fruit and vegetables]
`)
	for _, tc := range []struct{ say, want, via string }{
		{"do you take credit cards", "tickets", "answer"},
		{"bicycle racks", "parking", "answer"},
		{"credit cards and cash", "tickets", "answer"}, // the out-of-scope class wins, but it is nothing like it
		{"what is two plus two", "fallback", ""},
		{"five a day", "fallback", ""}, // marked not for this assistant
	} {
		r, err := e.Try(tc.say, "en")
		if err != nil {
			t.Fatal(err)
		}
		if answered(r) != tc.want || (tc.via != "" && r.Via != tc.via) {
			t.Errorf("%q: %s via %s (%.2f), want %s via %s", tc.say, answered(r), r.Via, r.Confidence, tc.want, tc.via)
		}
	}
}
