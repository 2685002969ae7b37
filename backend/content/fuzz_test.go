package content

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoadIntents: any intents file either loads or is refused with errors that name the file,
// never a panic. `go test -fuzz FuzzLoadIntents ./backend/content` explores more.
func FuzzLoadIntents(f *testing.F) {
	f.Add("language: en\nlists:\n  day: [monday]\nintents:\n  hours:\n    templates: [\"open {day}\"]\n    responses: [ok]\n")
	f.Add("language: en\nintents:\n  x:\n    slots:\n      a: {list: a, required: true}\n")
	f.Add("language: [en]\n")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 4096 {
			return
		}
		fsys := fstest.MapFS{
			"bot.yaml":        {Data: []byte("name: X\nlanguages: [en]\n")},
			"intents/en.yaml": {Data: []byte(body)},
		}
		_, err := Load(fsys, "fuzz")
		if err == nil {
			return
		}
		es, ok := err.(Errors)
		if !ok {
			t.Fatalf("error of type %T", err)
		}
		for _, e := range es {
			if e.File == "" || (!strings.HasPrefix(e.File, "intents/") && e.File != "bot.yaml") {
				t.Fatalf("an error without its file: %+v", e)
			}
		}
	})
}
