package conversation

import (
	"voicebot/backend/content"
	"voicebot/backend/conversation/retrieval"
	"voicebot/backend/conversation/wordvec"
)

// What an intent answers says what it is about in words its phrasings may not use: the ticket
// desk takes "cards and cash", the car park has "bike racks", the buses that stop outside are
// named. The answers index holds one document per intent and language, its response texts, and
// a question the intent model turns away is searched in it before the fallback: an intent
// whose answer speaks of most of the question answers it.

// answerIndex indexes the response texts of every intent, one document each (ID: the intent's
// name).
func answerIndex(pack *content.Pack, vecFor func(string) *wordvec.Table) *retrieval.Index {
	var docs []retrieval.Document
	for _, lang := range pack.Bot.Languages {
		for _, in := range pack.Intents[lang] {
			d := retrieval.Document{ID: in.Name, Lang: lang}
			for _, r := range in.Responses {
				// {slot} and {bot} say nothing of the topic; one response a line.
				d.Text += varRe.ReplaceAllString(r.Text, " ") + "\n"
			}
			docs = append(docs, d)
		}
	}
	return retrieval.NewIndex(docs, retrieval.Options{PassageWords: 1000, Vectors: vecFor}, nil)
}

// answerMatch is the share of a question an intent's answer must speak of for the answer
// search to answer it.
const answerMatch = 0.6

// answerLead: a question the model turns away goes to the documents first (also when it has
// words no intent uses), and to the answer search when no passage matches, except when an
// intent's answer speaks of it by more than answerLead of its words (idf-weighted) than the
// best passage does (searchAnswers); then that answer. "do you do a family ticket" shares
// "family" and "ticket" with a page on an exhibition (0.55 of the question) and all of itself
// with the ticket prices' answer (1.0). Ties go to the documents, which are the longer answer:
// "what is the river of light exhibition about" matches both the exhibition's page and the
// current exhibitions' answer fully. Of the 306 typed questions of the spoken visitor sets
// (English and Spanish, test and tuning), this one changed; with the answer search winning
// ties (a passage needing more than its match) five more changed, two for the better and three
// for the worse (docs/BENCHMARKS.md).
const answerLead = 0.1

// answerHit is what the answer search found for a question the model turned away.
type answerHit struct {
	in    *content.Intent // nil when no intent's answer speaks of it well enough (answerMatch)
	match float64
	leads bool // its match leads the best passage's by more than answerLead
}

// searchAnswers runs the answer search for a question the model turned away, and compares its
// match with the best passage's (passages under the content's minimum score left out).
func (s *Snapshot) searchAnswers(lb *langBrain, lang, utt string) answerHit {
	in, m, ok := s.answerFor(lb, lang, utt)
	if !ok {
		return answerHit{}
	}
	best := 0.0
	for _, h := range s.index.Search(lang, utt, 5) {
		if h.Score >= s.Pack.Bot.KnowledgeMinScore && carriesAnswer(h) {
			best = max(best, h.Matched)
		}
	}
	return answerHit{in: in, match: m, leads: m-answerLead > best}
}

// answerFor is the intent whose answer speaks of the question: the best ranked of the top 3
// whose match is not of everyday words alone (carriesAnswer), if its match is enough
// (answerMatch).
func (s *Snapshot) answerFor(lb *langBrain, lang, utt string) (*content.Intent, float64, bool) {
	for _, h := range s.answers.Search(lang, utt, 3) {
		if !carriesAnswer(h) {
			continue // everyday words alone: the next answer may share a rarer one
		}
		if h.Matched < answerMatch {
			return nil, 0, false
		}
		in := lb.byName[s.answers.Docs[h.Doc].ID]
		return in, h.Matched, in != nil
	}
	return nil, 0, false
}
