// Package strictyaml decodes a YAML file into typed structs, strictly: a key the struct has no
// field for is refused (Decoder.KnownFields), a value of the wrong shape (a mapping where a list
// belongs, a list where text belongs) is refused, and every error has its line and names the
// value by its path in the file ("intents.hours.templates[2] must be text"). The content pack's
// files and the settings file are read with it.
//
// The value types here (Text, Texts, Number, Flag, Mapping, Ordered, List, PerKey) check their
// shape. Those that hold structs use the form of UnmarshalYAML that decodes through the same
// decoder, so that KnownFields reaches every struct of the file: yaml.Node.Decode starts a
// decoder of its own, without it.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind is what an Error is about.
type Kind int

const (
	Value      Kind = iota // a value of the wrong shape or type, or a key given twice
	Syntax                 // the file is not YAML; nothing was decoded
	NotMapping             // the document is not a mapping of keys to values
	UnknownKey             // a key the struct has no field for
)

// Error is one problem in a file.
type Error struct {
	Line  int // in the file; 0 when unknown
	Msg   string
	Kind  Kind
	Key   string   // UnknownKey: the key
	In    string   // UnknownKey: what the mapping is called (Names)
	Known []string // UnknownKey: the keys of the mapping, in the struct's order
}

// Errors are the problems of one file, in line order.
type Errors []Error

// Names says what messages call the mappings decoded into struct types, for unknown keys:
// "thresholds", or "intent {key}" where {key} is the key the mapping sits under.
type Names map[reflect.Type]string

// Decode reads the first YAML document of b into v, a pointer to a struct. firstLine is the line
// of the file that b starts at (1 unless b is a part of a file, such as a front matter). It
// returns the document's root node (nil when b holds no document) and the problems found; a
// syntax error or a document that is not a mapping is the only problem reported. Lines are the
// file's, in the errors and in the nodes.
func Decode(b []byte, v any, names Names, firstLine int) (*yaml.Node, Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	shift := firstLine - 1
	r := &root{v: v, shift: shift}
	err := dec.Decode(r)
	if errors.Is(err, io.EOF) || r.node == nil && err == nil {
		return nil, nil
	}
	if r.notMapping {
		return r.node, Errors{{Line: r.node.Line, Kind: NotMapping, Msg: "not a mapping of keys to values"}}
	}
	var te *yaml.TypeError
	if err != nil && !errors.As(err, &te) {
		line, msg := syntaxLine(err)
		if line > 0 {
			line += shift
		}
		return nil, Errors{{Line: line, Kind: Syntax, Msg: msg}}
	}
	errs := r.dups
	if te != nil {
		t := translator{root: r.node, names: names}
		for _, s := range te.Errors {
			errs = append(errs, t.translate(s))
		}
	}
	slices.SortStableFunc(errs, func(a, b Error) int { return a.Line - b.Line })
	return r.node, errs
}

// tidy moves the nodes' lines by shift and takes out the later of two equal keys of a mapping,
// with an error: the decoder would refuse the whole mapping, and report nothing else in it.
func (r *root) tidy(n *yaml.Node, path []string) {
	n.Line += r.shift
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			// A null key (`null: x`, `~: x`, an empty key) is skipped by the decoder without a
			// word, even with KnownFields: it is a key the struct has no field for.
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!null" {
				msg := fmt.Sprintf("a key with no name (%q is null in YAML): write the key's name", k.Value)
				if len(path) > 0 {
					msg = strings.Join(path, ".") + ": " + msg
				}
				r.dups = append(r.dups, Error{Line: k.Line + r.shift, Msg: msg})
				n.Content = slices.Delete(n.Content, i, i+2)
				i -= 2
				continue
			}
			for j := 0; j < i; j += 2 {
				if a, b := n.Content[j], n.Content[i]; a.Kind == b.Kind && a.Value == b.Value {
					msg := fmt.Sprintf("%q is defined twice (first at line %d)", b.Value, a.Line+r.shift)
					if len(path) > 0 {
						msg = strings.Join(path, ".") + ": " + msg
					}
					r.dups = append(r.dups, Error{Line: b.Line + r.shift, Msg: msg})
					n.Content = slices.Delete(n.Content, i, i+2)
					i -= 2
					break
				}
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			n.Content[i].Line += r.shift
			r.tidy(n.Content[i+1], append(path, n.Content[i].Value))
		}
		return
	}
	for _, c := range n.Content {
		r.tidy(c, path)
	}
}

// NodeOf returns the node that unmarshal decodes, inside an UnmarshalYAML(func(any) error):
// that form decodes through the file's decoder, so that KnownFields reaches the structs it
// decodes, but it is not given the node itself.
func NodeOf(unmarshal func(any) error) (*yaml.Node, error) {
	var h nodeHolder
	err := unmarshal(&h)
	return h.n, err
}

