package conversation

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestJapanesePack: a pack in a language written without spaces between words is answered
// end to end: intents from questions it does not list, a document's passage cut to its
// answering sentence, and an off-topic question turned away. Read as one word a sentence
// (before text.Fold split such scripts into their characters), nothing but a listed phrasing
// had a word an intent says, and a document was one passage of one "word".
func TestJapanesePack(t *testing.T) {
	e := New(NewMemorySessions(10, time.Hour))
	fsys := fstest.MapFS{
		"bot.yaml": {Data: []byte("name: 港町博物館\nlanguages: [ja]\nfallback:\n  ja: [\"すみません、よくわかりませんでした。\"]\n")},
		"intents/ja.yaml": {Data: []byte(`language: ja
intents:
  opening_hours:
    examples: [何時に開きますか, 営業時間を教えてください, 今日は何時まで開いていますか, 日曜日は開いていますか, 閉館時間は何時ですか]
    responses: [毎日10時から18時まで開いています。]
  ticket_prices:
    examples: [入場料はいくらですか, チケットの値段を教えてください, 学生割引はありますか, 子供の料金はいくらですか, 大人一枚いくらですか]
    responses: [大人は1200円、学生は800円、子供は無料です。]
  parking:
    examples: [駐車場はありますか, どこに車を停められますか, 駐車料金はいくらですか, 近くに駐車場はありますか, 車で行っても大丈夫ですか]
    responses: [博物館の裏に駐車場があります。]
  toilets:
    examples: [トイレはどこですか, お手洗いはどこにありますか, トイレを探しています, 一番近いトイレはどこ, 化粧室はありますか]
    responses: [トイレは一階の受付の横にあります。]
`)},
		"knowledge/ja/lighthouse.md": {Data: []byte("# 灯台のレンズ\n\n" +
			"二階の展示室には古い灯台のレンズが展示されています。このレンズは1870年にフランスで作られました。" +
			"重さは約三トンで、光は四十キロ先まで届きました。灯台は1985年に自動化され、レンズは博物館に寄贈されました。\n")},
	}
	if err := NewLoader(e, fsys, "test").Reload(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct{ say, want string }{
		{"何時に閉まりますか", "opening_hours"},
		{"明日は開いていますか", "opening_hours"},
		{"チケットはいくらですか", "ticket_prices"},
		{"駐車場はどこですか", "parking"},
		{"お手洗いはどこ", "toilets"},
		{"灯台のレンズはいつ作られましたか", "doc:knowledge/ja/lighthouse.md"},
		{"明日の天気はどうですか", KindFallback},
	} {
		r, err := e.Reply(ctx, Request{Text: c.say, Lang: "ja"})
		if err != nil {
			t.Fatal(err)
		}
		if got := answered(r); got != c.want {
			t.Errorf("%q: got %s (%.2f, %q), want %s", c.say, got, r.Confidence, r.Text, c.want)
		}
		if c.want == "doc:knowledge/ja/lighthouse.md" && (!strings.Contains(r.Text, "1870年") || strings.Contains(r.Text, "1985年")) {
			t.Errorf("%q: the passage is not cut to its answering sentence: %q", c.say, r.Text)
		}
	}
}

// TestGermanPack: a German pack gets German stems, follow-ups that begin as German ones do, and
// a German fallback when it writes none.
func TestGermanPack(t *testing.T) {
	e := New(NewMemorySessions(10, time.Hour))
	fsys := fstest.MapFS{
		"bot.yaml": {Data: []byte("name: Hafenmuseum\nlanguages: [de-DE]\n")},
		"intents/de.yaml": {Data: []byte(`language: de-DE
lists:
  tag:
    - value: montag
    - value: sonntag
intents:
  opening_hours:
    templates:
      - "wann (öffnen|schließen) sie [am] [{tag}]"
    examples: [wie sind die öffnungszeiten, bis wann haben sie heute geöffnet, ist am sonntag geöffnet]
    slots:
      tag: tag
    responses:
      - when: {tag: montag}
        text: Montags ist geschlossen.
      - Wir haben von 10 bis 18 Uhr geöffnet.
  ticket_prices:
    examples: [was kostet der eintritt, wie teuer ist eine eintrittskarte, gibt es ermäßigung für studenten, was zahlen kinder]
    responses: [Erwachsene zahlen 12 Euro.]
`)},
	}
	if err := NewLoader(e, fsys, "test").Reload(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct{ say, want, slot string }{
		{"Wann öffnen Sie am Montag?", "opening_hours", "montag"},
		{"Und am Sonntag?", "opening_hours", "sonntag"},
		{"Wie teuer sind die Eintrittskarten?", "ticket_prices", ""},
		{"Spiel mir ein Lied von den Beatles", KindFallback, ""},
	} {
		r, err := e.Reply(ctx, Request{SessionID: "s1", Text: c.say, Lang: "de-DE"})
		if err != nil {
			t.Fatal(err)
		}
		if got := answered(r); got != c.want || r.Slots["tag"] != c.slot {
			t.Errorf("%q: got %s %v (%.2f, %q, via %s), want %s %s", c.say, got, r.Slots, r.Confidence, r.Text, r.Via, c.want, c.slot)
		}
		if c.want == KindFallback && !strings.HasPrefix(r.Text, "Entschuldigung") {
			t.Errorf("the built-in fallback is not German: %q", r.Text)
		}
	}
}
