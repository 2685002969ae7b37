// Package conversation is the engine: given an utterance in a session it answers from the content
// pack, offline. Templates match first, then the trained intent model, then knowledge retrieval,
// then the fallback; a session remembers its language, last intent, slots and topic so that
// follow-ups, forms and confirmations work. The engine serves an immutable Snapshot built from a
// content.Pack and swapped atomically on reload, so requests in flight finish on the old one.
//
// The engine consumes a SessionStore interface and never imports the store, HTTP or templ.
package conversation

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"voicebot/backend/content"
	"voicebot/backend/conversation/langid"
	"voicebot/backend/conversation/nlu"
	"voicebot/backend/conversation/retrieval"
	"voicebot/backend/conversation/spelling"
	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/templates"
	"voicebot/backend/text"
)

// Snapshot is everything needed to answer, built from one content pack: the intents and lists per
// language, a trained intent model per language, the knowledge index, the language detector and a
// response cache that dies with the snapshot (so content changes drop it).
type Snapshot struct {
	Pack     *content.Pack
	Version  uint64
	BuiltAt  time.Time
	Build    time.Duration // time to train and index
	langs    map[string]*langBrain
	index    *retrieval.Index
	answers  *retrieval.Index // what each intent answers (answers.go)
	detector *langid.Detector
	cache    *ttlcache.Cache[string, Reply]
}

type langBrain struct {
	lang    string
	intents []*content.Intent
	byName  map[string]*content.Intent
	lists   templates.Lists
	model   *nlu.Model // nil when the language has fewer than two intents to tell apart
	single  *content.Intent
	// examples maps each listed example, folded, to its intent: a phrasing the operator wrote
	// is answered by its own intent whatever the model makes of it.
	examples map[string]*content.Intent
	listed   map[string]bool   // the words of every list value and synonym
	spell    *spelling.Speller // puts typed words right against the pack's
	// name is the assistant's name, folded, when it is no word of the language (assistantName):
	// a visitor who calls it by name asks nothing with it (withoutName).
	name []string
	sums bool // whether the pack's phrasings do sums (arithmetic.go)
}

// Cache bounds: repeated knowledge questions are answered from memory for a while.
const (
	cacheSize = 2048
	cacheTTL  = 10 * time.Minute
	// phrasings taken from one intent for training, so one intent with a long slot list does
	// not drown the others
	maxPhrasingsPerIntent = 160
)

// BuildSnapshot trains and indexes a pack. It runs off the request path; progress, if set, is
// told about each stage.
func BuildSnapshot(pack *content.Pack, version uint64, progress func(stage string, done, total int)) (*Snapshot, error) {
	start := time.Now()
	s := &Snapshot{Pack: pack, Version: version, langs: map[string]*langBrain{}}
	samples := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, lang := range pack.Bot.Languages {
		lb := &langBrain{lang: lang, intents: pack.Intents[lang], byName: map[string]*content.Intent{}, lists: pack.Lists[lang],
			examples: map[string]*content.Intent{}, listed: map[string]bool{}}
		for _, vals := range lb.lists {
			for _, v := range vals {
				for _, ph := range v.Phrases {
					for _, w := range ph {
						lb.listed[w] = true
					}
				}
			}
		}
		lb.name = assistantName(pack, lang, lb.listed)
		lb.sums = doesSums(lb)
		s.langs[lang] = lb
		var examples []nlu.Example
		saidWords := map[string][]string{}
		for i, in := range lb.intents {
			for _, sl := range in.Slots {
				for _, v := range lb.lists[sl.List] {
					for _, ph := range v.Phrases {
						saidWords[in.Name] = append(saidWords[in.Name], strings.Join(ph, " "))
					}
				}
			}
			lb.byName[in.Name] = in
			for _, ex := range in.Examples {
				if k := text.Fold(ex); k != "" && lb.examples[k] == nil {
					lb.examples[k] = in // listed twice: the first intent keeps it
				}
			}
			phr := Phrasings(in, lb.lists, uint64(i+1))
			written := map[string]bool{}
			for _, ex := range in.Examples {
				written[ex] = true
			}
			for _, p := range phr {
				examples = append(examples, nlu.Example{Text: p, Label: in.Name, Generated: !written[p]})
			}
			seenPhr := map[string]bool{}
			for _, p := range phr {
				if !seenPhr[p] {
					seenPhr[p] = true
					samples[lang] = append(samples[lang], p)
				}
			}
			for _, r := range in.Responses {
				samples[lang] = append(samples[lang], r.Text)
			}
		}
		// What the operator marked "not for this assistant" trains the out-of-scope class.
		for _, q := range pack.OutOfScope[lang] {
			examples = append(examples, nlu.Example{Text: q, Label: nlu.OOS})
		}
		switch len(lb.intents) {
		case 0:
		case 1:
			lb.single = lb.intents[0]
		default:
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := nlu.Train(examples, nlu.Options{Progress: progress, Vectors: vecFor(lang), Lang: lang, Said: saidWords})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					firstErr = fmt.Errorf("train %s intent model: %w", lang, err)
					return
				}
				if t := pack.Bot.IntentThreshold; t > 0 {
					m.SetThreshold(t)
				}
				lb.model = m
			}()
		}
	}
	for lang, lb := range s.langs {
		lb.spell = spelling.New(lang, packWords(pack, lb), vecFor(lang))
	}
	docs := make([]retrieval.Document, len(pack.Docs))
	for i, d := range pack.Docs {
		docs[i] = retrieval.Document{ID: d.Path, Title: d.Title, Text: d.Text, Lang: d.Lang, Tags: d.Tags}
		samples[d.Lang] = append(samples[d.Lang], d.Title, d.Text)
	}
	s.index = retrieval.NewIndex(docs, retrieval.Options{PassageWords: 120, Vectors: vecFor}, nil)
	s.answers = answerIndex(pack, vecFor)
	s.detector = langid.New(samples)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	s.cache = ttlcache.New[string, Reply](cacheSize, cacheTTL)
	s.BuiltAt = time.Now()
	s.Build = s.BuiltAt.Sub(start)
	return s, nil
}

