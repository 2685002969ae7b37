package content

import (
	"reflect"

	"go.yaml.in/yaml/v3"

	sy "voicebot/backend/internal/strictyaml"
)

// The shapes of the pack's YAML: bot.yaml, an intents file and a document's front matter. They
// are decoded strictly (backend/internal/strictyaml): a key not listed here, or a value of
// another shape (a mapping where a list belongs), is an error with its line; what the values
// mean is checked by the loader.

type botFile struct {
	Name            sy.Text                `yaml:"name"`
	Languages       sy.Texts               `yaml:"languages"`
	DefaultLanguage sy.Text                `yaml:"default_language"`
	Greeting        sy.PerKey[sy.Text]     `yaml:"greeting"`
	Fallback        sy.PerKey[sy.Texts]    `yaml:"fallback"`
	Handoff         sy.PerKey[sy.Text]     `yaml:"handoff"`
	Repair          sy.PerKey[sy.Text]     `yaml:"repair"`
	RepairOffer     sy.PerKey[sy.Text]     `yaml:"repair_offer"`
	HandoffAfter    sy.Number              `yaml:"handoff_after"`
	Suggestions     sy.PerKey[sy.Texts]    `yaml:"suggestions"`
	Thresholds      sy.Mapping[thresholds] `yaml:"thresholds"`
}

type thresholds struct {
	Intent         sy.Number `yaml:"intent"`
	KnowledgeMatch sy.Number `yaml:"knowledge_match"`
	KnowledgeScore sy.Number `yaml:"knowledge_score"`
}

type intentsFile struct {
	Language   sy.Text                           `yaml:"language"`
	Lists      sy.Ordered[listDef]               `yaml:"lists"`
	Intents    sy.Ordered[sy.Mapping[intentDef]] `yaml:"intents"`
	OutOfScope sy.Texts                          `yaml:"out_of_scope"`
}

type intentDef struct {
	Templates sy.Texts                  `yaml:"templates"`
	Examples  sy.Texts                  `yaml:"examples"`
	Slots     sy.Ordered[slotDef]       `yaml:"slots"`
	Responses sy.OneOrList[responseDef] `yaml:"responses"`
	Confirm   sy.Text                   `yaml:"confirm"`
	Cancelled sy.Text                   `yaml:"cancelled"`
}

// slotDef is a slot: the name of its list, or a mapping of list, required and prompt.
type slotDef struct {
	slotFields
	scalar bool
}

type slotFields struct {
	List     sy.Text `yaml:"list"`
	Required sy.Flag `yaml:"required"`
	Prompt   sy.Text `yaml:"prompt"`
}

func (s *slotDef) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := sy.NodeOf(unmarshal)
	if err != nil {
		return err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		s.List, s.scalar = sy.Text{V: n.Value, Line: n.Line}, true
		return nil
	case yaml.MappingNode:
		return unmarshal(&s.slotFields)
	}
	return sy.Errorf(n, "must be the name of a list, or a mapping of list, required and prompt")
}

// responseDef is a response: its text, or a mapping of text and when.
type responseDef struct {
	responseFields
	Line int
}

type responseFields struct {
	Text sy.Text             `yaml:"text"`
	When sy.Ordered[sy.Text] `yaml:"when"`
}

func (r *responseDef) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := sy.NodeOf(unmarshal)
	if err != nil {
		return err
	}
	r.Line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		r.Text = sy.Text{V: n.Value, Line: n.Line}
		return nil
	case yaml.MappingNode:
		return unmarshal(&r.responseFields)
	}
	return sy.Errorf(n, "must be a text, or a mapping of text and when")
}

// listDef is a slot list: a list of values, or a mapping with values.
type listDef struct {
	Values  sy.List[valueDef]
	Line    int
	mapping bool
}

type listFields struct {
	Values sy.List[valueDef] `yaml:"values"`
}

func (d *listDef) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := sy.NodeOf(unmarshal)
	if err != nil {
		return err
	}
	d.Line = n.Line
	switch n.Kind {
	case yaml.SequenceNode:
		return unmarshal(&d.Values)
	case yaml.MappingNode:
		d.mapping = true
		var f listFields
		err := unmarshal(&f)
		d.Values = f.Values
		return err
	}
	return nil // the loader says it must be a non-empty list of values
}

// valueDef is a value of a slot list: the value, or a mapping of value and synonyms.
type valueDef struct {
	valueFields
}

type valueFields struct {
	Value    sy.Text  `yaml:"value"`
	Synonyms sy.Texts `yaml:"synonyms"`
}

func (v *valueDef) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := sy.NodeOf(unmarshal)
	if err != nil {
		return err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		v.Value = sy.Text{V: n.Value, Line: n.Line}
		return nil
	case yaml.MappingNode:
		return unmarshal(&v.valueFields)
	}
	return sy.Errorf(n, "must be a value, or a mapping of value and synonyms")
}

type frontMatter struct {
	Title    sy.Text  `yaml:"title"`
	Lang     sy.Text  `yaml:"lang"`
	Language sy.Text  `yaml:"language"`
	Tags     sy.Texts `yaml:"tags"`
}

// What messages call the mappings, for unknown keys ({key}: the key they sit under).
var (
	botNames = sy.Names{
		reflect.TypeFor[botFile]():    "bot.yaml",
		reflect.TypeFor[thresholds](): "thresholds",
	}
	intentNames = sy.Names{
		reflect.TypeFor[intentDef]():      "intent {key}",
		reflect.TypeFor[slotFields]():     "slot {key}",
		reflect.TypeFor[responseFields](): "response",
		reflect.TypeFor[listFields]():     "list {key}",
		reflect.TypeFor[valueFields]():    "list value",
	}
	frontMatterNames = sy.Names{reflect.TypeFor[frontMatter](): "front matter"}
)

// intentsFileNames adds the file itself, which messages call by its path.
func intentsFileNames(p string) sy.Names {
	names := make(sy.Names, len(intentNames)+1)
	for t, n := range intentNames {
		names[t] = n
	}
	names[reflect.TypeFor[intentsFile]()] = p
	return names
}

// has reports whether a mapping has the key (with any value, null too).
func has(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}
