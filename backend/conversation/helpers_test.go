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
