package strictyaml

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type item struct {
	Name Text  `yaml:"name"`
	Tags Texts `yaml:"tags"`
}

type doc struct {
	Title Text                   `yaml:"title"`
	Items Ordered[Mapping[item]] `yaml:"items"`
	List  List[Mapping[item]]    `yaml:"list"`
	Per   PerKey[Texts]          `yaml:"per"`
}

var docNames = Names{reflect.TypeFor[doc](): "the doc", reflect.TypeFor[item](): "item {key}"}

func decode(t *testing.T, src string, firstLine int) (*doc, []string) {
	t.Helper()
	var d doc
	_, errs := Decode([]byte(src), &d, docNames, firstLine)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, strings.TrimSpace(strings.Join([]string{itoa(e.Line), e.Msg}, ": ")))
	}
	return &d, msgs
}

func itoa(n int) string { return fmt.Sprintf("%02d", n) }

// Every error of every value is reported, each at its own line and named by its path; values
// with errors are kept in their mapping or list; unknown keys are refused inside Ordered, List and
// Mapping (KnownFields reaches them); a key given twice is reported and the rest still decodes.
func TestDecodeReportsEveryError(t *testing.T) {
	src := `title: T
items:
  a: {name: [x], tags: {k: v}}
  b:
    name: B
    colour: red
  c: plain
list:
  - name: L
    tags: [one, [two]]
  - {nmae: M}
  -
per: {en: [a], es: b}
title: again
`
	d, msgs := decode(t, src, 1)
	want := []string{
		"03: items.a.name must be text",
		"03: items.a.tags must be a list of texts",
		`06: unknown key "colour" in item b (expected one of: name, tags)`,
		"07: items.c must be a mapping of keys to values",
		"10: list[0].tags[1] must be text",
		`11: unknown key "nmae" in item (expected one of: name, tags)`,
		`14: "title" is defined twice (first at line 1)`,
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if len(d.Items) != 3 || d.Items[1].Key != "b" || d.Items[1].Line != 4 || d.Items[1].V.V.Name.V != "B" || !d.Items[0].V.Failed {
		t.Errorf("items %+v", d.Items)
	}
	if len(d.List.V) != 3 || d.List.V[0].V.Name.V != "L" || d.List.LineOf(2) != 12 || d.Title.V != "T" {
		t.Errorf("list %+v title %q", d.List, d.Title.V)
	}
	if !d.Per.Mapped || len(d.Per.ByKey) != 2 || d.Per.ByKey[1].V.V[0] != "b" {
		t.Errorf("per %+v", d.Per)
	}
}

func TestDecodeShapesOfTheFile(t *testing.T) {
	if _, msgs := decode(t, "title: [unclosed\n", 1); len(msgs) != 1 || !strings.HasPrefix(msgs[0], "01: ") {
		t.Errorf("syntax: %v", msgs)
	}
	var d doc
	if root, errs := Decode([]byte("- a\n"), &d, docNames, 1); root == nil || len(errs) != 1 || errs[0].Kind != NotMapping {
		t.Errorf("a list: %v", errs)
	}
	for _, empty := range []string{"", "# only a comment\n", "---\n"} {
		if root, errs := Decode([]byte(empty), &d, docNames, 1); root != nil || errs != nil {
			t.Errorf("%q: %v %v", empty, root, errs)
		}
	}
	// a part of a file (a front matter from line 2): the lines are the file's
	if _, msgs := decode(t, "title: T\ncolour: red\n", 2); len(msgs) != 1 || msgs[0] != `03: unknown key "colour" in the doc (expected one of: title, items, list, per)` {
		t.Errorf("shifted: %v", msgs)
	}
	if _, msgs := decode(t, "per: {en: [a]}\nlist: {name: x}\n", 1); len(msgs) != 1 || msgs[0] != `02: list must be a list: start each item with "- "` {
		t.Errorf("a mapping for a list: %v", msgs)
	}
}
