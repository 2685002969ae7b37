package content

import (
	"strings"
	"testing"
	"testing/fstest"

	vbembed "voicebot/embed"
)

func TestDemoPackLoads(t *testing.T) {
	p, err := Load(vbembed.DemoContent(), "built-in demo")
	if err != nil {
		t.Fatalf("demo pack: %v", err)
	}
	if got := len(p.Intents["en"]); got < 30 {
		t.Errorf("english intents: %d, want at least 30", got)
	}
	if got := len(p.Intents["es"]); got < 30 {
		t.Errorf("spanish intents: %d, want at least 30", got)
	}
	if len(p.Docs) < 20 {
		t.Errorf("documents: %d, want at least 20", len(p.Docs))
	}
	byPath := map[string]Document{}
	for _, d := range p.Docs {
		byPath[d.Path] = d
	}
	if d := byPath["knowledge/en/venue-hire.html"]; d.Title != "Venue Hire and Private Events" || strings.Contains(d.Text, "console.log") || strings.Contains(d.Text, "Home |") {
		t.Errorf("html document: title %q text %q", d.Title, d.Text)
	}
	if d := byPath["knowledge/es/la-lente-del-faro.md"]; d.Lang != "es" || d.Title != "La Lente del Faro" || len(d.Tags) != 2 {
		t.Errorf("front matter: %+v", d)
	}
	if d := byPath["knowledge/en/library-and-archive.txt"]; d.Title != "library and archive" {
		t.Errorf("txt title from file name: %q", d.Title)
	}
	for _, f := range p.Files {
		if !f.OK {
			t.Errorf("file %s not ok: %s", f.Path, f.Error)
		}
	}
}

const goodBot = "name: Test\nlanguages: [en]\n"

// TestErrorsNameFileAndLine feeds broken packs and checks that each error names the file, the
// line and the problem.
func TestErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no bot.yaml", map[string]string{"intents/en.yaml": "language: en"}, "bot.yaml: missing"},
		{"bad yaml", map[string]string{"bot.yaml": "name: [unclosed\nlanguages: [en]\n"}, "bot.yaml:"},
		{"bad language code", map[string]string{"bot.yaml": "name: X\nlanguages:\n  - en\n  - English\n"}, `bot.yaml:4: language "English" is not a language code`},
		{"unknown key", map[string]string{"bot.yaml": goodBot + "greting: hi\n"}, `bot.yaml:3: unknown key "greting"`},
		{"template syntax", map[string]string{"bot.yaml": goodBot, "intents/en.yaml": "language: en\nintents:\n  hours:\n    templates:\n      - \"what (time|hour are you open\"\n    responses: [x]\n"}, "intents/en.yaml:5: template"},
		{"unknown list", map[string]string{"bot.yaml": goodBot, "intents/en.yaml": "language: en\nintents:\n  hours:\n    templates: [\"open on {day}\"]\n    responses: [x]\n"}, `intents/en.yaml:3: intent "hours": slot "day" takes values from list "day", which no en intents file defines`},
		{"response variable", map[string]string{"bot.yaml": goodBot, "intents/en.yaml": "language: en\nintents:\n  hours:\n    examples: [when do you open]\n    responses:\n      - \"we open at {time}\"\n"}, `intents/en.yaml:6: response uses {time}`},
		{"no responses", map[string]string{"bot.yaml": goodBot, "intents/en.yaml": "language: en\nintents:\n  hours:\n    examples: [when do you open]\n"}, `intents/en.yaml:3: intent "hours" has no responses`},
		{"wrong language", map[string]string{"bot.yaml": goodBot, "intents/fr.yaml": "language: fr\nintents: {}\n"}, `intents/fr.yaml:1: language "fr" is not one of the bot's languages`},
		{"duplicate intent", map[string]string{"bot.yaml": goodBot, "intents/a.yaml": "language: en\nintents:\n  hi:\n    examples: [hi]\n    responses: [hello]\n", "intents/b.yaml": "language: en\nintents:\n\n  hi:\n    examples: [hey]\n    responses: [hello]\n"}, `intents/b.yaml:4: intent "hi" is defined twice for language en (first at intents/a.yaml:3)`},
		{"front matter", map[string]string{"bot.yaml": goodBot, "knowledge/a.md": "---\ntitle: A\nlang: de\n---\n# A\ntext\n"}, `knowledge/a.md:3: lang "de" is not one of the bot's languages`},
		{"unclosed front matter", map[string]string{"bot.yaml": goodBot, "knowledge/a.md": "---\ntitle: A\n# A\ntext\n"}, `knowledge/a.md:1: front matter starts with ---`},
		{"not utf-8", map[string]string{"bot.yaml": goodBot, "knowledge/a.txt": "line one\nline \xff two\n"}, `knowledge/a.txt:2: not valid UTF-8`},
		{"condition value", map[string]string{"bot.yaml": goodBot, "intents/en.yaml": "language: en\nlists:\n  day: [monday]\nintents:\n  hours:\n    templates: [\"open {day}\"]\n    responses:\n      - when: {day: funday}\n        text: closed\n      - open\n"}, `intents/en.yaml:8: response condition day: "funday" is not a value of list "day"`},
		{"required slot without prompt", map[string]string{"bot.yaml": goodBot, "intents/en.yaml": "language: en\nlists:\n  day: [monday]\nintents:\n  book:\n    examples: [book]\n    slots:\n      day: {list: day, required: true}\n    responses: [ok]\n"}, `intents/en.yaml:8: slot "day" is required: give a prompt`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, body := range c.files {
				fsys[name] = &fstest.MapFile{Data: []byte(body)}
			}
			_, err := Load(fsys, "test")
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}
