package content

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing/fstest"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"voicebot/backend/text"
)

// Teach is one phrasing an operator teaches the pack: as a new example of an intent, as the only
// example of a new intent, or as a phrasing that is not for this assistant.
type Teach struct {
	Text string // the phrasing, as a visitor said it
	Lang string // one of the pack's languages
	// Intent is an existing intent of Lang, or the name of a new one when Response is set.
	Intent string
	// Response, when set, creates Intent with Text as its only example and this response.
	Response string
	// OutOfScope writes Text into the language's out_of_scope list (Intent must be empty).
	OutOfScope bool
}

// Teach actions.
const (
	ActionExample    = "example"
	ActionNewIntent  = "new_intent"
	ActionOutOfScope = "out_of_scope"
)

// Edit is what Apply wrote.
type Edit struct {
	Action  string `json:"action"` // example, new_intent, out_of_scope
	Lang    string `json:"lang"`
	Intent  string `json:"intent,omitempty"`
	Text    string `json:"text"`
	File    string `json:"file"` // inside the pack, with forward slashes
	Line    int    `json:"line"` // of the phrasing in File
	Changed bool   `json:"changed"`
}

// Stable codes of TeachError: the LAN API returns them, the dashboard and the command line show
// the message.
const (
	CodeReadOnly        = "content_read_only"    // the built-in demo, or a folder that cannot be written
	CodeInvalid         = "content_invalid"      // the pack has errors, or would have with the change
	CodeUnknownIntent   = "unknown_intent"       // no such intent in that language (and no response to create it)
	CodeIntentExists    = "intent_exists"        // a new intent's name is taken
	CodePhrasingTaken   = "phrasing_taken"       // the phrasing belongs to another intent or to out_of_scope
	CodeInvalidTeach    = "invalid_parameter"    // an empty or too long phrasing, a bad name, a missing field
	CodeUnsupportedLang = "unsupported_language" // not one of the pack's languages
)

// TeachError is a refusal of Apply, with a stable code and a message for the operator.
type TeachError struct {
	Code string
	Msg  string
}

func (e *TeachError) Error() string { return e.Msg }

