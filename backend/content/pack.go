// Package content owns the content pack, the folder of plain files an operator writes: bot
// settings (bot.yaml), intents with templates, examples, slots and responses (intents/*.yaml), and
// knowledge documents in Markdown, text or HTML (knowledge/**). Load parses and validates a pack
// into an immutable Pack; every problem is reported with the file, the line and what is wrong.
// Watch follows a pack folder and publishes each new good Pack. docs/CONTENT.md documents the
// format for operators.
package content

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"voicebot/backend/templates"
	"voicebot/backend/text"
)

// Pack is one parsed, validated content pack. It is never modified after Load.
type Pack struct {
	Source  string // where it was loaded from: a folder, or "built-in demo"
	Bot     Bot
	Intents map[string][]*Intent       // by language, in file order
	Lists   map[string]templates.Lists // slot lists by language
	// OutOfScope are phrasings that are not for this assistant, by language (the out_of_scope
	// lists of the intents files, in file order): the intent model may learn from them what to
	// leave to the documents and the fallback.
	OutOfScope map[string][]string
	Docs       []Document
	Files      []FileStatus
	LoadedAt   time.Time
}

// Bot holds the settings of bot.yaml, with defaults filled in.
type Bot struct {
	Name            string
	Languages       []string
	DefaultLanguage string
	Greeting        map[string]string
	Fallback        map[string][]string
	Handoff         map[string]string
	// Repair is said when a spoken question was not heard well enough to answer, and
	// RepairOffer when there is a likely reading to offer ({question} stands for it).
	Repair       map[string]string
	RepairOffer  map[string]string
	HandoffAfter int
	Suggestions  map[string][]string
	// IntentThreshold is the confidence an intent needs; 0 means calibrated from the content.
	IntentThreshold float64
	// KnowledgeMatch is the share of a question's content words a passage must contain.
	KnowledgeMatch float64
	// KnowledgeMinScore is the BM25 score a passage needs to be used as an answer.
	KnowledgeMinScore float64
}

// Intent is one intent in one language.
type Intent struct {
	Name      string
	Lang      string
	File      string
	Line      int
	Templates []*templates.Template
	Examples  []string
	Slots     map[string]*Slot
	SlotOrder []string
	Responses []Response
	Confirm   string // question asked before answering when set, with {slot} variables
	Cancelled string // said when the visitor says no to Confirm
}

// Slot is a slot of an intent: which list its values come from, and for forms whether it must be
// filled and how to ask for it.
type Slot struct {
	Name     string
	List     string
	Required bool
	Prompt   string
}

// Response is one response text; When, if set, restricts it to turns whose slots have those
// values.
type Response struct {
	Text string
	When map[string]string
	Line int
}

// Document is one knowledge document.
type Document struct {
	Path  string // inside the pack, with forward slashes
	Title string
	Text  string
	Lang  string
	Tags  []string
}

// FileStatus is what the loader made of one file.
type FileStatus struct {
	Path   string `json:"path"`
	Kind   string `json:"kind"` // bot, intents, knowledge, ignored
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"` // e.g. "12 intents" or the document title
}

// Error is one problem in a content file.
type Error struct {
	File string
	Line int // 0 when the problem is with the whole file
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found in a pack; a pack with errors is not used.
type Errors []Error

func (es Errors) Error() string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		parts = append(parts, e.Error())
	}
	if len(parts) > 5 {
		parts = append(parts[:5], fmt.Sprintf("... and %d more", len(es)-5))
	}
	return strings.Join(parts, "; ")
}

// IntentCount is the number of intents over all languages.
func (p *Pack) IntentCount() int {
	n := 0
	for _, in := range p.Intents {
		n += len(in)
	}
	return n
}

// Localized picks the text for a language, falling back to the default language.
func (b *Bot) Localized(m map[string]string, lang string) string {
	if s, ok := m[lang]; ok {
		return s
	}
	return m[b.DefaultLanguage]
}

// MatchLanguage is the pack's language that a requested tag asks for: the same tag (in any case),
// else the pack's bare language of the same base ("en-US" asks an "en" pack, also one with "en"
// and "en-GB"), else the one language of that base ("en" asks an "en-GB" pack: a browser sends
// its locale), and false when none matches or several regional ones do ("pt" of a pack with
// pt-BR and pt-PT).
func (b *Bot) MatchLanguage(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	for _, l := range b.Languages {
		if strings.EqualFold(l, tag) {
			return l, true
		}
	}
	for _, l := range b.Languages {
		if l == text.Base(tag) {
			return l, true
		}
	}
	found := ""
	for _, l := range b.Languages {
		if text.Base(l) == text.Base(tag) {
			if found != "" {
				return "", false
			}
			found = l
		}
	}
	return found, found != ""
}

// HasLanguage reports whether the pack serves a language.
func (b *Bot) HasLanguage(lang string) bool {
	for _, l := range b.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
