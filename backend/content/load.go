package content

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	sy "voicebot/backend/internal/strictyaml"
	"voicebot/backend/templates"
	"voicebot/backend/text"
)

// Limits on what a pack may hold, so that a mistaken copy of a huge file cannot stall a reload.
const (
	MaxFileBytes       = 4 << 20
	MaxTemplateExpands = 200 // training phrasings taken from one template
)

// Load reads and validates the pack at the root of fsys. source names it in messages (a folder
// path, or "built-in demo"). A pack with any error is returned as Errors, with the file statuses
// in the partial Pack so that a status page can show every file.
func Load(fsys fs.FS, source string) (*Pack, error) {
	l := &loader{fsys: fsys, pack: &Pack{
		Source:     source,
		Intents:    map[string][]*Intent{},
		Lists:      map[string]templates.Lists{},
		LoadedAt:   time.Now(),
		OutOfScope: map[string][]string{},
	}, status: map[string]*FileStatus{}}
	l.loadBot()
	if len(l.errs) == 0 {
		l.walk()
		l.crossCheck()
	}
	for _, p := range sortedKeys(l.status) {
		l.pack.Files = append(l.pack.Files, *l.status[p])
	}
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			if l.errs[i].File != l.errs[j].File {
				return l.errs[i].File < l.errs[j].File
			}
			return l.errs[i].Line < l.errs[j].Line
		})
		return l.pack, l.errs
	}
	return l.pack, nil
}

type loader struct {
	fsys   fs.FS
	pack   *Pack
	errs   Errors
	status map[string]*FileStatus
	// where each list was defined, per language, for duplicate and reference checks
	listAt map[string]map[string]Error
}

func (l *loader) fail(file string, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.errs = append(l.errs, Error{File: file, Line: line, Msg: msg})
	if st := l.status[file]; st != nil && st.OK {
		st.OK = false
		st.Error = Error{File: file, Line: line, Msg: msg}.Error()
	}
}

func (l *loader) file(p, kind string) *FileStatus {
	st := &FileStatus{Path: p, Kind: kind, OK: true}
	l.status[p] = st
	return st
}

