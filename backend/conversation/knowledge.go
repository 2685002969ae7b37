package conversation

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"voicebot/backend/conversation/retrieval"
	"voicebot/backend/text"
)

// knowledge answers from the documents: the best passage that contains enough of the question's
// words, trimmed to the sentences that answer it, citing the document. Answers to questions that
// stand alone are cached for the life of the snapshot.
func (s *Snapshot) knowledge(ctx context.Context, st *State, lang, utt string, minMatch float64) (r Reply, ok bool) {
	_, sp := tracer(ctx).Start(ctx, "conversation.knowledge")
	defer func() {
		sp.SetAttributes(attribute.Bool("voicebot.answered", ok))
		sp.End()
	}()
	key := lang + "\x00" + text.Fold(utt)
	if r, ok := s.cache.Get(key); ok && r.Confidence >= minMatch {
		r.Via = "cache"
		s.noteDoc(st, r)
		return r, true
	}
	bot := &s.Pack.Bot
	hits := s.index.Search(lang, utt, 5)
	for _, h := range hits {
		if h.Matched >= minMatch && h.Score >= bot.KnowledgeMinScore && carriesAnswer(h) {
			r := s.knowledgeReply(h, utt, lang)
			s.cache.Add(key, r)
			s.noteDoc(st, r)
			return r, true
		}
	}
	// A question about the document in play ("when was it built?") may not name it: search
	// again with its title, and accept only that document.
	if doc, ok := s.docByPath(st.Topic); ok {
		for _, h := range s.index.Search(lang, s.index.Docs[doc].Title+" "+utt, 5) {
			// No everyday-words check here: every passage has its document's title words,
			// so the search's rarest word is the title's, and the question is known to be
			// about that document.
			if h.Doc == doc && h.Score >= bot.KnowledgeMinScore && h.Matched >= minMatch {
				r := s.knowledgeReply(h, utt, lang)
				r.Via = "followup"
				s.noteDoc(st, r)
				return r, true
			}
		}
	}
	return Reply{}, false
}

// knowledgeOf answers from the documents the whole question, or else the question alone when
// a clause sets the scene before it (questionClause; "" when none).
func (s *Snapshot) knowledgeOf(ctx context.Context, st *State, lang, utt, clause string, minMatch float64) (Reply, bool) {
	if r, ok := s.knowledge(ctx, st, lang, utt, minMatch); ok || clause == "" || len(contentWords(lang, text.Tokens(clause))) < 2 {
		return r, ok
	}
	// A passage must have every meaningful word of the question alone: a clause of a few
	// words is matched in part by almost any page ("can someone clean them" by the house rules'
	// "clean"). And it must have two: a page that says "take" had all of "would you take them",
	// after "I've got a couple of bags of old paperbacks" (the library pack's archive page, for
	// a question its donations page answers).
	return s.knowledge(ctx, st, lang, clause, 1-1e-9)
}

// questionClause is the question of a typed turn that sets the scene first, in a clause or a
// sentence of its own ("my father uses a wheelchair, is there a ramp at the entrance?", "we
// just landed. can we check in now?"): the last clause, after a comma, semicolon, colon or
// sentence end, when the turn has several and it has at least two words; "" otherwise. Visitors
// say why they ask, and the why's words ("father", "uses") are not in the document that
// answers: the whole question matched 35% of the accessibility page, the question alone all
// of it. A question asked first, with a sentence after it that says why ("is there anywhere to
// grab a bite? my daughter is coeliac", "¿hay wifi? me he quedado sin datos"), is the clause
// that ends with the question mark when the turn does not end with one. Spoken turns have no
// punctuation, and keep their one reading.
func questionClause(utt string) string {
	trimmed := strings.TrimRight(strings.TrimSpace(utt), "?!.¿¡ ")
	if end := strings.LastIndex(trimmed, "? "); end > 0 && !strings.HasSuffix(strings.TrimSpace(utt), "?") {
		trimmed = strings.TrimRight(trimmed[:end], "?!.¿¡ ")
		if q := questionClause(trimmed + "?"); q != "" {
			return q
		}
		if q := strings.TrimLeft(trimmed, "¿¡ "); len(text.Tokens(q)) >= 2 {
			return q
		}
		return ""
	}
	// A mark followed by a space ends a clause; one inside a token does not ("10:30",
	// "12.50", "info@hotel.com").
	cut := -1
	for i := 0; i+1 < len(trimmed); i++ {
		if strings.IndexByte(",;:.?!", trimmed[i]) >= 0 && trimmed[i+1] == ' ' {
			cut = i
		}
	}
	if cut < 0 {
		return ""
	}
	clause := strings.TrimSpace(trimmed[cut+1:])
	if len(text.Tokens(clause)) < 2 || len(text.Tokens(trimmed[:cut])) == 0 {
		return ""
	}
	return clause
}

