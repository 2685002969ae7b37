package conversation

import (
	"io/fs"
	"testing"
	"testing/fstest"
	"time"
)

// englishPack loads a one-language pack from its intents file (intents/en.yaml) into a new engine.
func englishPack(t testing.TB, intents string) *Engine {
	t.Helper()
	e := New(NewMemorySessions(10, time.Hour))
	fsys := fstest.MapFS{
		"bot.yaml":        {Data: []byte("name: T\nlanguages: [en]\n")},
		"intents/en.yaml": {Data: []byte(intents)},
	}
	if err := NewLoader(e, fsys, "test").Reload(); err != nil {
		t.Fatal(err)
	}
	return e
}

func brokenFS() fs.FS {
	return fstest.MapFS{
		"bot.yaml":        {Data: []byte("name: X\nlanguages: [en]\n")},
		"intents/en.yaml": {Data: []byte("language: en\nintents:\n  hours:\n    templates: [\"open (now\"]\n    responses: [ok]\n")},
	}
}

// answered names what a reply answered with: the intent, "doc:" and the document's path, or
// the reply's kind (fallback, handoff, prompt, confirm, cancelled).
func answered(r Reply) string {
	switch {
	case r.Kind == KindKnowledge && len(r.Sources) > 0:
		return "doc:" + r.Sources[0].Path
	case r.Kind == KindIntent:
		return r.Intent
	}
	return r.Kind
}
