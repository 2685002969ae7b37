package conversation

import (
	"sort"
	"strings"

	"voicebot/backend/content"
	"voicebot/backend/conversation/nlu"
	"voicebot/backend/text"
)

// Taught is the outcome of teaching the content one phrasing: what was written where, the
// content version then in service, and how that version answers the phrasing as a first turn.
type Taught struct {
	content.Edit
	Version uint64 `json:"content_version"`
	Reply   *Reply `json:"reply,omitempty"`
}

// Candidate is an intent the model considered for an utterance, with its probability.
type Candidate struct {
	Intent      string  `json:"intent"`
	Probability float64 `json:"probability"`
}

// Candidates returns the n intents the language's intent model finds likeliest for a question
// (lang "" detects it), the one the model answers with first and then the likeliest, whatever
// the threshold: what the teach loop offers an operator for a question the bot did not answer.
// The question's typing slips are put right first, as a turn does ("how much are tikets"), so
// the candidates are those of the words the engine read; the whole question is scored (a turn
// also reads the question after a scene-setting clause alone, questionClause). A language with
// one intent has that one; with none, no candidates.
func (e *Engine) Candidates(question, lang string, n int) ([]Candidate, error) {
	utt, lang, s, err := e.check(question, lang)
	if err != nil {
		return nil, err
	}
	if lang == "" {
		lang = s.detect(utt, "")
	}
	lb := s.langs[lang]
	switch {
	case lb == nil || n <= 0:
		return nil, nil
	case lb.model == nil && lb.single != nil:
		return []Candidate{{Intent: lb.single.Name, Probability: 1}}, nil
	case lb.model == nil:
		return nil, nil
	}
	if fixed, _ := lb.spell.Correct(text.Tokens(utt)); fixed != nil {
		utt = strings.Join(fixed, " ")
	}
	labels := lb.model.Labels()
	p, chosen := lb.model.Probabilities(utt)
	out := make([]Candidate, 0, len(labels))
	for i, l := range labels {
		if l != nlu.OOS && i < len(p) {
			out = append(out, Candidate{Intent: l, Probability: round3(p[i])})
		}
	}
	// The intent the model answers with comes first: the n-gram models' probabilities (listed
	// here) joined with the sentence view's and weighed by coverage choose it (nlu.choose), so
	// it is not always the likeliest of this list.
	sort.SliceStable(out, func(i, j int) bool {
		if ci, cj := out[i].Intent == chosen, out[j].Intent == chosen; ci != cj {
			return ci
		}
		return out[i].Probability > out[j].Probability
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}
