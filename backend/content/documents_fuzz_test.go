package content

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const fuzzBot = "name: X\nlanguages: [en, es]\n"
const fuzzIntents = "language: en\nintents:\n  hours:\n    examples: [when do you open]\n    responses: [ok]\n"

// FuzzLoadDocument: any knowledge document, Markdown, HTML or text (the operator's, or one
// copied from a web page), loads as a document or is refused with errors that name it, never a
// panic, in bounded time; a loaded document has a title, text with no blank runs or edge
// spaces, and one of the bot's languages; and loading is deterministic.
func FuzzLoadDocument(f *testing.F) {
	for _, s := range []struct {
		ext  uint8
		body string
	}{
		{0, "---\ntitle: Hours\nlang: es\ntags: [a, b]\n---\n# Opening hours\n\nWe are *open* from 10 to 6. See [the map](/map).\n\n- one\n- two\n"},
		{0, "---\ntitle: [x]\n---\nbody\n"},
		{0, "---\nunclosed\n"},
		{0, "---\r\nlang: fr\r\n---\r\ntext\r\n"},
		{0, "# only a heading\n"},
		{0, "<script>alert(1)</script>\n\n> quote\n\n```\ncode\n```\n"},
		{1, "<html lang=\"es-ES\"><head><title>Precios</title><style>p{}</style></head><body><nav>menu</nav><h1>Entradas</h1><p>12 €<br>niños gratis</p></body></html>"},
		{1, "<h2>a</h2><h2>b</h2><script>x</script></script><p>text"},
		{1, "<title>"},
		{2, "plain text\n\n\n\nwith blank lines"},
		{2, "   "},
		{2, "\xff\xfe"},
	} {
		f.Add(s.ext, s.body)
	}
	f.Fuzz(func(t *testing.T, ext uint8, body string) {
		if len(body) > 64<<10 {
			return
		}
		name := "knowledge/doc" + []string{".md", ".html", ".txt"}[ext%3]
		fsys := fstest.MapFS{
			"bot.yaml":        {Data: []byte(fuzzBot)},
			"intents/en.yaml": {Data: []byte(fuzzIntents)},
			name:              {Data: []byte(body)},
		}
		start := time.Now()
		p, err := Load(fsys, "fuzz")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("loading a %d-byte document took %s", len(body), d)
		}
		if err != nil {
			es, ok := err.(Errors)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range es {
				if e.File != name {
					t.Fatalf("an error that does not name the document: %+v", e)
				}
			}
			return
		}
		if len(p.Docs) != 1 {
			t.Fatalf("%d documents", len(p.Docs))
		}
		d := p.Docs[0]
		if d.Path != name || d.Title == "" || strings.TrimSpace(d.Text) == "" || !slices.Contains(p.Bot.Languages, d.Lang) {
			t.Fatalf("document %+v", d)
		}
		if ext%3 != 2 && (strings.Contains(d.Text, "\n\n\n") || d.Text != strings.TrimSpace(d.Text)) {
			t.Fatalf("text not tidied: %q", d.Text)
		}
		p2, err := Load(fsys, "fuzz")
		if err != nil || len(p2.Docs) != 1 || p2.Docs[0].Text != d.Text || p2.Docs[0].Title != d.Title || p2.Docs[0].Lang != d.Lang {
			t.Fatalf("loaded twice, differently: %v", err)
		}
	})
}

// FuzzLoadBot: any bot.yaml loads or is refused with errors that name a file, never a panic; a
// bot that loads has languages, a default language among them, and thresholds from 0 to 1.
func FuzzLoadBot(f *testing.F) {
	for _, s := range []string{
		fuzzBot,
		"name: Mira\nlanguages: [en, es]\ndefault_language: es\ngreeting: {en: Hi, es: Hola}\nfallback: {en: [Sorry]}\nhandoff_after: 2\nsuggestions: {en: [a, b]}\nthresholds: {intent: 0.5, knowledge_match: 0.3}\n",
		"name: X\nlanguages: []\n", "name: X\nlanguages: [en]\ndefault_language: fr\n", "languages: en\n", "thresholds: {intent: 2}\n",
		"name: X\nlanguages: [en]\nhandoff_after: -1\n", "name: X\nlanguages: [en]\nrepair_offer: {en: 'Did you ask {question}?'}\n", "- x\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 8<<10 {
			return
		}
		fsys := fstest.MapFS{"bot.yaml": {Data: []byte(body)}, "intents/en.yaml": {Data: []byte(fuzzIntents)}}
		p, err := Load(fsys, "fuzz")
		if err != nil {
			es, ok := err.(Errors)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range es {
				if e.File == "" {
					t.Fatalf("an error without its file: %+v", e)
				}
			}
			return
		}
		b := p.Bot
		if len(b.Languages) == 0 || !slices.Contains(b.Languages, b.DefaultLanguage) {
			t.Fatalf("bot %+v", b)
		}
		if b.IntentThreshold < 0 || b.IntentThreshold > 1 || b.KnowledgeMatch < 0 || b.KnowledgeMatch > 1 {
			t.Fatalf("thresholds %v %v", b.IntentThreshold, b.KnowledgeMatch)
		}
	})
}
