package content

import (
	"bytes"
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

// parseYAML parses one YAML document and returns its root mapping.
func (l *loader) parseYAML(p string, b []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		l.fail(p, line, "YAML: %s", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		l.fail(p, 1, "file is empty")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		l.fail(p, root.Line, "expected a mapping of keys to values at the top of the file")
		return nil
	}
	return root
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n, m[2]
	}
	return 0, msg
}

type pair struct{ k, v *yaml.Node }

// fields returns the key/value pairs of a mapping, reporting keys not in allowed.
func (l *loader) fields(p string, n *yaml.Node, what string, allowed ...string) []pair {
	if n.Kind != yaml.MappingNode {
		l.fail(p, n.Line, "%s must be a mapping of keys to values", what)
		return nil
	}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			l.fail(p, k.Line, "unknown key %q in %s (expected one of: %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, pair{k, v})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (l *loader) str(p string, n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.fail(p, n.Line, "%s must be text", what)
		return "", false
	}
	return n.Value, true
}

func (l *loader) strList(p string, n *yaml.Node, what string) []string {
	if n.Kind == yaml.ScalarNode {
		if s, ok := l.str(p, n, what); ok {
			return []string{s}
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.fail(p, n.Line, "%s must be a list of texts", what)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := l.str(p, c, what+" item"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) number(p string, n *yaml.Node, what string, lo, hi float64) (float64, bool) {
	var f float64
	if n.Kind != yaml.ScalarNode || n.Decode(&f) != nil {
		l.fail(p, n.Line, "%s must be a number", what)
		return 0, false
	}
	if f < lo || f > hi {
		l.fail(p, n.Line, "%s must be between %g and %g, got %g", what, lo, hi, f)
		return 0, false
	}
	return f, true
}

// localized reads either one text for every language or a mapping of language -> text.
func (l *loader) localized(p string, n *yaml.Node, what string) map[string]string {
	return perLanguage(l, p, n, what, func(v *yaml.Node) (string, bool) { return l.str(p, v, what) })
}

// localizedList reads either one list for every language or a mapping of language -> list.
func (l *loader) localizedList(p string, n *yaml.Node, what string) map[string][]string {
	return perLanguage(l, p, n, what, func(v *yaml.Node) ([]string, bool) { return l.strList(p, v, what), true })
}

// perLanguage reads a value that is either the same for every language of the bot, or a mapping
// of language -> value.
func perLanguage[T any](l *loader, p string, n *yaml.Node, what string, read func(*yaml.Node) (T, bool)) map[string]T {
	out := map[string]T{}
	if n.Kind != yaml.MappingNode {
		if v, ok := read(n); ok {
			for _, lang := range l.pack.Bot.Languages {
				out[lang] = v
			}
		}
		return out
	}
	for _, f := range l.fields(p, n, what) {
		if !l.pack.Bot.HasLanguage(f.k.Value) {
			l.fail(p, f.k.Line, "%s: %q is not one of the bot's languages %v", what, f.k.Value, l.pack.Bot.Languages)
			continue
		}
		if v, ok := read(f.v); ok {
			out[f.k.Value] = v
		}
	}
	return out
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
	root := l.parseYAML(p, b)
	if root == nil {
		return
	}
	bot := &l.pack.Bot
	bot.HandoffAfter = 3
	bot.KnowledgeMatch = 0.5
	bot.KnowledgeMinScore = 1.0
	fields := l.fields(p, root, "bot.yaml", "name", "languages", "default_language", "greeting", "fallback", "handoff", "repair", "repair_offer", "handoff_after", "suggestions", "thresholds")
	// languages first: the localised fields are checked against them
	for _, f := range fields {
		if f.k.Value != "languages" {
			continue
		}
		for i, lang := range l.strList(p, f.v, "languages") {
			if !langCodeRe.MatchString(lang) {
				line := f.v.Line
				if f.v.Kind == yaml.SequenceNode {
					line = f.v.Content[i].Line
				}
				l.fail(p, line, "language %q is not a language code such as en or es", lang)
				continue
			}
			bot.Languages = append(bot.Languages, lang)
		}
	}
	if len(bot.Languages) == 0 {
		l.fail(p, root.Line, "languages: list at least one language code, such as [en]")
		return
	}
	bot.DefaultLanguage = bot.Languages[0]
	for _, f := range fields {
		switch f.k.Value {
		case "name":
			bot.Name, _ = l.str(p, f.v, "name")
		case "default_language":
			if s, ok := l.str(p, f.v, "default_language"); ok {
				if !bot.HasLanguage(s) {
					l.fail(p, f.v.Line, "default_language %q is not in languages %v", s, bot.Languages)
				} else {
					bot.DefaultLanguage = s
				}
			}
		case "greeting":
			bot.Greeting = l.localized(p, f.v, "greeting")
		case "fallback":
			bot.Fallback = l.localizedList(p, f.v, "fallback")
		case "handoff":
			bot.Handoff = l.localized(p, f.v, "handoff")
		case "repair":
			bot.Repair = l.localized(p, f.v, "repair")
		case "repair_offer":
			bot.RepairOffer = l.localized(p, f.v, "repair_offer")
			for lang, text := range bot.RepairOffer {
				if !strings.Contains(text, "{question}") {
					l.fail(p, f.v.Line, "repair_offer (%s): say where the question goes with {question}, as in \"Did you ask: {question}?\"", lang)
				}
			}
		case "handoff_after":
			if v, ok := l.number(p, f.v, "handoff_after", 1, 100); ok {
				bot.HandoffAfter = int(v)
			}
		case "suggestions":
			bot.Suggestions = l.localizedList(p, f.v, "suggestions")
		case "thresholds":
			for _, t := range l.fields(p, f.v, "thresholds", "intent", "knowledge_match", "knowledge_score") {
				switch t.k.Value {
				case "intent":
					bot.IntentThreshold, _ = l.number(p, t.v, "thresholds.intent", 0, 1)
				case "knowledge_match":
					bot.KnowledgeMatch, _ = l.number(p, t.v, "thresholds.knowledge_match", 0, 1)
				case "knowledge_score":
					bot.KnowledgeMinScore, _ = l.number(p, t.v, "thresholds.knowledge_score", 0, 1000)
				}
			}
		}
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

func defaultFallback(lang string) string {
	if lang == "es" {
		return "Perdona, no lo he entendido. ¿Puedes decirlo de otra forma?"
	}
	return "Sorry, I did not understand that. Could you say it another way?"
}

// defaultRepair and defaultRepairOffer are said to a spoken question not heard well enough
// when the content says nothing else (English for a language without its own).
func defaultRepair(lang string) string {
	if lang == "es" {
		return "Perdona, no te he oído bien. ¿Puedes repetirlo?"
	}
	return "Sorry, I didn't catch that. Could you say it again?"
}

func defaultRepairOffer(lang string) string {
	if lang == "es" {
		return "Perdona, no te he oído bien. ¿Has preguntado: {question}?"
	}
	return "Sorry, I didn't catch that. Did you ask: {question}?"
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
	root := l.parseYAML(p, b)
	if root == nil {
		return
	}
	var lang string
	var listsNode, intentsNode, oosNode *yaml.Node
	for _, f := range l.fields(p, root, p, "language", "lists", "intents", "out_of_scope") {
		switch f.k.Value {
		case "language":
			if s, ok := l.str(p, f.v, "language"); ok {
				if !l.pack.Bot.HasLanguage(s) {
					l.fail(p, f.v.Line, "language %q is not one of the bot's languages %v (bot.yaml)", s, l.pack.Bot.Languages)
					return
				}
				lang = s
			}
		case "lists":
			listsNode = f.v
		case "intents":
			intentsNode = f.v
		case "out_of_scope":
			oosNode = f.v
		}
	}
	if lang == "" {
		l.fail(p, root.Line, "language: say which language this file is in, e.g. language: %s", l.pack.Bot.DefaultLanguage)
		return
	}
	if listsNode != nil {
		l.loadLists(p, lang, listsNode)
	}
	var oos []string
	if oosNode != nil && oosNode.Tag != "!!null" {
		for _, s := range l.strList(p, oosNode, "out_of_scope") {
			if len(text.Tokens(s)) == 0 {
				l.fail(p, oosNode.Line, "out_of_scope: a phrasing has no words")
				continue
			}
			oos = append(oos, s)
		}
		l.pack.OutOfScope[lang] = append(l.pack.OutOfScope[lang], oos...)
	}
	if intentsNode == nil {
		switch {
		case listsNode == nil && oosNode == nil:
			l.fail(p, root.Line, "the file has neither intents nor lists")
		case listsNode == nil:
			st.Detail = fmt.Sprintf("%d out-of-scope phrasings (%s)", len(oos), lang)
		default:
			st.Detail = "lists only"
		}
		return
	}
	n := 0
	for _, f := range l.fields(p, intentsNode, "intents") {
		if in := l.loadIntent(p, lang, f.k, f.v); in != nil {
			for _, other := range l.pack.Intents[lang] {
				if other.Name == in.Name {
					l.fail(p, f.k.Line, "intent %q is defined twice for language %s (first at %s:%d)", in.Name, lang, other.File, other.Line)
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

func (l *loader) loadLists(p, lang string, n *yaml.Node) {
	if l.pack.Lists[lang] == nil {
		l.pack.Lists[lang] = templates.Lists{}
	}
	if l.listAt[lang] == nil {
		l.listAt[lang] = map[string]Error{}
	}
	for _, f := range l.fields(p, n, "lists") {
		name := f.k.Value
		if !nameRe.MatchString(name) {
			l.fail(p, f.k.Line, "list name %q: use letters, digits and _", name)
			continue
		}
		if prev, dup := l.listAt[lang][name]; dup {
			l.fail(p, f.k.Line, "list %q is defined twice for language %s (first at %s:%d)", name, lang, prev.File, prev.Line)
			continue
		}
		l.listAt[lang][name] = Error{File: p, Line: f.k.Line}
		items := f.v
		if items.Kind == yaml.MappingNode { // {values: [...]}
			items = nil
			for _, g := range l.fields(p, f.v, "list "+name, "values") {
				items = g.v
			}
			if items == nil {
				l.fail(p, f.v.Line, "list %q: give its values", name)
				continue
			}
		}
		if items.Kind != yaml.SequenceNode || len(items.Content) == 0 {
			l.fail(p, items.Line, "list %q must be a non-empty list of values", name)
			continue
		}
		var values []templates.Value
		for _, it := range items.Content {
			var v templates.Value
			var says []string
			if it.Kind == yaml.ScalarNode {
				v.Value = it.Value
				says = []string{it.Value}
			} else {
				for _, g := range l.fields(p, it, "list value", "value", "synonyms") {
					switch g.k.Value {
					case "value":
						v.Value, _ = l.str(p, g.v, "value")
					case "synonyms":
						says = l.strList(p, g.v, "synonyms")
					}
				}
				says = append([]string{v.Value}, says...)
			}
			if strings.TrimSpace(v.Value) == "" {
				l.fail(p, it.Line, "list %q: a value is empty", name)
				continue
			}
			for _, s := range says {
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

func (l *loader) loadIntent(p, lang string, k, v *yaml.Node) *Intent {
	name := k.Value
	if !nameRe.MatchString(name) {
		l.fail(p, k.Line, "intent name %q: start with a letter; use letters, digits, _ . and -", name)
		return nil
	}
	in := &Intent{Name: name, Lang: lang, File: p, Line: k.Line, Slots: map[string]*Slot{}}
	var templateLines []int
	for _, f := range l.fields(p, v, "intent "+name, "templates", "examples", "slots", "responses", "confirm", "cancelled") {
		switch f.k.Value {
		case "templates":
			nodes := f.v.Content
			if f.v.Kind == yaml.ScalarNode {
				nodes = []*yaml.Node{f.v}
			}
			for _, tn := range nodes {
				src, ok := l.str(p, tn, "template")
				if !ok {
					continue
				}
				t, err := templates.Parse(src)
				if err != nil {
					l.fail(p, tn.Line, "template %q: %v", src, err)
					continue
				}
				in.Templates = append(in.Templates, t)
				templateLines = append(templateLines, tn.Line)
			}
		case "examples":
			in.Examples = l.strList(p, f.v, "examples")
		case "slots":
			for _, s := range l.fields(p, f.v, "slots of "+name) {
				sl := &Slot{Name: s.k.Value, List: s.k.Value}
				if s.v.Kind == yaml.ScalarNode {
					sl.List = s.v.Value
				} else {
					for _, g := range l.fields(p, s.v, "slot "+sl.Name, "list", "required", "prompt") {
						switch g.k.Value {
						case "list":
							sl.List, _ = l.str(p, g.v, "list")
						case "required":
							if g.v.Decode(&sl.Required) != nil {
								l.fail(p, g.v.Line, "required must be true or false")
							}
						case "prompt":
							sl.Prompt, _ = l.str(p, g.v, "prompt")
						}
					}
				}
				if sl.Required && sl.Prompt == "" {
					l.fail(p, s.k.Line, "slot %q is required: give a prompt that asks for it", sl.Name)
				}
				in.Slots[sl.Name] = sl
				in.SlotOrder = append(in.SlotOrder, sl.Name)
			}
		case "responses":
			nodes := f.v.Content
			if f.v.Kind == yaml.ScalarNode {
				nodes = []*yaml.Node{f.v}
			}
			for _, rn := range nodes {
				r := Response{Line: rn.Line}
				if rn.Kind == yaml.ScalarNode {
					r.Text = rn.Value
				} else {
					for _, g := range l.fields(p, rn, "response", "text", "when") {
						switch g.k.Value {
						case "text":
							r.Text, _ = l.str(p, g.v, "text")
						case "when":
							r.When = map[string]string{}
							for _, w := range l.fields(p, g.v, "when") {
								r.When[w.k.Value] = w.v.Value
							}
						}
					}
				}
				if strings.TrimSpace(r.Text) == "" {
					l.fail(p, rn.Line, "intent %q: a response is empty", name)
					continue
				}
				in.Responses = append(in.Responses, r)
			}
		case "confirm":
			in.Confirm, _ = l.str(p, f.v, "confirm")
		case "cancelled":
			in.Cancelled, _ = l.str(p, f.v, "cancelled")
		}
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
		l.fail(p, k.Line, "intent %q has no templates and no examples: give at least one way to ask for it", name)
	}
	if len(in.Responses) == 0 {
		l.fail(p, k.Line, "intent %q has no responses", name)
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
			l.fail(p, k.Line, "confirm uses {%s}, which is not a slot of intent %q", m[1], name)
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
