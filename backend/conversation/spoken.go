package conversation

// Voice turns: the recogniser hears one utterance in several ways (the built-in one: the
// content's expected sentence, and a free reading by its language model), and the engine
// chooses what was said by what the content can answer, or asks again when it cannot tell.

// Spoken is what a recogniser offers for one utterance.
type Spoken struct {
	// Readings are the recogniser's transcripts, the likeliest by sound first; the first is
	// the content's expected sentence when the recogniser has a grammar of them.
	Readings []string
}

// Heard is what the engine took a voice turn to say, as the history and the API show it.
type Heard struct {
	Transcript   string   `json:"transcript"`             // the reading answered (or offered, on a repair)
	Confidence   float64  `json:"confidence"`             // 0..1: how sure the engine is that it heard the question
	Alternatives []string `json:"alternatives,omitempty"` // the other readings
}
