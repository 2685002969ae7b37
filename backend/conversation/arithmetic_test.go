package conversation

import (
	"testing"

	"voicebot/backend/text"
)

// TestSums: a turn that is a sum and nothing else is one; a question with numbers that asks of
// something else is not; a pack whose phrasings do sums answers them itself.
func TestSums(t *testing.T) {
	for _, c := range []struct {
		lang, q string
		sum     bool
	}{
		{"en", "what is 17 times 23?", true},
		{"en", "what's 4+4", true},
		{"en", "what is 7 x 7", true},
		{"en", "what is the square root of 144?", true},
		{"fr", "combien font 12 fois 8 ?", true},
		{"pt", "quanto é 12 vezes 8?", true},
		{"es", "¿cuánto es la raíz cuadrada de 144?", true},
		{"de", "was ist die Wurzel aus 144?", true},
		{"en", "how much is it for 2 adults and 3 children", false},
		{"en", "are you open 9-5 on saturday", false},
		{"en", "is there a bus at 5", false},
		{"en", "what times are you open", false},
		{"es", "dos entradas por 8 euros", false},
	} {
		if got := isSum(c.lang, c.q, text.Tokens(c.q)); got != c.sum {
			t.Errorf("%s %q: sum %v, want %v", c.lang, c.q, got, c.sum)
		}
	}
	demo := demoEngine(t)
	if r, err := demo.Try("what is 17 times 23?", "en"); err != nil || r.Kind != KindFallback {
		t.Errorf("a sum to the demo: %s (%.2f via %s, %v), want the fallback", answered(r), r.Confidence, r.Via, err)
	}
	calc := englishPack(t, `language: en
intents:
  calculator:
    examples: [what is 7 x 7, what is 55 times 300, what is the sum of 3 plus 5, what is 2 + 2, can you help me with a math problem]
    responses: ["Sorry, I only pretend to count."]
  hours:
    examples: [when do you open, what are your opening times, what time do you close]
    responses: ["Nine to five."]
`)
	if r, err := calc.Try("what is 17 times 23?", "en"); err != nil || answered(r) != "calculator" {
		t.Errorf("a sum to a pack that does sums: %s (%.2f via %s, %v), want calculator", answered(r), r.Confidence, r.Via, err)
	}
}
