package content

import (
	"bytes"
	"path"
	"strings"

	"github.com/yuin/goldmark"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	sy "voicebot/backend/internal/strictyaml"
)

// loadDocument reads one knowledge document. Markdown is rendered to HTML with goldmark and then
// reduced to text like an HTML file, so emphasis, links and lists read as plain sentences; the
// title is the front matter's title, else the first heading, else the file name. The language is
// the front matter's lang, else a folder named after one of the bot's languages
// (knowledge/es/...), else the default language.
func (l *loader) loadDocument(p, ext string) {
	st := l.file(p, "knowledge")
	b, ok := l.read(p)
	if !ok {
		return
	}
	doc := Document{Path: p}
	body := b
	if ext != ".html" && ext != ".htm" {
		var fm frontMatter
		if l.frontMatter(p, b, &fm, &body) {
			doc.Title, doc.Tags = fm.Title.V, fm.Tags.V
			for _, lang := range []sy.Text{fm.Lang, fm.Language} {
				if lang.Line == 0 {
					continue
				}
				if !l.pack.Bot.HasLanguage(lang.V) {
					l.fail(p, lang.Line, "lang %q is not one of the bot's languages %v", lang.V, l.pack.Bot.Languages)
				}
				doc.Lang = lang.V
			}
		}
	}
	var heading, textBody string
	switch ext {
	case ".md", ".markdown":
		var out bytes.Buffer
		if err := goldmark.Convert(body, &out); err != nil {
			l.fail(p, 0, "Markdown: %v", err)
			return
		}
		heading, textBody, _ = htmlText(out.Bytes())
	case ".html", ".htm":
		var lang string
		heading, textBody, lang = htmlText(body)
		if lang != "" && l.pack.Bot.HasLanguage(lang) {
			doc.Lang = lang
		}
	default:
		textBody = strings.TrimSpace(string(body))
	}
	if doc.Title == "" {
		doc.Title = heading
	}
	if doc.Title == "" {
		base := strings.TrimSuffix(path.Base(p), path.Ext(p))
		doc.Title = strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(base))
	}
	doc.Text = textBody
	if doc.Lang == "" {
		for _, seg := range strings.Split(path.Dir(p), "/") {
			if l.pack.Bot.HasLanguage(seg) {
				doc.Lang = seg
			}
		}
	}
	if doc.Lang == "" {
		doc.Lang = l.pack.Bot.DefaultLanguage
	}
	if strings.TrimSpace(doc.Text) == "" {
		l.fail(p, 0, "document has no text")
		return
	}
	l.pack.Docs = append(l.pack.Docs, doc)
	st.Detail = doc.Title + " (" + doc.Lang + ")"
}

// frontMatter decodes an optional YAML front matter block (between --- lines) into fm and sets
// body to what follows it; false when there is none to use.
func (l *loader) frontMatter(p string, b []byte, fm *frontMatter, body *[]byte) bool {
	s := string(b)
	if !strings.HasPrefix(s, "---\n") && !strings.HasPrefix(s, "---\r\n") {
		return false
	}
	rest := s[strings.Index(s, "\n")+1:]
	end := -1
	for off := 0; off < len(rest); {
		nl := strings.IndexByte(rest[off:], '\n')
		line := rest[off:]
		if nl >= 0 {
			line = rest[off : off+nl]
		}
		if strings.TrimRight(line, "\r") == "---" {
			end = off
			break
		}
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	if end < 0 {
		l.fail(p, 1, "front matter starts with --- but is never closed with a --- line")
		return false
	}
	root, errs := sy.Decode([]byte(rest[:end]), fm, frontMatterNames, 2)
	for _, e := range errs {
		switch e.Kind {
		case sy.Syntax:
			l.fail(p, e.Line, "front matter: %s", e.Msg)
			return false
		case sy.NotMapping:
			l.fail(p, e.Line, "front matter must be a mapping of keys to values")
			return false
		}
		l.fail(p, e.Line, "%s", e.Msg)
	}
	after := rest[end:]
	*body = []byte(after[min(len(after), strings.IndexByte(after, '\n')+1):])
	return root != nil
}

// htmlText extracts readable text from HTML: block elements become paragraph breaks, scripts,
// styles and navigation are dropped. It returns the first heading (or <title>), the text and the
// document's lang attribute.
func htmlText(b []byte) (heading, body, lang string) {
	z := html.NewTokenizer(bytes.NewReader(b))
	var out strings.Builder
	var title string
	skip := 0
	inHeading, inTitle := false, false
	var headBuf strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			text := strings.TrimSpace(collapseBlankLines(out.String()))
			if heading == "" {
				heading = strings.TrimSpace(title)
			}
			return heading, text, lang
		case html.StartTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			a := atom.Lookup(tn)
			switch a {
			case atom.Script, atom.Style, atom.Nav, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				}
			case atom.Html:
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "lang" {
						lang = strings.ToLower(strings.SplitN(string(v), "-", 2)[0])
					}
				}
			case atom.Title:
				inTitle = true
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				out.WriteString("\n\n")
				if heading == "" {
					inHeading = true
					headBuf.Reset()
				}
			case atom.Br:
				out.WriteString("\n")
			}
			if blockElem[a] {
				out.WriteString("\n\n")
			}
		case html.EndTagToken:
			tn, _ := z.TagName()
			a := atom.Lookup(tn)
			switch a {
			case atom.Script, atom.Style, atom.Nav, atom.Noscript, atom.Template:
				if skip > 0 {
					skip--
				}
			case atom.Title:
				inTitle = false
			case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				if inHeading {
					heading = strings.Join(strings.Fields(headBuf.String()), " ")
					inHeading = false
				}
				// A heading ends its own sentence, so that it does not run into the next one.
				out.WriteString(".\n\n")
			}
			if blockElem[a] {
				out.WriteString("\n\n")
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if inTitle {
				title += t
				continue
			}
			if inHeading {
				headBuf.WriteString(t)
			}
			out.WriteString(t)
		}
	}
}

var blockElem = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Ul: true, atom.Ol: true, atom.Table: true,
	atom.Tr: true, atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true,
	atom.Blockquote: true, atom.Pre: true, atom.Dd: true, atom.Dt: true, atom.Main: true,
}

func collapseBlankLines(s string) string {
	var out []string
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		para = strings.TrimPrefix(para, ". ")
		if para != "" && para != "." {
			out = append(out, para)
		}
	}
	return strings.Join(out, "\n\n")
}
