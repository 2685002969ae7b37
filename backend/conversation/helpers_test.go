package conversation

import (
	"io/fs"
	"testing/fstest"
)

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
