package evaluate

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"voicebot/backend/text"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadIntentCSVErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"text,intent\nhi,greet\n":        "header must name the columns text and label",
		"text,label\n":                   "no rows",
		"text,label\nhi,\n":              ":2: empty label",
		"text,label\n\"unclosed,greet\n": "extraneous or missing",
	}
	for body, want := range cases {
		_, err := ReadIntentCSV(writeFile(t, dir, "x.csv", body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
	if _, err := ReadIntentCSV(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestNLUWithLanguageColumn runs the evaluation on a small multilingual set in the sealed sets'
// form (text,label,lang) with out-of-scope rows.
func TestNLUWithLanguageColumn(t *testing.T) {
	var b strings.Builder
	b.WriteString("text,label,lang\n")
	rows := map[string][]string{
		"hours|en":   {"when do you open", "opening hours please", "what time do you close", "are you open today", "how late are you open"},
		"tickets|en": {"how much is a ticket", "ticket price", "what does entry cost", "student discount", "price for kids"},
		"hours|es":   {"a qué hora abrís", "cuál es el horario", "cuándo cerráis", "abrís hoy", "hasta qué hora abrís"},
		"tickets|es": {"cuánto cuesta la entrada", "precio de la entrada", "descuento para estudiantes", "cuánto pagan los niños", "precio del billete"},
		"oos|en":     {"tell me a joke", "what is the weather"},
		"oos|es":     {"cuéntame un chiste", "qué tiempo hace"},
	}
	for key, texts := range rows {
		label, lang, _ := strings.Cut(key, "|")
		for _, tx := range texts {
			b.WriteString(tx + "," + label + "," + lang + "\n")
		}
	}
	dir := t.TempDir()
	train, err := ReadIntentCSV(writeFile(t, dir, "train.csv", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	test, _ := ReadIntentCSV(writeFile(t, dir, "test.csv", "text,label,lang\nwhen do you open on sunday,hours,en\nhow much for an adult ticket,tickets,en\ncuánto cuesta una entrada,tickets,es\nplay a song for me,oos,en\n"))
	res, err := NLU(train, test, NLUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NTest != 4 || res.OOSRecall == nil || res.InScopeAccuracy < 66 {
		t.Errorf("result %+v", res)
	}
	es, err := NLU(train, test, NLUOptions{Lang: "es"})
	if err != nil || es.NTest != 1 || es.OOSRecall != nil {
		t.Errorf("--lang es: %+v %v", es, err)
	}
}

// TestNLUOutOfScopeSpellingsAndUnseenLabels: a test file that writes its out-of-scope label
// "OOS" is measured as out of scope (it was an intent no model knew: every such row a miss, and
// no out-of-scope recall at all); a label with no training rows is reported, not hidden in the
// accuracy.
func TestNLUOutOfScopeSpellingsAndUnseenLabels(t *testing.T) {
	dir := t.TempDir()
	train, err := ReadIntentCSV(writeFile(t, dir, "train.csv", "\ufeffText,Label\r\n"+
		"when do you open,hours\r\nopening hours please,hours\r\nwhat time do you close,hours\r\nare you open today,hours\r\n"+
		"how much is a ticket,tickets\r\nticket price,tickets\r\nwhat does entry cost,tickets\r\nstudent discount,tickets\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := ReadIntentCSV(writeFile(t, dir, "test.csv", "text,label\nwhen do you close on sunday,hours\nhow much for an adult ticket,tickets\n"+
		"play a song for me,OOS\nwhat is the capital of peru,Oos\nwhere is the cloakroom,cloakroom\n"))
	if err != nil {
		t.Fatal(err)
	}
	if test[2].Label != "oos" || test[3].Label != "oos" {
		t.Fatalf("labels %q %q, want oos", test[2].Label, test[3].Label)
	}
	res, err := NLU(train, test, NLUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OOSRecall == nil {
		t.Fatal("no out-of-scope recall for rows labelled OOS")
	}
	if !reflect.DeepEqual(res.UnseenLabels, map[string]int{"cloakroom": 1}) {
		t.Errorf("unseen labels %v, want cloakroom: 1", res.UnseenLabels)
	}
}

// TestNLUSpelling: a test row's typing slip is put right against the training rows' words
// before the model reads it, as the engine does with a typed question; NoSpelling measures the
// model without.
func TestNLUSpelling(t *testing.T) {
	dir := t.TempDir()
	train, err := ReadIntentCSV(writeFile(t, dir, "train.csv", "text,label\n"+
		"when do you open,hours\nopening hours please,hours\nwhat time do you close,hours\nare you open today,hours\n"+
		"how much is a ticket,tickets\nticket prices,tickets\nwhat does entry cost,tickets\nhow much are tickets for students,tickets\n"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := ReadIntentCSV(writeFile(t, dir, "test.csv", "text,label\ntikets,tickets\nopning hours,hours\n"))
	if err != nil {
		t.Fatal(err)
	}
	with, err := NLU(train, test, NLUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := NLU(train, test, NLUOptions{NoSpelling: true})
	if err != nil {
		t.Fatal(err)
	}
	if with.InScopeAccuracy != 100 || without.InScopeAccuracy >= 100 {
		t.Errorf("in scope with the spelling correction %.0f%%, without %.0f%%: want 100 and less", with.InScopeAccuracy, without.InScopeAccuracy)
	}
}

func TestRankingMetrics(t *testing.T) {
	rel := map[string]int{"a": 1, "c": 1}
	ranked := []string{"x", "a", "y", "c"}
	want := (1/math.Log2(3) + 1/math.Log2(5)) / (1 + 1/math.Log2(3))
	if got := NDCGAt(ranked, rel, 10); math.Abs(got-want) > 1e-9 {
		t.Errorf("ndcg %v, want %v", got, want)
	}
	if got := mrrAt(ranked, rel, 10); got != 0.5 {
		t.Errorf("mrr %v", got)
	}
	if got := recallAt(ranked, rel, 2); got != 0.5 {
		t.Errorf("recall@2 %v", got)
	}
	if NDCGAt(nil, rel, 10) != 0 {
		t.Error("empty ranking")
	}
}

func TestRetrievalOnTinyBEIR(t *testing.T) {
	dir := t.TempDir()
	corpus := writeFile(t, dir, "corpus.jsonl", `{"_id":"d1","title":"Lens","text":"The lighthouse lens weighs six tonnes."}
{"_id":"d2","title":"Cafe","text":"Coffee and cake on the terrace."}
`)
	queries := writeFile(t, dir, "queries.jsonl", `{"_id":"q1","text":"how heavy is the lighthouse lens"}
{"_id":"q2","text":"where can I get coffee"}
`)
	qrels := writeFile(t, dir, "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
	docs, err := ReadBEIRCorpus(corpus, "en")
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := ReadBEIRQueries(queries)
	rels, err := ReadQrels(qrels)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Retrieval(docs, qs, rels, "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.NDCGAt10 != 1 || res.NQueries != 2 {
		t.Errorf("%+v", res)
	}
	if _, err := ReadQrels(writeFile(t, dir, "bad.tsv", "q\td\tscore\nq1 d1 1\n")); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("bad qrels: %v", err)
	}
}

func TestSampleShots(t *testing.T) {
	var rows []IntentRow
	for i := 0; i < 30; i++ {
		rows = append(rows, IntentRow{Text: "a" + string(rune('a'+i%26)) + strings.Repeat("x", i), Label: []string{"x", "y", "oos"}[i%3]})
	}
	got := SampleShots(rows, 4, 7)
	if len(got) != 8 {
		t.Fatalf("4 shots of 2 intents: %d rows", len(got))
	}
	count := map[string]int{}
	for _, r := range got {
		count[r.Label]++
	}
	if count["x"] != 4 || count["y"] != 4 || count["oos"] != 0 {
		t.Errorf("rows per label %v", count)
	}
	again := SampleShots(append([]IntentRow(nil), rows...), 4, 7)
	other := SampleShots(append([]IntentRow(nil), rows...), 4, 8)
	if !reflect.DeepEqual(got, again) {
		t.Error("the same seed drew other rows")
	}
	if reflect.DeepEqual(got, other) {
		t.Error("another seed drew the same rows")
	}
	if n := len(SampleShots(rows, 100, 0)); n != 20 {
		t.Errorf("more shots than rows: %d rows, want every in-scope row (20)", n)
	}
}

// TestNLUPerLanguage: rows of several languages are trained and measured a language at a time,
// as the engine keeps a model per language, and a regional tag is read as its language.
func TestNLUPerLanguage(t *testing.T) {
	var b strings.Builder
	b.WriteString("text,label,lang\n")
	for _, r := range [][3]string{
		{"when do you open", "hours", "en-US"}, {"opening hours please", "hours", "en-US"}, {"what time do you close", "hours", "en-US"},
		{"how much is a ticket", "tickets", "en-US"}, {"ticket prices", "tickets", "en-US"}, {"what does entry cost", "tickets", "en-US"},
		{"a qué hora abrís", "hours", "es-ES"}, {"cuál es el horario", "hours", "es-ES"}, {"cuándo cerráis", "hours", "es-ES"},
		{"cuánto cuesta la entrada", "tickets", "es-ES"}, {"precio de la entrada", "tickets", "es-ES"}, {"cuánto vale el billete", "tickets", "es-ES"},
	} {
		b.WriteString(r[0] + "," + r[1] + "," + r[2] + "\n")
	}
	dir := t.TempDir()
	train, err := ReadIntentCSV(writeFile(t, dir, "train.csv", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got := SampleShots(train, 2, 1); len(got) != 8 {
		t.Errorf("2 shots of 2 labels in 2 languages: %d rows, want 8", len(got))
	}
	if got := OfLanguage(train, "en"); len(got) != 6 {
		t.Errorf("--lang en keeps %d of the en-US rows, want 6", len(got))
	}
	test, _ := ReadIntentCSV(writeFile(t, dir, "test.csv", "text,label,lang\nwhen do you close on sunday,hours,en-US\nhow much are tickets,tickets,en-US\ncuánto cuesta una entrada,tickets,es-ES\n¿a qué hora cerráis?,hours,es-ES\n"))
	res, err := NLU(train, test, NLUOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Languages) != 2 || res.Languages["en-us"] == nil || res.Languages["es-es"] == nil {
		t.Fatalf("languages %v", res.Languages)
	}
	if res.NTest != 4 || res.NTrain != 12 || res.Languages["en-us"].NTest != 2 || res.InScopeAccuracy < 75 {
		t.Errorf("result %+v, en %+v, es %+v", res, res.Languages["en-us"], res.Languages["es-es"])
	}
	// "en-US" rows are read as English: the same figures as the rows labelled "en"
	relabel := func(rows []IntentRow) []IntentRow {
		out := append([]IntentRow(nil), rows...)
		for i := range out {
			out[i].Lang = text.Base(out[i].Lang)
		}
		return out
	}
	bare, err := NLU(relabel(train), relabel(test), NLUOptions{})
	if err != nil || bare.Languages["en"] == nil || bare.Languages["en"].InScopeAccuracy != res.Languages["en-us"].InScopeAccuracy || bare.Languages["en"].Threshold != res.Languages["en-us"].Threshold {
		t.Errorf("en-US read apart from en: %+v against %+v (%v)", res.Languages["en-us"], bare.Languages["en"], err)
	}
	if _, err := NLU(train[:6], test, NLUOptions{}); err == nil || !strings.Contains(err.Error(), "no training rows") {
		t.Errorf("Spanish test rows without Spanish training rows: %v", err)
	}
}

// TestNLUOtherLanguages: intent sets in scripts written without spaces between words are read
// by their characters (text.Fold); read as one word a sentence, no question but a listed one had
// a word any intent says, the threshold fell to 0 and nothing was turned away (0%). German has
// its stems and stop words (87.5% in scope and 67% out of scope without them, as a language
// the engine knows nothing of).
func TestNLUOtherLanguages(t *testing.T) {
	sets := map[string][2]string{
		"de": {`hours|Wann öffnet das Museum|Wie sind die Öffnungszeiten|Bis wann haben Sie heute geöffnet|Ist am Sonntag geöffnet|Um wie viel Uhr schließen Sie
tickets|Was kostet der Eintritt|Wie teuer ist eine Eintrittskarte|Gibt es Ermäßigung für Studenten|Was zahlen Kinder|Preis für eine Karte
parking|Wo kann ich parken|Gibt es einen Parkplatz|Ist das Parken kostenlos|Wo stelle ich mein Auto ab|Gibt es Parkplätze in der Nähe
toilets|Wo ist die Toilette|Wo sind die Toiletten|Gibt es hier ein WC|Ich suche die Toilette|Wo finde ich ein Klo`, `hours|Wann schließt das Museum|Haben Sie morgen geöffnet
tickets|Wie viel kosten die Eintrittskarten|Sind Kinder kostenlos
parking|Wo ist der nächste Parkplatz|Kann man hier das Auto parken
toilets|Wo finde ich die Toiletten|Gibt es Toiletten
oos|Wie wird das Wetter morgen|Erzähl mir einen Witz|Spiel etwas Musik`},
		"zh": {`hours|你们几点开门|博物馆什么时候开放|今天开到几点|周末开门吗|开放时间是什么
tickets|门票多少钱|成人票价是多少|学生有优惠吗|儿童票多少钱|买票要多少钱
parking|哪里可以停车|有停车场吗|停车收费吗|附近有没有停车的地方|我可以把车停在哪里
toilets|洗手间在哪里|厕所在哪儿|请问卫生间怎么走|有没有厕所|哪里有洗手间`, `hours|博物馆几点关门|明天开门吗
tickets|一张票多少钱|老人票价多少
parking|停车场在哪里|能停车吗
toilets|卫生间在哪|最近的厕所在哪里
oos|今天天气怎么样|给我讲个笑话|帮我放一首歌`},
		"ja": {`hours|何時に開きますか|営業時間を教えてください|今日は何時まで開いていますか|日曜日は開いていますか|閉館時間は何時ですか
tickets|入場料はいくらですか|チケットの値段を教えてください|学生割引はありますか|子供の料金はいくらですか|大人一枚いくらですか
parking|駐車場はありますか|どこに車を停められますか|駐車料金はいくらですか|近くに駐車場はありますか|車で行っても大丈夫ですか
toilets|トイレはどこですか|お手洗いはどこにありますか|トイレを探しています|一番近いトイレはどこ|化粧室はありますか`, `hours|何時に閉まりますか|明日は開いていますか
tickets|チケットはいくらですか|子供の入場料はいくら
parking|駐車場はどこですか|車を停める場所はありますか
toilets|お手洗いはどこ|トイレありますか
oos|明日の天気はどうですか|面白い話をして|音楽をかけて`},
	}
	rows := func(lang, block string) []IntentRow {
		var out []IntentRow
		for _, line := range strings.Split(block, "\n") {
			f := strings.Split(line, "|")
			for _, tx := range f[1:] {
				out = append(out, IntentRow{Text: tx, Label: f[0], Lang: lang})
			}
		}
		return out
	}
	for lang, set := range sets {
		res, err := NLU(rows(lang, set[0]), rows(lang, set[1]), NLUOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.OOSRecall == nil {
			t.Fatalf("%s: no out-of-scope recall", lang)
		}
		if res.InScopeAccuracy < 75 || *res.OOSRecall < 60 {
			t.Errorf("%s: in scope %.1f%%, out of scope %v (threshold %v)", lang, res.InScopeAccuracy, *res.OOSRecall, res.Threshold)
		}
	}
}