func teachErr(code, format string, args ...any) error {
	return &TeachError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ReadOnlyHelp says how to make content editable; it ends every content_read_only message.
const ReadOnlyHelp = "make an editable copy with `voicebot content init DIR --from demo` (or the Content page's \"Make an editable copy\") and point the content setting at it (content: DIR in the settings file, or --content DIR)"

// ReadOnly is the refusal for content that cannot be taught: the built-in demo (source "")
// or a folder that cannot be written.
func ReadOnly(source string, why error) error {
	if source == "" {
		return teachErr(CodeReadOnly, "the built-in demo content is read-only: %s", ReadOnlyHelp)
	}
	return teachErr(CodeReadOnly, "the content folder %s cannot be written (%v): %s", source, why, ReadOnlyHelp)
}

// MaxTeachRunes bounds a taught phrasing (as the engine bounds an utterance).
const MaxTeachRunes = 1000

// CleanPhrasing trims a phrasing and folds its runs of white space (new lines included) into
// single spaces; other control characters are dropped.
func CleanPhrasing(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || r == utf8.RuneError:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Apply teaches the pack in the folder dir one phrasing: it inserts one line (or one intent)
// into the YAML file of the language, leaving every other byte of the file as it was, checks
// that the pack still loads, and replaces the file atomically. A phrasing the pack already has
// in the same place changes nothing (Edit.Changed is false).
func Apply(dir string, t Teach) (Edit, error) {
	t.Text = CleanPhrasing(t.Text)
	t.Intent = strings.TrimSpace(t.Intent)
	t.Response = strings.TrimSpace(t.Response)
	ed := Edit{Lang: t.Lang, Intent: t.Intent, Text: t.Text}
	switch {
	case t.Text == "" || len(text.Tokens(t.Text)) == 0:
		return ed, teachErr(CodeInvalidTeach, "the phrasing is empty: give the words a visitor says")
	case utf8.RuneCountInString(t.Text) > MaxTeachRunes:
		return ed, teachErr(CodeInvalidTeach, "the phrasing is longer than %d characters", MaxTeachRunes)
	case t.OutOfScope && (t.Intent != "" || t.Response != ""):
		return ed, teachErr(CodeInvalidTeach, "a phrasing that is not for this assistant has no intent or response")
	case !t.OutOfScope && t.Intent == "":
		return ed, teachErr(CodeInvalidTeach, "say which intent the phrasing is for (or that it is not for this assistant)")
	case !t.OutOfScope && !nameRe.MatchString(t.Intent):
		return ed, teachErr(CodeInvalidTeach, "intent name %q: start with a letter; use letters, digits, _ . and -", t.Intent)
	case t.Response != "" && utf8.RuneCountInString(t.Response) > 4*MaxTeachRunes:
		return ed, teachErr(CodeInvalidTeach, "the response is longer than %d characters", 4*MaxTeachRunes)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ed, teachErr(CodeReadOnly, "the content folder %s is not there: %s", dir, ReadOnlyHelp)
	}
	fsys := os.DirFS(dir)
	pack, err := Load(fsys, dir)
	if err != nil {
		return ed, teachErr(CodeInvalid, "the content has errors; fix them before teaching it: %v", err)
	}
	served, ok := pack.Bot.MatchLanguage(t.Lang)
	if !ok {
		return ed, teachErr(CodeUnsupportedLang, "language %q is not one of the content's languages %v", t.Lang, pack.Bot.Languages)
	}
	t.Lang = served // "es-MX" teaches the pack's es
	if done, err := alreadyThere(pack, t, &ed); done || err != nil {
		return ed, err
	}
	var file string
	var src, out []byte
	switch {
	case t.OutOfScope:
		ed.Action = ActionOutOfScope
		file, src, err = outOfScopeFile(fsys, pack, t.Lang)
		if err == nil {
			out, ed.Line, err = insertOutOfScope(src, t.Text)
		}
	case t.Response != "":
		ed.Action = ActionNewIntent
		if in := pack.intent(t.Lang, t.Intent); in != nil {
			return ed, teachErr(CodeIntentExists, "intent %q already exists in %s (%s:%d): teach the phrasing to it, or choose another name", t.Intent, t.Lang, in.File, in.Line)
		}
		file, src, err = newIntentFile(fsys, pack, t.Lang)
		if err == nil {
			out, ed.Line, err = insertIntent(src, t.Intent, t.Text, t.Response)
		}
	default:
		ed.Action = ActionExample
		in := pack.intent(t.Lang, t.Intent)
		if in == nil {
			return ed, teachErr(CodeUnknownIntent, "there is no intent %q in %s: give a response to create it", t.Intent, t.Lang)
		}
		file = in.File
		if src, err = fs.ReadFile(fsys, file); err == nil {
			out, ed.Line, err = insertExample(src, t.Intent, t.Text)
		}
	}
	if err != nil {
		return ed, err
	}
	ed.File = file
	if err := validate(fsys, dir, file, out); err != nil {
		return ed, err
	}
	if err := writeFile(dir, file, out); err != nil {
		return ed, err
	}
	ed.Changed = true
	return ed, nil
}

func (p *Pack) intent(lang, name string) *Intent {
	for _, in := range p.Intents[lang] {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// sameWords compares two phrasings as the engine reads them (folded words).
func sameWords(a, b string) bool {
	return strings.Join(text.Tokens(a), " ") == strings.Join(text.Tokens(b), " ")
}

// alreadyThere reports a phrasing the pack has in the same place (done, nothing to write), and
// refuses one another intent's example or template, or the out-of-scope list, already claims.
func alreadyThere(p *Pack, t Teach, ed *Edit) (bool, error) {
	for _, s := range p.OutOfScope[t.Lang] {
		if sameWords(s, t.Text) {
			if t.OutOfScope {
				ed.Action = ActionOutOfScope
				return true, nil
			}
			return false, teachErr(CodePhrasingTaken, "%q is in the %s out_of_scope list: remove it there first", t.Text, t.Lang)
		}
	}
	toks := text.Tokens(t.Text)
	for _, in := range p.Intents[t.Lang] {
		for _, ex := range in.Examples {
			if !sameWords(ex, t.Text) {
				continue
			}
			if in.Name == t.Intent && t.Response == "" {
				ed.Action, ed.File = ActionExample, in.File
				return true, nil
			}
			return false, teachErr(CodePhrasingTaken, "%q is already an example of intent %q (%s): remove it there first", t.Text, in.Name, in.File)
		}
		for _, tm := range in.Templates {
			if _, ok := tm.Match(toks, p.Lists[t.Lang]); ok && (in.Name != t.Intent || t.Response != "") {
				return false, teachErr(CodePhrasingTaken, "a template of intent %q (%s) matches %q exactly, and templates answer first: change that template", in.Name, in.File, t.Text)
			}
		}
	}
	return false, nil
}

// intentFiles lists the language's intents files in path order.
func intentFiles(fsys fs.FS, p *Pack, lang string) []string {
	var out []string
	for _, f := range p.Files {
		if f.Kind != "intents" {
			continue
		}
		b, err := fs.ReadFile(fsys, f.Path)
		if err != nil {
			continue
		}
		if root := rootMapping(b); root != nil {
			if v := mapValue(root, "language"); v != nil && v.Value == lang {
				out = append(out, f.Path)
			}
		}
	}
	return out
}

// outOfScopeFile is the file that gets a language's out-of-scope phrasings: the first with an
// out_of_scope list, else the first intents file of the language.
func outOfScopeFile(fsys fs.FS, p *Pack, lang string) (string, []byte, error) {
	files := intentFiles(fsys, p, lang)
	for _, f := range files {
		b, _ := fs.ReadFile(fsys, f)
		if mapValue(rootMapping(b), "out_of_scope") != nil {
			return f, b, nil
		}
	}
	if len(files) > 0 {
		b, err := fs.ReadFile(fsys, files[0])
		return files[0], b, err
	}
	return newLangFile(fsys, lang)
}

// newIntentFile is the file that gets a new intent: the first of the language with a block
// mapping of intents (or none yet), else a new intents/<lang>.yaml.
func newIntentFile(fsys fs.FS, p *Pack, lang string) (string, []byte, error) {
	for _, f := range intentFiles(fsys, p, lang) {
		b, _ := fs.ReadFile(fsys, f)
		v := mapValue(rootMapping(b), "intents")
		if v == nil || v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 || v.Tag == "!!null" {
			return f, b, nil
		}
	}
	return newLangFile(fsys, lang)
}

// newLangFile names a new intents file for a language that has none the teach can use.
func newLangFile(fsys fs.FS, lang string) (string, []byte, error) {
	for i := 1; ; i++ {
		name := "intents/" + lang + ".yaml"
		if i > 1 {
			name = fmt.Sprintf("intents/%s-%d.yaml", lang, i)
		}
		if _, err := fs.Stat(fsys, name); errors.Is(err, fs.ErrNotExist) {
			return name, []byte("language: " + lang + "\n"), nil
		}
	}
}

// validate loads the pack as it would be with file replaced by out.
func validate(fsys fs.FS, dir, file string, out []byte) error {
	m := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		if ignorable(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			m[p] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		return err
	}
	m[file] = &fstest.MapFile{Data: out}
	if _, err := Load(m, dir); err != nil {
		return teachErr(CodeInvalid, "the change would make the content invalid, so nothing was written: %v", err)
	}
	return nil
}

// writeFile replaces dir/file with b atomically (a hidden temporary file, which the watcher
// ignores, renamed over it), keeping the file's mode.
func writeFile(dir, file string, b []byte) error {
	dst := filepath.Join(dir, filepath.FromSlash(file))
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(dst); err == nil {
		mode = fi.Mode().Perm()
		f, err := os.OpenFile(dst, os.O_WRONLY, 0) // writable? (opening does not truncate)
		if err != nil {
			return readOnlyOr(dir, err)
		}
		f.Close()
	} else if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return readOnlyOr(dir, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".teach-*")
	if err != nil {
		return readOnlyOr(dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return readOnlyOr(dir, err)
	}
	return nil
}

func readOnlyOr(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return ReadOnly(dir, err)
	}
	return err
}

// Writable reports why the folder dir cannot be taught ("" source: the built-in demo), or nil.
func Writable(dir string) error {
	if dir == "" {
		return ReadOnly("", nil)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return teachErr(CodeReadOnly, "the content folder %s is not there: %s", dir, ReadOnlyHelp)
	}
	f, err := os.CreateTemp(dir, ".voicebot-write-check-*")
	if err != nil {
		return ReadOnly(dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// --- YAML, edited as text ---------------------------------------------------------------------
//
// The YAML is parsed into nodes only to find where things are; the change is one inserted line
// (or block) at a line boundary, or an insertion inside a flow list, so that every other byte of
// the file (comments, blank lines, quoting, order) stays as the operator wrote it.

func rootMapping(b []byte) *yaml.Node {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return doc.Content[0]
}

// mapEntry returns the key and value nodes of key in a mapping.
func mapEntry(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	_, v := mapEntry(m, key)
	return v
}

// lines indexes a file's lines (1-based).
type lines struct {
	src    []byte
	starts []int
	eol    string
}

func newLines(src []byte) *lines {
	l := &lines{src: src, starts: []int{0}, eol: "\n"}
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			l.starts = append(l.starts, i+1)
		}
	}
	if bytes.Contains(src, []byte("\r\n")) {
		l.eol = "\r\n"
	}
	return l
}

func (l *lines) count() int { return len(l.starts) }

func (l *lines) text(n int) []byte {
	end := len(l.src)
	if n < len(l.starts) {
		end = l.starts[n]
	}
	return bytes.TrimRight(l.src[l.starts[n-1]:end], "\r\n")
}

// after is the offset just past line n's end of line (the end of the file for the last line).
func (l *lines) after(n int) int {
	if n < len(l.starts) {
		return l.starts[n]
	}
	return len(l.src)
}

// offset is the byte offset of a node's line and column (yaml counts columns in characters).
func (l *lines) offset(line, col int) int {
	off := l.starts[line-1]
	for c := 1; c < col && off < len(l.src); c++ {
		_, n := utf8.DecodeRune(l.src[off:])
		off += n
	}
	return off
}

// indent is the number of leading spaces of line n, and whether the line is blank.
func (l *lines) indent(n int) (int, bool) {
	t := l.text(n)
	i := 0
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i, i == len(t)
}

// blockEnd is the last line of the block that starts on line from and whose lines are indented
// more than k: every non-blank line after from indented deeper belongs to it (continuations,
// nested keys, block scalars); the first non-blank line at k or less ends it. Blank lines at its
// end are not part of it.
func (l *lines) blockEnd(from, k int) int {
	last := from
	for n := from + 1; n <= l.count(); n++ {
		ind, blank := l.indent(n)
		if blank {
			continue
		}
		if ind <= k {
			break
		}
		last = n
	}
	return last
}

// insertLines inserts text (whole lines, each ending in "\n") after line n and returns the new
// file and the number of the first inserted line.
func (l *lines) insertLines(n int, block string) ([]byte, int) {
	at := l.after(n)
	var out bytes.Buffer
	out.Grow(len(l.src) + len(block) + 2)
	out.Write(l.src[:at])
	if at == len(l.src) && len(l.src) > 0 && l.src[len(l.src)-1] != '\n' {
		out.WriteString(l.eol) // the file's last line had no end of line
	}
	out.WriteString(strings.ReplaceAll(block, "\n", l.eol))
	out.Write(l.src[at:])
	return out.Bytes(), n + 1
}

// quote writes a phrasing as a double-quoted YAML scalar (JSON's string syntax is YAML's).
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimRight(b.String(), "\n")
}

// appendToList adds a quoted phrasing at the end of the list value v (whose key is k): a block
// list gets a line after its last item, a flow list gets ", phrasing" before its ']', a single
// text becomes a flow list of two, an empty value gets a block list.
func appendToList(l *lines, k, v *yaml.Node, phrase string) ([]byte, int, error) {
	q := quote(phrase)
	switch {
	case v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0:
		dash := v.Column - 1
		last := v.Content[len(v.Content)-1]
		// the last item's "-" is on its own line or on the item's first line
		end := l.blockEnd(max(last.Line, v.Line), dash)
		out, at := l.insertLines(end, strings.Repeat(" ", dash)+"- "+q+"\n")
		return out, at, nil
	case v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle != 0:
		open := l.offset(v.Line, v.Column)
		closeAt, err := flowEnd(l.src, open)
		if err != nil {
			return nil, 0, err
		}
		ins := q
		if len(v.Content) > 0 {
			ins = ", " + q
		}
		// before trailing spaces and new lines inside the brackets, so ", x" follows the last item
		at := closeAt
		for at > open+1 && (l.src[at-1] == ' ' || l.src[at-1] == '\n' || l.src[at-1] == '\r' || l.src[at-1] == '\t') {
			at--
		}
		if len(v.Content) > 0 && l.src[at-1] == ',' { // a trailing comma: [a, b, ]
			ins = " " + q
		}
		out := append(append(append([]byte{}, l.src[:at]...), ins...), l.src[at:]...)
		return out, 1 + bytes.Count(l.src[:at], []byte("\n")), nil
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null" && (v.Line == k.Line):
		ind := k.Column - 1 + 2
		out, at := l.insertLines(k.Line, strings.Repeat(" ", ind)+"- "+q+"\n")
		return out, at, nil
	case v.Kind == yaml.ScalarNode && (v.Style == yaml.DoubleQuotedStyle || v.Style == yaml.SingleQuotedStyle || v.Style == 0):
		start := l.offset(v.Line, v.Column)
		end, err := scalarEnd(l.src, start, v.Style)
		if err != nil {
			return nil, 0, err
		}
		old := string(l.src[start:end])
		out := append(append(append([]byte{}, l.src[:start]...), "["+old+", "+q+"]"...), l.src[end:]...)
		return out, v.Line, nil
	}
	return nil, 0, teachErr(CodeInvalid, "line %d: the list is written in a way the teach cannot extend (a block text?): add the phrasing by hand", v.Line)
}

// flowEnd finds the ']' that closes the flow list opening at src[open] ('['), skipping quoted
// text and nested brackets.
func flowEnd(src []byte, open int) (int, error) {
	depth := 0
	for i := open; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(src); i++ {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') { // a comment inside a multi-line flow list
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, teachErr(CodeInvalid, "a flow list is not closed")
}

// scalarEnd finds the end of a one-line scalar starting at src[start].
func scalarEnd(src []byte, start int, style yaml.Style) (int, error) {
	i := start
	switch style {
	case yaml.DoubleQuotedStyle:
		for i++; i < len(src) && src[i] != '"'; i++ {
			if src[i] == '\\' {
				i++
			}
		}
		return i + 1, nil
	case yaml.SingleQuotedStyle:
		for i++; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
		return 0, teachErr(CodeInvalid, "a quoted text is not closed")
	}
	end := bytes.IndexAny(src[start:], "\r\n")
	if end < 0 {
		end = len(src) - start
	}
	line := src[start : start+end]
	if c := bytes.Index(line, []byte(" #")); c >= 0 {
		line = line[:c]
	}
	return start + len(bytes.TrimRight(line, " \t")), nil
}

// intentsNode finds the intents mapping of a file and an intent's key and value in it.
func intentNode(src []byte, name string) (*yaml.Node, *yaml.Node, error) {
	root := rootMapping(src)
	k, v := mapEntry(mapValue(root, "intents"), name)
	if k == nil {
		return nil, nil, teachErr(CodeUnknownIntent, "intent %q is not in the file", name)
	}
	return k, v, nil
}

// insertExample adds a phrasing to an intent's examples.
func insertExample(src []byte, intent, phrase string) ([]byte, int, error) {
	l := newLines(src)
	ik, iv, err := intentNode(src, intent)
	if err != nil {
		return nil, 0, err
	}
	if ek, ev := mapEntry(iv, "examples"); ek != nil {
		return appendToList(l, ek, ev, phrase)
	}
	if iv.Kind != yaml.MappingNode || iv.Style&yaml.FlowStyle != 0 {
		return nil, 0, teachErr(CodeInvalid, "line %d: intent %q is written on one line ({...}): add the example by hand", ik.Line, intent)
	}
	// No examples yet: an examples list after the templates (or first in the intent).
	keyIndent := iv.Column - 1
	after := ik.Line
	if tk, _ := mapEntry(iv, "templates"); tk != nil {
		after = l.blockEnd(tk.Line, keyIndent)
	}
	pad := strings.Repeat(" ", keyIndent)
	out, at := l.insertLines(after, pad+"examples:\n"+pad+strings.Repeat(" ", listIndent(src))+"- "+quote(phrase)+"\n")
	return out, at + 1, nil
}

// listIndent is how far the file indents a block list under its key (2 when it has none).
func listIndent(src []byte) int {
	root := rootMapping(src)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if ind, ok := findListIndent(root.Content[i], root.Content[i+1]); ok {
			return ind
		}
	}
	return 2
}

func findListIndent(k, v *yaml.Node) (int, bool) {
	if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && v.Line > k.Line {
		return max(0, v.Column-k.Column), true
	}
	if v.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(v.Content); i += 2 {
			if ind, ok := findListIndent(v.Content[i], v.Content[i+1]); ok {
				return ind, true
			}
		}
	}
	return 0, false
}

// insertIntent adds a new intent at the end of the file's intents (creating intents: when the
// file has none), with the phrasing as its only example.
func insertIntent(src []byte, name, phrase, response string) ([]byte, int, error) {
	l := newLines(src)
	root := rootMapping(src)
	if root == nil {
		return nil, 0, teachErr(CodeInvalid, "the intents file is not a mapping")
	}
	li := listIndent(src)
	body := func(keyIndent, sub int) string {
		p, q := strings.Repeat(" ", keyIndent), strings.Repeat(" ", keyIndent+sub)
		return p + name + ":\n" +
			q + "examples:\n" + q + strings.Repeat(" ", li) + "- " + quote(phrase) + "\n" +
			q + "responses:\n" + q + strings.Repeat(" ", li) + "- " + quote(response) + "\n"
	}
	k, v := mapEntry(root, "intents")
	switch {
	case k == nil:
		last := len(root.Content) - 2
		end := l.blockEnd(root.Content[last].Line, 0)
		out, at := l.insertLines(end, "\nintents:\n"+body(2, 2))
		return out, at + 4, nil
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		out, at := l.insertLines(k.Line, body(k.Column-1+2, 2))
		return out, at + 2, nil
	case v.Kind != yaml.MappingNode || v.Style&yaml.FlowStyle != 0:
		return nil, 0, teachErr(CodeInvalid, "line %d: the intents are written on one line ({...}): add the intent by hand", k.Line)
	}
	keyIndent := v.Column - 1
	lastKey, lastVal := v.Content[len(v.Content)-2], v.Content[len(v.Content)-1]
	sub := 2
	if lastVal.Kind == yaml.MappingNode && lastVal.Line > lastKey.Line {
		sub = lastVal.Column - lastKey.Column
	}
	end := l.blockEnd(lastKey.Line, keyIndent)
	sep := ""
	if _, blank := l.indent(max(1, lastKey.Line-1)); blank && lastKey.Line > 1 {
		sep = "\n" // the file separates intents with a blank line
	}
	out, at := l.insertLines(end, sep+body(keyIndent, sub))
	if sep != "" {
		at++
	}
	return out, at + 2, nil
}

// insertOutOfScope adds a phrasing to the file's out_of_scope list, creating the list at the end
// of the file when there is none.
func insertOutOfScope(src []byte, phrase string) ([]byte, int, error) {
	l := newLines(src)
	root := rootMapping(src)
	if root == nil {
		return nil, 0, teachErr(CodeInvalid, "the intents file is not a mapping")
	}
	if k, v := mapEntry(root, "out_of_scope"); k != nil {
		return appendToList(l, k, v, phrase)
	}
	block := "\n# Phrasings that are not for this assistant: the intent model learns to leave them to the\n" +
		"# documents and the fallback (added by the teach loop; edit freely).\n" +
		"out_of_scope:\n" + strings.Repeat(" ", listIndent(src)) + "- " + quote(phrase) + "\n"
	out, at := l.insertLines(l.count(), block)
	return out, at + 4, nil
}
