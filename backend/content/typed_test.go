package content

import (
	"strings"
	"testing"
	"testing/fstest"
)

func loadIntentsFile(t *testing.T, body string) error {
	t.Helper()
	_, err := Load(fstest.MapFS{
		"bot.yaml":        {Data: []byte(goodBot)},
		"intents/en.yaml": {Data: []byte(body)},
	}, "test")
	return err
}

// TestMappingWhereAListBelongs: a mapping given where a list belongs is an error with its line.
// The hand walker took a mapping's keys and values as the list's items, so a response written
// without its "- " (text: and when: under responses:) answered the visitor "text" and "Hello",
// and templates written as a mapping matched their keys and values.
func TestMappingWhereAListBelongs(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"responses": {"language: en\nintents:\n  hi:\n    examples: [hi]\n    responses:\n      text: Hello\n",
			"intents/en.yaml:6: intents.hi.responses must be a list"},
		"templates": {"language: en\nintents:\n  hi:\n    templates:\n      hello: there\n    responses: [Hello]\n",
			"intents/en.yaml:5: intents.hi.templates must be a list of texts"},
		"flow responses": {"language: en\nintents:\n  hi:\n    examples: [hi]\n    responses: {text: Hello}\n",
			"intents/en.yaml:5: intents.hi.responses must be a list"},
	} {
		t.Run(name, func(t *testing.T) {
			err := loadIntentsFile(t, c.body)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestTypedErrors: every shape error names the value by its path in the file, with its line;
// unknown keys are refused everywhere, with the keys that are known.
func TestTypedErrors(t *testing.T) {
	for name, c := range map[string]struct {
		files map[string]string
		want  string
	}{
		"unknown intent key": {map[string]string{"intents/en.yaml": "language: en\nintents:\n  hi:\n    examples: [hi]\n    responses: [Hello]\n    respones: [Hi]\n"},
			`intents/en.yaml:6: unknown key "respones" in intent hi (expected one of: templates, examples, slots, responses, confirm, cancelled)`},
		"unknown key in a dotted intent": {map[string]string{"intents/en.yaml": "language: en\nintents:\n  museum.hours:\n    examples: [hi]\n    responses: [Hello]\n    respones: [Hi]\n"},
			`intents/en.yaml:6: unknown key "respones" in intent museum.hours (expected one of:`},
		"unknown slot key": {map[string]string{"intents/en.yaml": "language: en\nlists:\n  day: [monday]\nintents:\n  hi:\n    examples: [hi]\n    slots:\n      day: {list: day, requird: true}\n    responses: [Hello]\n"},
			`intents/en.yaml:8: unknown key "requird" in slot day (expected one of: list, required, prompt)`},
		"unknown file key": {map[string]string{"intents/en.yaml": "language: en\nintent:\n  hi: {}\n"},
			`intents/en.yaml:2: unknown key "intent" in intents/en.yaml (expected one of: language, lists, intents, out_of_scope)`},
		"unknown threshold": {map[string]string{"bot.yaml": goodBot + "thresholds:\n  intnet: 0.5\n"},
			`bot.yaml:4: unknown key "intnet" in thresholds (expected one of: intent, knowledge_match, knowledge_score)`},
		"example not text": {map[string]string{"intents/en.yaml": "language: en\nintents:\n  hi:\n    examples:\n      - hi\n      - [hello]\n    responses: [Hello]\n"},
			"intents/en.yaml:6: intents.hi.examples[1] must be text"},
		"fallback per language": {map[string]string{"bot.yaml": goodBot + "fallback:\n  en: {a: b}\n"},
			"bot.yaml:4: fallback.en must be a list of texts"},
		"handoff_after":       {map[string]string{"bot.yaml": goodBot + "handoff_after: soon\n"}, "bot.yaml:3: handoff_after must be a number"},
		"handoff_after range": {map[string]string{"bot.yaml": goodBot + "handoff_after: 0\n"}, "bot.yaml:3: handoff_after must be between 1 and 100, got 0"},
		"required flag": {map[string]string{"intents/en.yaml": "language: en\nlists:\n  day: [monday]\nintents:\n  hi:\n    examples: [hi]\n    slots:\n      day:\n        list: day\n        required: maybe\n    responses: [Hello]\n"},
			"intents/en.yaml:10: intents.hi.slots.day.required must be true or false"},
		"intent not a mapping": {map[string]string{"intents/en.yaml": "language: en\nintents:\n  hi: hello\n"},
			"intents/en.yaml:3: intents.hi must be a mapping of keys to values"},
		"list not a list": {map[string]string{"intents/en.yaml": "language: en\nlists:\n  day: monday\nintents:\n  hi:\n    examples: [hi]\n    responses: [Hello]\n"},
			`intents/en.yaml:3: list "day" must be a non-empty list of values`},
		"same intent twice in a file": {map[string]string{"intents/en.yaml": "language: en\nintents:\n  hi:\n    examples: [hi]\n    responses: [Hello]\n  hi:\n    examples: [hey]\n    responses: [Hello]\n"},
			`intents/en.yaml:6: intents: "hi" is defined twice (first at line 3)`},
		"front matter":     {map[string]string{"knowledge/a.md": "---\ntitle: [A]\n---\n# A\ntext\n"}, "knowledge/a.md:2: title must be text"},
		"front matter key": {map[string]string{"knowledge/a.md": "---\ntitel: A\n---\n# A\ntext\n"}, `knowledge/a.md:2: unknown key "titel" in front matter (expected one of: title, lang, language, tags)`},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{"bot.yaml": {Data: []byte(goodBot)}}
			for p, body := range c.files {
				fsys[p] = &fstest.MapFile{Data: []byte(body)}
			}
			_, err := Load(fsys, "test")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
