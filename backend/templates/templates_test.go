package templates

import (
	"reflect"
	"strings"
	"testing"

	"voicebot/backend/text"
)

func lists() Lists {
	return Lists{
		"day": {
			{Value: "sunday", Phrases: [][]string{{"sunday"}, {"sundays"}}},
			{Value: "monday", Phrases: [][]string{{"monday"}}},
		},
		"place": {
			{Value: "cafe", Phrases: [][]string{{"cafe"}, {"coffee", "shop"}}},
		},
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		tmpl, utt string
		ok        bool
		slots     map[string]string
	}{
		{"(what are|when are) [the] opening hours [on {day}]", "What are the opening hours?", true, map[string]string{}},
		{"(what are|when are) [the] opening hours [on {day}]", "when are opening hours on Sundays", true, map[string]string{"day": "sunday"}},
		{"(what are|when are) [the] opening hours [on {day}]", "what are the opening hours on tuesday", false, nil},
		{"where is the {place:dest}", "where is the coffee shop", true, map[string]string{"dest": "cafe"}},
		{"¿Cuál es el horario?", "cual es el HORARIO", true, map[string]string{}},
		{"[please] open [(the|a)] door", "open door", true, map[string]string{}},
		{"open (the|)door", "open door", true, map[string]string{}},
	}
	for _, c := range cases {
		tm, err := Parse(c.tmpl)
		if err != nil {
			t.Fatalf("%q: %v", c.tmpl, err)
		}
		slots, ok := tm.Match(text.Tokens(c.utt), lists())
		if ok != c.ok || (ok && !reflect.DeepEqual(slots, c.slots)) {
			t.Errorf("%q ~ %q = %v %v, want %v %v", c.tmpl, c.utt, slots, ok, c.slots, c.ok)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := map[string]string{
		"(open|close hours": "never closed",
		"open) hours":       "without a matching opening",
		"open {day hours":   "without a closing",
		"open {} hours":     "bad slot reference",
		"()":                "empty group",
		"what <rule>":       "not supported",
		"...":               "no words",
		"open [the] hours}": "without a matching '{'",
		"a (b|c] d":         "expected",
	}
	for src, want := range cases {
		_, err := Parse(src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", src, err, want)
		}
	}
}

func TestExpand(t *testing.T) {
	tm, _ := Parse("(what are|when are) [the] hours [on {day}]")
	got := tm.Expand(lists(), 100, 1)
	if len(got) != 2*2*(1+3) {
		t.Fatalf("got %d sentences: %v", len(got), got)
	}
	for _, s := range got {
		if _, ok := tm.Match(strings.Fields(s), lists()); !ok {
			t.Errorf("expansion %q does not match its own template", s)
		}
	}
	if n := len(tm.Expand(lists(), 5, 1)); n != 5 {
		t.Errorf("limit: got %d", n)
	}
}

func TestGrammar(t *testing.T) {
	tp, err := Parse("(what time|when) does it open [on] {day:day} [please]")
	if err != nil {
		t.Fatal(err)
	}
	got := tp.Grammar(func(r SlotRef) string { return "<" + r.List + ">" })
	if want := "( what time | when ) does it open [ on ] <day> [ please ]"; got != want {
		t.Fatalf("grammar %q, want %q", got, want)
	}
}

func TestWords(t *testing.T) {
	tp, err := Parse("(What time|when) does it OPEN [on] {day:day} [please|(thank you)]")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"what", "time", "when", "does", "it", "open", "on", "please", "thank", "you"}
	if got := tp.Words(); !reflect.DeepEqual(got, want) {
		t.Fatalf("words %q, want %q", got, want)
	}
}
