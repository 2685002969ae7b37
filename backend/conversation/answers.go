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

// answerFor is the intent whose answer speaks of the question, if the best one does well enough.
func (s *Snapshot) answerFor(lb *langBrain, lang, utt string) (*content.Intent, float64, bool) {
	hits := s.answers.Search(lang, utt, 1)
	if len(hits) == 0 || hits[0].Matched < answerMatch {
		return nil, 0, false
	}
	in := lb.byName[s.answers.Docs[hits[0].Doc].ID]
	return in, hits[0].Matched, in != nil
}