type nodeHolder struct{ n *yaml.Node }

func (h *nodeHolder) UnmarshalYAML(n *yaml.Node) error {
	h.n = n
	return nil
}

// root keeps the document's root node next to the decoded value.
type root struct {
	node       *yaml.Node
	v          any
	shift      int // added to every line
	notMapping bool
	dups       Errors
}

func (r *root) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := NodeOf(unmarshal)
	if err != nil {
		return err
	}
	r.node = n
	r.tidy(n, nil)
	if n.Kind != yaml.MappingNode {
		r.notMapping = true
		return nil
	}
	return unmarshal(r.v)
}

func syntaxLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, msg
}

// Errorf is the error of a value of the wrong shape at n. Decode names the value in front of
// the message: Errorf(n, "must be text") becomes "intents.hours.confirm must be text".
func Errorf(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{at(n, fmt.Sprintf(format, args...))}}
}

func at(n *yaml.Node, msg string) string {
	return fmt.Sprintf("line %d: column %d: %s", n.Line, n.Column, msg)
}

var (
	atRe      = regexp.MustCompile(`^line (\d+): column (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^line (\d+): field (.*) not found in type (\S+)$`)
	lineRe    = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// translator turns the decoder's messages into Errors, naming values by their path.
type translator struct {
	root  *yaml.Node
	names Names
	// where values and keys are: a value's path by its position; for a key (by its line and
	// text), the path of the mapping that holds it and the key that mapping sits under
	values map[[2]int]string
	keys   map[keyAt]mappingOf
}

type keyAt struct {
	line int
	key  string
}

type mappingOf struct{ path, under string }

func (t *translator) index() {
	if t.values != nil {
		return
	}
	t.values, t.keys = map[[2]int]string{}, map[keyAt]mappingOf{}
	var walk func(n *yaml.Node, path, under string)
	walk = func(n *yaml.Node, path, under string) {
		pos := [2]int{n.Line, n.Column}
		if _, seen := t.values[pos]; !seen {
			t.values[pos] = path
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if _, seen := t.keys[keyAt{k.Line, k.Value}]; !seen {
					t.keys[keyAt{k.Line, k.Value}] = mappingOf{path, under}
				}
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				walk(n.Content[i+1], p, k.Value)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i), "")
			}
		}
	}
	walk(t.root, "", "")
}

func (t *translator) translate(s string) Error {
	if m := atRe.FindStringSubmatch(s); m != nil {
		t.index()
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		msg := m[3]
		if path := t.values[[2]int{line, col}]; path != "" {
			msg = path + " " + msg
		}
		return Error{Line: line, Msg: msg}
	}
	if m := unknownRe.FindStringSubmatch(s); m != nil {
		t.index()
		line, _ := strconv.Atoi(m[1])
		e := Error{Line: line, Kind: UnknownKey, Key: m[2]}
		in := t.keys[keyAt{line, m[2]}]
		e.In = in.path
		for typ, name := range t.names {
			if typ.String() == m[3] {
				e.Known = fieldNames(typ)
				e.In = strings.TrimSpace(strings.ReplaceAll(name, "{key}", in.under))
			}
		}
		if e.In == "" {
			e.In = "the file"
		}
		e.Msg = fmt.Sprintf("unknown key %q in %s", e.Key, e.In)
		if len(e.Known) > 0 {
			e.Msg += fmt.Sprintf(" (expected one of: %s)", strings.Join(e.Known, ", "))
		}
		return e
	}
	if m := lineRe.FindStringSubmatch(s); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Error{Line: line, Msg: m[2]}
	}
	return Error{Msg: s}
}

// fieldNames lists the yaml keys of a struct type in its order.
func fieldNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// typeErrors joins the errors of several values into one error for the decoder to collect.
func typeErrors(errs []string) error {
	if len(errs) == 0 {
		return nil
	}
	return &yaml.TypeError{Errors: errs}
}

// Text is a scalar value. A null value leaves it unset (Line 0).
type Text struct {
	V    string
	Line int
}

func (x *Text) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return Errorf(n, "must be text")
	}
	x.V, x.Line = n.Value, n.Line
	return nil
}

// Texts is a list of texts, or one text for a list of one. A mapping is refused.
type Texts struct {
	V     []string
	Lines []int // of each text
	Line  int
}

func (x *Texts) UnmarshalYAML(n *yaml.Node) error {
	x.Line = n.Line
	items := []*yaml.Node{n}
	switch {
	case n.Kind == yaml.SequenceNode:
		items = n.Content
	case n.Kind != yaml.ScalarNode:
		return Errorf(n, "must be a list of texts")
	}
	var errs []string
	for _, c := range items {
		if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
			errs = append(errs, at(c, "must be text"))
			continue
		}
		x.V = append(x.V, c.Value)
		x.Lines = append(x.Lines, c.Line)
	}
	return typeErrors(errs)
}