func (l *loader) read(p string) ([]byte, bool) {
	b, err := fs.ReadFile(l.fsys, p)
	if err != nil {
		l.fail(p, 0, "cannot read: %v", err)
		return nil, false
	}
	if len(b) > MaxFileBytes {
		l.fail(p, 0, "file is %d bytes, more than the %d a content file may have", len(b), MaxFileBytes)
		return nil, false
	}
	if !utf8.Valid(b) {
		line := 1 + bytes.Count(b[:firstInvalidUTF8(b)], []byte("\n"))
		l.fail(p, line, "not valid UTF-8 text (save the file as UTF-8)")
		return nil, false
	}
	return b, true
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// decodeFile decodes one YAML file of the pack into v (a shape of schema.go), reporting every
// problem with the file and line. It returns the root mapping, nil when the file has none to
// read (not YAML, empty, or not a mapping).
func (l *loader) decodeFile(p string, b []byte, v any, names sy.Names) *yaml.Node {
	root, errs := sy.Decode(b, v, names, 1)
	for _, e := range errs {
		switch e.Kind {
		case sy.Syntax:
			l.fail(p, e.Line, "YAML: %s", e.Msg)
			return nil
		case sy.NotMapping:
			l.fail(p, e.Line, "expected a mapping of keys to values at the top of the file")
			return nil
		}
		l.fail(p, e.Line, "%s", e.Msg)
	}
	if root == nil {
		l.fail(p, 1, "file is empty")
	}
	return root
}

// perLanguage resolves a value given once for every language of the bot, or per language.
func perLanguage[T, R any](l *loader, p string, v sy.PerKey[T], what string, get func(T) R) map[string]R {
	if v.All == nil && !v.Mapped {
		return nil
	}
	out := map[string]R{}
	if v.All != nil {
		for _, lang := range l.pack.Bot.Languages {
			out[lang] = get(*v.All)
		}
		return out
	}
	for _, e := range v.ByKey {
		if !l.pack.Bot.HasLanguage(e.Key) {
			l.fail(p, e.Line, "%s: %q is not one of the bot's languages %v", what, e.Key, l.pack.Bot.Languages)
			continue
		}
		out[e.Key] = get(e.V)
	}
	return out
}

func text1(t sy.Text) string    { return t.V }
func texts(t sy.Texts) []string { return t.V }

// inRange checks a number given in the file (Line 0: not given).
func (l *loader) inRange(p string, n sy.Number, what string, lo, hi float64) bool {
	if n.Line == 0 {
		return false
	}
	if n.V < lo || n.V > hi {
		l.fail(p, n.Line, "%s must be between %g and %g, got %g", what, lo, hi, n.V)
		return false
	}
	return true
}

var langCodeRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

func (l *loader) loadBot() {
	const p = "bot.yaml"
	st := l.file(p, "bot")
	if _, err := fs.Stat(l.fsys, p); errors.Is(err, fs.ErrNotExist) {
		l.fail(p, 0, "missing: a content pack needs bot.yaml with at least name and languages")
		return
	}
	b, ok := l.read(p)
	if !ok {
		return
	}
	var f botFile
	root := l.decodeFile(p, b, &f, botNames)
	if root == nil {
		return
	}
	bot := &l.pack.Bot
	bot.HandoffAfter = 3
	bot.KnowledgeMatch = 0.5
	bot.KnowledgeMinScore = 1.0
	// languages first: the localised fields are checked against them
	for i, lang := range f.Languages.V {
		if !langCodeRe.MatchString(lang) {
			l.fail(p, f.Languages.Lines[i], "language %q is not a language code such as en or es", lang)
			continue
		}
		bot.Languages = append(bot.Languages, lang)
	}
	if len(bot.Languages) == 0 {
		l.fail(p, root.Line, "languages: list at least one language code, such as [en]")
		return
	}
	bot.DefaultLanguage = bot.Languages[0]
	bot.Name = f.Name.V
	if d := f.DefaultLanguage; d.Line > 0 {
		if !bot.HasLanguage(d.V) {
			l.fail(p, d.Line, "default_language %q is not in languages %v", d.V, bot.Languages)
		} else {
			bot.DefaultLanguage = d.V
		}
	}
	bot.Greeting = perLanguage(l, p, f.Greeting, "greeting", text1)
	bot.Fallback = perLanguage(l, p, f.Fallback, "fallback", texts)
	bot.Handoff = perLanguage(l, p, f.Handoff, "handoff", text1)
	bot.Repair = perLanguage(l, p, f.Repair, "repair", text1)
	bot.RepairOffer = perLanguage(l, p, f.RepairOffer, "repair_offer", text1)
	for lang, text := range bot.RepairOffer {
		if !strings.Contains(text, "{question}") {
			l.fail(p, f.RepairOffer.Line, "repair_offer (%s): say where the question goes with {question}, as in \"Did you ask: {question}?\"", lang)
		}
	}
	if l.inRange(p, f.HandoffAfter, "handoff_after", 1, 100) {
		bot.HandoffAfter = int(f.HandoffAfter.V)
	}
	bot.Suggestions = perLanguage(l, p, f.Suggestions, "suggestions", texts)
	t := f.Thresholds.V
	if l.inRange(p, t.Intent, "thresholds.intent", 0, 1) {
		bot.IntentThreshold = t.Intent.V
	}
	if l.inRange(p, t.KnowledgeMatch, "thresholds.knowledge_match", 0, 1) {
		bot.KnowledgeMatch = t.KnowledgeMatch.V
	}
	if l.inRange(p, t.KnowledgeScore, "thresholds.knowledge_score", 0, 1000) {
		bot.KnowledgeMinScore = t.KnowledgeScore.V
	}
	if bot.Name == "" {
		l.fail(p, root.Line, "name: give the bot a name")
	}
	for _, lang := range bot.Languages {
		if len(bot.Fallback[lang]) == 0 {
			if bot.Fallback == nil {
				bot.Fallback = map[string][]string{}
			}
			bot.Fallback[lang] = []string{defaultFallback(lang)}
		}
		if bot.Repair == nil {
			bot.Repair = map[string]string{}
		}
		if bot.RepairOffer == nil {
			bot.RepairOffer = map[string]string{}
		}
		if bot.Repair[lang] == "" {
			bot.Repair[lang] = defaultRepair(lang)
		}
		if bot.RepairOffer[lang] == "" {
			bot.RepairOffer[lang] = defaultRepairOffer(lang)
		}
	}
	st.Detail = fmt.Sprintf("%s, languages %s", bot.Name, strings.Join(bot.Languages, ", "))
}

func defaultFallback(lang string) string { return defaultLine(lang, 0) }

// defaultRepair and defaultRepairOffer are said to a spoken question not heard well enough
// when the content says nothing else (English for a language without its own).
func defaultRepair(lang string) string { return defaultLine(lang, 1) }

func defaultRepairOffer(lang string) string { return defaultLine(lang, 2) }

// defaultLine is the built-in fallback (0), repair (1) or repair offer (2) of a language: the
// languages the engine stems for with most speakers, English for the others.
func defaultLine(lang string, which int) string {
	lines, ok := defaultLines[text.Base(lang)]
	if !ok {
		lines = defaultLines["en"]
	}
	return lines[which]
}

var defaultLines = map[string][3]string{
	"en": {"Sorry, I did not understand that. Could you say it another way?", "Sorry, I didn't catch that. Could you say it again?", "Sorry, I didn't catch that. Did you ask: {question}?"},
	"es": {"Perdona, no lo he entendido. ¿Puedes decirlo de otra forma?", "Perdona, no te he oído bien. ¿Puedes repetirlo?", "Perdona, no te he oído bien. ¿Has preguntado: {question}?"},
	"fr": {"Désolé, je n'ai pas compris. Pouvez-vous le dire autrement ?", "Désolé, je n'ai pas bien entendu. Pouvez-vous répéter ?", "Désolé, je n'ai pas bien entendu. Avez-vous demandé : {question} ?"},
	"de": {"Entschuldigung, das habe ich nicht verstanden. Können Sie es anders sagen?", "Entschuldigung, das habe ich nicht gut gehört. Können Sie es wiederholen?", "Entschuldigung, das habe ich nicht gut gehört. Haben Sie gefragt: {question}?"},
	"it": {"Scusa, non ho capito. Puoi dirlo in un altro modo?", "Scusa, non ho sentito bene. Puoi ripetere?", "Scusa, non ho sentito bene. Hai chiesto: {question}?"},
	"pt": {"Desculpe, não entendi. Pode dizer de outra forma?", "Desculpe, não ouvi bem. Pode repetir?", "Desculpe, não ouvi bem. Perguntou: {question}?"},
}

// ignorable reports files an editor or the OS leaves behind, which are never content.
func ignorable(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") || strings.HasPrefix(name, "#") ||
		strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") || strings.HasSuffix(name, ".tmp") ||
		strings.HasPrefix(name, "~$") || name == "Thumbs.db" || name == "desktop.ini" || name == "4913"
}

func (l *loader) walk() {
	l.listAt = map[string]map[string]Error{}
	err := fs.WalkDir(l.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			l.fail(p, 0, "cannot read: %v", err)
			return nil
		}
		if p == "." {
			return nil
		}
		if ignorable(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || p == "bot.yaml" {
			return nil
		}
		ext := strings.ToLower(path.Ext(p))
		switch {
		case strings.HasPrefix(p, "intents/") && (ext == ".yaml" || ext == ".yml"):
			l.loadIntents(p)
		case strings.HasPrefix(p, "knowledge/") && knowledgeExt[ext]:
			l.loadDocument(p, ext)
		default:
			st := l.file(p, "ignored")
			st.Detail = "not content: intents go in intents/*.yaml, documents in knowledge/ (.md, .txt, .html)"
		}
		return nil
	})
	if err != nil {
		l.fail(".", 0, "cannot read the content folder: %v", err)
	}
}