// packWords counts the words a language's content says, for the spelling correction: its
// intents' examples, templates and responses, its lists' values and synonyms, its out-of-scope
// phrasings and its documents. A typo can only become a word the content uses (or, in a
// language with a word list, a word of the language), so the correction never invents a topic.
func packWords(pack *content.Pack, lb *langBrain) map[string]int {
	counts := map[string]int{}
	for _, in := range lb.intents {
		spelling.Count(counts, in.Examples...)
		for _, t := range in.Templates {
			for _, w := range t.Words() {
				counts[w]++
			}
		}
		for _, r := range in.Responses {
			spelling.Count(counts, r.Text)
		}
	}
	for w := range lb.listed {
		counts[w]++
	}
	spelling.Count(counts, pack.OutOfScope[lb.lang]...)
	for _, d := range pack.Docs {
		if d.Lang == lb.lang {
			spelling.Count(counts, d.Title, d.Text)
		}
	}
	return counts
}

// assistantName is the pack's name for the assistant, folded, unless it is a word of the
// language's: a stop word ("Will"), a word of a list value, or words the documents say in a row
// (a hotel's "Marina" by a marina). Then it is content, and stays in a visitor's question.
func assistantName(pack *content.Pack, lang string, listed map[string]bool) []string {
	name := text.Tokens(pack.Bot.Name)
	for _, w := range name {
		if listed[w] || text.IsStopword(lang, w) {
			return nil
		}
	}
	for _, d := range pack.Docs {
		if d.Lang != lang && d.Lang != "" {
			continue
		}
		if containsWords(text.Tokens(d.Title+" "+d.Text), name) {
			return nil
		}
	}
	return name
}

// containsWords reports whether words holds seq as consecutive words.
func containsWords(words, seq []string) bool {
	for i := 0; len(seq) > 0 && i+len(seq) <= len(words); i++ {
		if slices.Equal(words[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

// Phrasings is what the intent model learns an intent from: its examples and an even sample of
// what its templates say, with slots filled from the lists. The examples are repeated so that
// they weigh at least as much as the expansions together: a template says one thing many ways,
// while each example is a way of asking of its own, and visitors' questions look more like the
// examples than like the expansions.
func Phrasings(in *content.Intent, lists templates.Lists, seed uint64) []string {
	out := append([]string(nil), in.Examples...)
	if len(in.Templates) == 0 {
		return out
	}
	// Half the intent's budget for the expansions (the examples, repeated, take the other half),
	// so that weighing the examples does not make training longer.
	per := max(10, (maxPhrasingsPerIntent/2)/len(in.Templates))
	var expanded []string
	for i, t := range in.Templates {
		expanded = append(expanded, t.Expand(lists, per, seed*31+uint64(i))...)
	}
	if n := len(in.Examples); n > 0 {
		for r := 1; r*n < len(expanded)*exampleWeight/100; r++ {
			out = append(out, in.Examples...)
		}
	}
	return append(out, expanded...)
}

// exampleWeight is the share (percent) of an intent's expanded phrasings its examples are
// repeated up to.
const exampleWeight = 100

// Languages lists the languages of the snapshot's pack.
func (s *Snapshot) Languages() []string { return s.Pack.Bot.Languages }

// IntentThreshold reports the threshold of a language's intent model (0 when it has none).
func (s *Snapshot) IntentThreshold(lang string) float64 {
	if lb := s.langs[lang]; lb != nil && lb.model != nil {
		return lb.model.Threshold()
	}
	return 0
}

// vecFor gives the word vectors of a language (nil for none) to the intent model and the
// knowledge index.
var vecFor = wordvec.For
