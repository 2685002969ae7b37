package conversation

import (
	"fmt"
	"sort"
	"strings"

	"voicebot/backend/content"
	"voicebot/backend/templates"
	"voicebot/backend/text"
)

// CheckReport is what `voicebot content check` and the dashboard's Content page report: every
// phrasing the pack gives an intent (its examples and a sample of what its templates say),
// answered as the first turn of a new session by the content in service.
type CheckReport struct {
	Version    uint64        `json:"content_version"`
	Languages  []string      `json:"languages"`
	Phrasings  int           `json:"phrasings"` // checked
	Right      int           `json:"right"`     // answered by their own intent
	Wrong      []CheckMiss   `json:"wrong"`     // answered by another intent, or not by an intent
	Confusions []Confusion   `json:"confusions"`
	Duplicates []Duplicate   `json:"duplicates"`
	OutOfScope []CheckMiss   `json:"out_of_scope_answered"` // out_of_scope phrasings an intent answers
	PerLang    []LangSummary `json:"per_language"`
}

// CheckMiss is one phrasing answered wrong.
type CheckMiss struct {
	Lang       string  `json:"lang"`
	Intent     string  `json:"intent,omitempty"` // the intent it belongs to ("" for out_of_scope)
	Text       string  `json:"text"`
	Source     string  `json:"source"` // example, template, out_of_scope
	File       string  `json:"file"`
	Line       int     `json:"line"` // of the intent
	Kind       string  `json:"kind"` // how it was answered: intent, knowledge, fallback, ...
	Got        string  `json:"got,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
}

// Confusion counts the phrasings of one intent answered by another.
type Confusion struct {
	Lang string `json:"lang"`
	Want string `json:"want"`
	Got  string `json:"got"`
	N    int    `json:"n"`
}

// Duplicate is a phrasing (compared by its folded words) listed more than once: twice under one
// intent, under two intents, or under an intent and out_of_scope.
type Duplicate struct {
	Lang    string   `json:"lang"`
	Text    string   `json:"text"`
	Intents []string `json:"intents"` // "out_of_scope" for the list
	Sources []string `json:"sources"` // example, template or out_of_scope, one per listing
}

// LangSummary is one language's share of the report.
type LangSummary struct {
	Lang      string `json:"lang"`
	Phrasings int    `json:"phrasings"`
	Right     int    `json:"right"`
}

// OK reports whether every phrasing was answered right (duplicates alone do not fail a check).
func (r *CheckReport) OK() bool { return len(r.Wrong) == 0 && len(r.OutOfScope) == 0 }

// Share is the share of phrasings answered right, in percent.
func (r *CheckReport) Share() float64 {
	if r.Phrasings == 0 {
		return 100
	}
	return 100 * float64(r.Right) / float64(r.Phrasings)
}

// CheckTemplateSample is how many phrasings of each template a check answers.
const CheckTemplateSample = 8

// Check answers every example of every intent, perTemplate phrasings of each of its templates
// (slots filled from the lists) and every out_of_scope phrasing, in every language, each as the
// first turn of a new session (Try: nothing is saved), and reports what was answered wrong.
func (e *Engine) Check(perTemplate int) (*CheckReport, error) {
	s := e.snap.Load()
	if s == nil {
		return nil, ErrNotReady
	}
	p := s.Pack
	rep := &CheckReport{Version: s.Version, Languages: p.Bot.Languages, Wrong: []CheckMiss{}, Confusions: []Confusion{}, Duplicates: []Duplicate{}, OutOfScope: []CheckMiss{}}
	confused := map[[3]string]int{}
	type listing struct{ intent, source, text string }
	for _, lang := range p.Bot.Languages {
		sum := LangSummary{Lang: lang}
		byName := map[string]*content.Intent{}
		for _, in := range p.Intents[lang] {
			byName[in.Name] = in
		}
		seen := map[string][]listing{}
		var order []string
		note := func(l listing) {
			k := strings.Join(text.Tokens(l.text), " ")
			if len(seen[k]) == 0 {
				order = append(order, k)
			}
			seen[k] = append(seen[k], l)
		}
		for i, in := range p.Intents[lang] {
			var phr []listing
			for _, ex := range in.Examples {
				phr = append(phr, listing{in.Name, "example", ex})
			}
			for j, t := range in.Templates {
				for _, x := range t.Expand(p.Lists[lang], perTemplate, uint64(i+1)*31+uint64(j)) {
					phr = append(phr, listing{in.Name, "template", x})
				}
			}
			done := map[string]bool{} // a template's sample may repeat an example
			for _, ph := range phr {
				note(ph)
				k := strings.Join(text.Tokens(ph.text), " ")
				if done[k] {
					continue
				}
				done[k] = true
				r, err := e.Try(ph.text, lang)
				if err != nil {
					return nil, fmt.Errorf("%s %s %q: %w", lang, in.Name, ph.text, err)
				}
				sum.Phrasings++
				if r.Intent == in.Name && (r.Kind == KindIntent || r.Kind == KindPrompt || r.Kind == KindConfirm) {
					sum.Right++
					continue
				}
				if ph.source == "template" && r.Intent != "" && templateSays(byName[r.Intent], p.Lists[lang], ph.text) {
					// Another intent's template says the same words ("is there a shop":
					// where_is and gift_shop): the pack is ambiguous there, Duplicates reports
					// it, and the other intent answering is no mistake. (An example that
					// another intent's template takes is: the operator's example is overruled.)
					sum.Right++
					continue
				}
				rep.Wrong = append(rep.Wrong, CheckMiss{Lang: lang, Intent: in.Name, Text: ph.text, Source: ph.source, File: in.File, Line: in.Line,
					Kind: r.Kind, Got: r.Intent, Confidence: r.Confidence})
				if r.Intent != "" {
					confused[[3]string{lang, in.Name, r.Intent}]++
				}
			}
		}
		for _, o := range p.OutOfScope[lang] {
			note(listing{"out_of_scope", "out_of_scope", o})
			r, err := e.Try(o, lang)
			if err != nil {
				return nil, fmt.Errorf("%s out_of_scope %q: %w", lang, o, err)
			}
			if r.Intent != "" {
				rep.OutOfScope = append(rep.OutOfScope, CheckMiss{Lang: lang, Text: o, Source: "out_of_scope", Kind: r.Kind, Got: r.Intent, Confidence: r.Confidence})
			}
		}
		for _, k := range order {
			ls := seen[k]
			if len(ls) < 2 {
				continue
			}
			// a template that says what an example of the same intent says is no duplicate
			examples, intents := 0, map[string]bool{}
			for _, l := range ls {
				intents[l.intent] = true
				if l.source != "template" {
					examples++
				}
			}
			if len(intents) == 1 && examples < 2 {
				continue
			}
			d := Duplicate{Lang: lang, Text: ls[0].text}
			for _, l := range ls {
				d.Intents = append(d.Intents, l.intent)
				d.Sources = append(d.Sources, l.source)
			}
			rep.Duplicates = append(rep.Duplicates, d)
		}
		rep.Phrasings += sum.Phrasings
		rep.Right += sum.Right
		rep.PerLang = append(rep.PerLang, sum)
	}
	for k, n := range confused {
		rep.Confusions = append(rep.Confusions, Confusion{Lang: k[0], Want: k[1], Got: k[2], N: n})
	}
	sort.Slice(rep.Confusions, func(i, j int) bool {
		a, b := rep.Confusions[i], rep.Confusions[j]
		if a.N != b.N {
			return a.N > b.N
		}
		return a.Lang+a.Want+a.Got < b.Lang+b.Want+b.Got
	})
	return rep, nil
}

// templateSays reports whether one of an intent's templates says a sentence.
func templateSays(in *content.Intent, lists templates.Lists, sentence string) bool {
	if in == nil {
		return false
	}
	toks := text.Tokens(sentence)
	for _, t := range in.Templates {
		if _, ok := t.Match(toks, lists); ok {
			return true
		}
	}
	return false
}