var knowledgeExt = map[string]bool{".md": true, ".markdown": true, ".txt": true, ".html": true, ".htm": true}

func (l *loader) loadIntents(p string) {
	st := l.file(p, "intents")
	b, ok := l.read(p)
	if !ok {
		return
	}
	var f intentsFile
	root := l.decodeFile(p, b, &f, intentsFileNames(p))
	if root == nil {
		return
	}
	lang := f.Language.V
	if f.Language.Line == 0 {
		l.fail(p, root.Line, "language: say which language this file is in, e.g. language: %s", l.pack.Bot.DefaultLanguage)
		return
	}
	if !l.pack.Bot.HasLanguage(lang) {
		l.fail(p, f.Language.Line, "language %q is not one of the bot's languages %v (bot.yaml)", lang, l.pack.Bot.Languages)
		return
	}
	hasLists, hasIntents, hasOOS := has(root, "lists"), has(root, "intents"), has(root, "out_of_scope")
	if hasLists {
		l.loadLists(p, lang, f.Lists)
	}
	var oos []string
	for i, s := range f.OutOfScope.V {
		if len(text.Tokens(s)) == 0 {
			l.fail(p, f.OutOfScope.Lines[i], "out_of_scope: a phrasing has no words")
			continue
		}
		oos = append(oos, s)
	}
	if hasOOS {
		l.pack.OutOfScope[lang] = append(l.pack.OutOfScope[lang], oos...)
	}
	if !hasIntents {
		switch {
		case !hasLists && !hasOOS:
			l.fail(p, root.Line, "the file has neither intents nor lists")
		case !hasLists:
			st.Detail = fmt.Sprintf("%d out-of-scope phrasings (%s)", len(oos), lang)
		default:
			st.Detail = "lists only"
		}
		return
	}
	n := 0
	for _, e := range f.Intents {
		if in := l.loadIntent(p, lang, e.Key, e.Line, &e.V.V); in != nil {
			for _, other := range l.pack.Intents[lang] {
				if other.Name == in.Name {
					l.fail(p, e.Line, "intent %q is defined twice for language %s (first at %s:%d)", in.Name, lang, other.File, other.Line)
				}
			}
			l.pack.Intents[lang] = append(l.pack.Intents[lang], in)
			n++
		}
	}
	st.Detail = fmt.Sprintf("%d intents (%s)", n, lang)
	if len(oos) > 0 {
		st.Detail += fmt.Sprintf(", %d out-of-scope phrasings", len(oos))
	}
}

var nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

func (l *loader) loadLists(p, lang string, lists sy.Ordered[listDef]) {
	if l.pack.Lists[lang] == nil {
		l.pack.Lists[lang] = templates.Lists{}
	}
	if l.listAt[lang] == nil {
		l.listAt[lang] = map[string]Error{}
	}
	for _, e := range lists {
		name := e.Key
		if !nameRe.MatchString(name) {
			l.fail(p, e.Line, "list name %q: use letters, digits and _", name)
			continue
		}
		if prev, dup := l.listAt[lang][name]; dup {
			l.fail(p, e.Line, "list %q is defined twice for language %s (first at %s:%d)", name, lang, prev.File, prev.Line)
			continue
		}
		l.listAt[lang][name] = Error{File: p, Line: e.Line}
		d := e.V
		line := cmp.Or(d.Values.Line, d.Line, e.Line)
		if d.mapping && d.Values.Line == 0 {
			l.fail(p, d.Line, "list %q: give its values", name)
			continue
		}
		if len(d.Values.V) == 0 {
			l.fail(p, line, "list %q must be a non-empty list of values", name)
			continue
		}
		var values []templates.Value
		for i, it := range d.Values.V {
			v := templates.Value{Value: it.Value.V}
			if strings.TrimSpace(v.Value) == "" {
				l.fail(p, d.Values.LineOf(i), "list %q: a value is empty", name)
				continue
			}
			for _, s := range append([]string{v.Value}, it.Synonyms.V...) {
				if toks := text.Tokens(s); len(toks) > 0 {
					v.Phrases = append(v.Phrases, toks)
				}
			}
			values = append(values, v)
		}
		l.pack.Lists[lang][name] = values
	}
}

var varRe = regexp.MustCompile(`\{([^{}]*)\}`)