// Number is a number.
type Number struct {
	V    float64
	Line int
}

func (x *Number) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Decode(&x.V) != nil {
		return Errorf(n, "must be a number")
	}
	x.Line = n.Line
	return nil
}

// Flag is true or false.
type Flag struct {
	V    bool
	Line int
}

func (x *Flag) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Decode(&x.V) != nil {
		return Errorf(n, "must be true or false")
	}
	x.Line = n.Line
	return nil
}

// Mapping is a struct T given as a mapping of its keys (anything else is refused); Line is
// where. Unknown keys are refused as in the rest of the file.
type Mapping[T any] struct {
	V      T
	Line   int
	Failed bool // some of it did not decode (the errors are reported)
}

func (x *Mapping[T]) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := NodeOf(unmarshal)
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return Errorf(n, "must be a mapping of keys to values")
	}
	x.Line = n.Line
	err = unmarshal(&x.V)
	x.Failed = err != nil
	return err
}

// Entry is one key of an Ordered mapping, with its line.
type Entry[T any] struct {
	Key  string
	Line int
	V    T
}

// Ordered is a mapping of names to values, in the file's order. A key given twice is refused.
type Ordered[T any] []Entry[T]

func (x *Ordered[T]) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := NodeOf(unmarshal)
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return Errorf(n, "must be a mapping of keys to values")
	}
	var m map[string]*kept[T]
	errs, err := collect(nil, unmarshal(&m))
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		e := Entry[T]{Key: k.Value, Line: k.Line}
		if v := m[k.Value]; v != nil {
			e.V = v.v
			if errs, err = collect(errs, v.err); err != nil {
				return err
			}
		}
		*x = append(*x, e)
	}
	return typeErrors(errs)
}

// kept decodes a value of a map or a list whose decoding has errors: the decoder would leave it
// out, and the checks that follow would report that something is missing. A null value decodes
// to a nil *kept, which a map or a list keeps (a null struct would be left out of a list too).
type kept[T any] struct {
	v   T
	err error
}

func (k *kept[T]) UnmarshalYAML(unmarshal func(any) error) error {
	k.err = unmarshal(&k.v)
	var te *yaml.TypeError
	if errors.As(k.err, &te) {
		// the messages share their array with the decoder's, which the values after this
		// one append to
		k.err = &yaml.TypeError{Errors: slices.Clone(te.Errors)}
	}
	return nil
}

// collect adds the messages of a TypeError to errs; any other error is returned as it is.
func collect(errs []string, err error) ([]string, error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return append(errs, te.Errors...), nil
	}
	return errs, err
}

// List is a list of T. A mapping or a single value is refused.
type List[T any] struct {
	V     []T
	Lines []int // of each value
	Line  int
}

func (x *List[T]) UnmarshalYAML(unmarshal func(any) error) error {
	return x.decode(unmarshal, false)
}

// LineOf is the line of the i-th value (of the list when that is not known).
func (x *List[T]) LineOf(i int) int {
	if i < len(x.Lines) {
		return x.Lines[i]
	}
	return x.Line
}

// OneOrList is a List where a single value stands for a list of one.
type OneOrList[T any] struct{ List[T] }

func (x *OneOrList[T]) UnmarshalYAML(unmarshal func(any) error) error {
	return x.decode(unmarshal, true)
}

func (x *List[T]) decode(unmarshal func(any) error, one bool) error {
	n, err := NodeOf(unmarshal)
	if err != nil {
		return err
	}
	x.Line = n.Line
	switch {
	case n.Kind == yaml.SequenceNode:
		var items []*kept[T]
		errs, err := collect(nil, unmarshal(&items))
		if err != nil {
			return err
		}
		for i, c := range n.Content {
			var v T
			if i < len(items) && items[i] != nil {
				v = items[i].v
				if errs, err = collect(errs, items[i].err); err != nil {
					return err
				}
			}
			x.V, x.Lines = append(x.V, v), append(x.Lines, c.Line)
		}
		return typeErrors(errs)
	case n.Kind == yaml.ScalarNode && one:
		var v T
		err := unmarshal(&v)
		x.V, x.Lines = []T{v}, []int{n.Line}
		return err
	}
	return Errorf(n, `must be a list: start each item with "- "`)
}

// PerKey is either one value for every key (of a set the caller knows, such as languages) or a
// mapping of keys to values.
type PerKey[T any] struct {
	All    *T
	ByKey  Ordered[T]
	Line   int
	Mapped bool
}

func (x *PerKey[T]) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := NodeOf(unmarshal)
	if err != nil {
		return err
	}
	x.Line = n.Line
	if n.Kind == yaml.MappingNode {
		x.Mapped = true
		return unmarshal(&x.ByKey)
	}
	x.All = new(T)
	return unmarshal(x.All)
}