// everydayWords: a passage that matches part of a question answers it only when one of the
// words it shares with the question is rarer than the language's everydayWords commonest.
const everydayWords = 2000

// carriesAnswer tells whether a passage's match can carry an answer: it has all of the
// question's meaningful words, or shares at least one word with it that is not an everyday
// word. A language without word vectors (Spanish) has no ranks: every word passes.
func carriesAnswer(h retrieval.Hit) bool {
	return h.Matched >= 1-1e-9 || h.Rarest >= everydayWords
}

func (s *Snapshot) noteDoc(st *State, r Reply) {
	st.Misses, st.LastIntent, st.Slots, st.Pending = 0, "", nil, nil
	if len(r.Sources) > 0 {
		st.Topic = r.Sources[0].Path
	}
}

func (s *Snapshot) docByPath(p string) (int, bool) {
	if p == "" {
		return 0, false
	}
	for i, d := range s.index.Docs {
		if d.ID == p {
			return i, true
		}
	}
	return 0, false
}

func (s *Snapshot) knowledgeReply(h retrieval.Hit, utt, lang string) Reply {
	doc := s.index.Docs[h.Doc]
	return Reply{
		Kind:       KindKnowledge,
		Text:       Trim(s.index.Passages[h.Passage].Text, utt, doc.Title, lang, 60),
		Confidence: round3(h.Matched),
		Sources:    []Source{{Title: doc.Title, Path: doc.ID}},
		Via:        "knowledge",
	}
}

// Trim keeps the sentences of a passage that answer the question: the sentence sharing the most
// of the question's terms, then its best neighbours while the answer stays under maxWords words.
// Sentences keep their order, so the answer reads as in the document. Terms of the document's
// title do not choose the sentence: the whole page is about them, so they do not tell which
// sentence answers (the page's heading, "The Lighthouse Lens.", all title, won over "It is 3.7
// metres tall, weighs about six tonnes..." for "how much does the lighthouse lens weigh"); they
// only break ties, and of sentences that share as much the first wins. The neighbours are
// chosen by all the terms.
func Trim(passage, question, title, lang string, maxWords int) string {
	sents := retrieval.Sentences(strings.Join(strings.Fields(passage), " "))
	if len(sents) <= 1 {
		return strings.TrimSpace(passage)
	}
	q := map[string]bool{}
	for _, t := range text.Terms(lang, question) {
		q[t] = true
	}
	inTitle := map[string]bool{}
	for _, t := range text.Terms(lang, title) {
		inTitle[t] = true
	}
	score := make([]int, len(sents)) // the sentence's distinct question terms
	own := make([]int, len(sents))   // the same, the title's left out: they choose the best
	best := 0
	for i, sent := range sents {
		seen := map[string]bool{}
		for _, t := range text.Terms(lang, sent) {
			if q[t] && !seen[t] {
				seen[t] = true
				score[i]++
				if !inTitle[t] {
					own[i]++
				}
			}
		}
		if own[i] > own[best] || (own[i] == own[best] && score[i] > score[best]) {
			best = i
		}
	}
	keep := map[int]bool{best: true}
	words := text.Words(sents[best])
	lo, hi := best, best
	for {
		next := -1
		// prefer the neighbour that shares question terms, else the following sentence
		switch {
		case hi+1 < len(sents) && (lo == 0 || score[hi+1] >= score[lo-1]):
			next = hi + 1
		case lo > 0:
			next = lo - 1
		}
		if next < 0 {
			break
		}
		w := text.Words(sents[next])
		if words+w > maxWords || (score[next] == 0 && words >= maxWords/3) {
			break
		}
		keep[next] = true
		words += w
		if next > hi {
			hi = next
		} else {
			lo = next
		}
	}
	var out []string
	for i := lo; i <= hi; i++ {
		if keep[i] {
			out = append(out, sents[i])
		}
	}
	return strings.Join(out, " ")
}