// loadIntent makes the intent name, at line of p, from its definition.
func (l *loader) loadIntent(p, lang, name string, line int, d *intentDef) *Intent {
	if !nameRe.MatchString(name) {
		l.fail(p, line, "intent name %q: start with a letter; use letters, digits, _ . and -", name)
		return nil
	}
	in := &Intent{Name: name, Lang: lang, File: p, Line: line, Slots: map[string]*Slot{},
		Examples: d.Examples.V, Confirm: d.Confirm.V, Cancelled: d.Cancelled.V}
	var templateLines []int
	for i, src := range d.Templates.V {
		t, err := templates.Parse(src)
		if err != nil {
			l.fail(p, d.Templates.Lines[i], "template %q: %v", src, err)
			continue
		}
		in.Templates = append(in.Templates, t)
		templateLines = append(templateLines, d.Templates.Lines[i])
	}
	for _, s := range d.Slots {
		sl := &Slot{Name: s.Key, List: s.Key, Required: s.V.Required.V, Prompt: s.V.Prompt.V}
		if s.V.List.Line > 0 { // a list's name, or list: in a mapping
			sl.List = s.V.List.V
		}
		if sl.Required && sl.Prompt == "" {
			l.fail(p, s.Line, "slot %q is required: give a prompt that asks for it", sl.Name)
		}
		in.Slots[sl.Name] = sl
		in.SlotOrder = append(in.SlotOrder, sl.Name)
	}
	for i, rd := range d.Responses.V {
		r := Response{Text: rd.Text.V, Line: cmp.Or(rd.Line, d.Responses.LineOf(i))}
		if len(rd.When) > 0 {
			r.When = make(map[string]string, len(rd.When))
			for _, w := range rd.When {
				r.When[w.Key] = w.V.V
			}
		}
		if strings.TrimSpace(r.Text) == "" {
			l.fail(p, r.Line, "intent %q: a response is empty", name)
			continue
		}
		in.Responses = append(in.Responses, r)
	}
	// Slots used by templates are declared implicitly.
	for i, t := range in.Templates {
		for _, ref := range t.Slots() {
			if sl, ok := in.Slots[ref.Slot]; ok {
				if sl.List != ref.List {
					l.fail(p, templateLines[i], "template uses {%s:%s} but slot %q takes values from list %q", ref.List, ref.Slot, ref.Slot, sl.List)
				}
				continue
			}
			in.Slots[ref.Slot] = &Slot{Name: ref.Slot, List: ref.List}
			in.SlotOrder = append(in.SlotOrder, ref.Slot)
		}
	}
	if len(in.Templates) == 0 && len(in.Examples) == 0 {
		l.fail(p, line, "intent %q has no templates and no examples: give at least one way to ask for it", name)
	}
	if len(in.Responses) == 0 {
		l.fail(p, line, "intent %q has no responses", name)
	}
	for _, r := range in.Responses {
		for _, m := range varRe.FindAllStringSubmatch(r.Text, -1) {
			if _, ok := in.Slots[m[1]]; !ok && m[1] != "bot" {
				l.fail(p, r.Line, "response uses {%s}, which is not a slot of intent %q", m[1], name)
			}
		}
		for s := range r.When {
			if _, ok := in.Slots[s]; !ok {
				l.fail(p, r.Line, "response condition on %q, which is not a slot of intent %q", s, name)
			}
		}
	}
	for _, m := range varRe.FindAllStringSubmatch(in.Confirm, -1) {
		if _, ok := in.Slots[m[1]]; !ok {
			l.fail(p, line, "confirm uses {%s}, which is not a slot of intent %q", m[1], name)
		}
	}
	return in
}

// crossCheck runs the checks that need every file: slot lists may be defined in any intents file
// of the same language.
func (l *loader) crossCheck() {
	for lang, intents := range l.pack.Intents {
		for _, in := range intents {
			for _, name := range in.SlotOrder {
				sl := in.Slots[name]
				values, ok := l.pack.Lists[lang][sl.List]
				if !ok {
					l.fail(in.File, in.Line, "intent %q: slot %q takes values from list %q, which no %s intents file defines", in.Name, name, sl.List, lang)
					continue
				}
				for _, r := range in.Responses {
					if want, ok := r.When[name]; ok && !hasValue(values, want) {
						l.fail(in.File, r.Line, "response condition %s: %q is not a value of list %q", name, want, sl.List)
					}
				}
			}
		}
	}
	if l.pack.IntentCount() == 0 && len(l.pack.Docs) == 0 {
		l.fail("intents/", 0, "the pack has no intents and no knowledge documents: nothing to answer with")
	}
}

func hasValue(values []templates.Value, v string) bool {
	for _, x := range values {
		if x.Value == v {
			return true
		}
	}
	return false
}
