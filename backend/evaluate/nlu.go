// Package evaluate measures the conversation engine on public benchmark formats: intent data as
// CSV (text,label[,lang]) and retrieval data in BEIR's layout. It backs `voicebot eval`, whose JSON
// output is a contract other tools read.
package evaluate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"voicebot/backend/conversation/nlu"
	"voicebot/backend/conversation/spelling"
	"voicebot/backend/conversation/wordvec"
	"voicebot/backend/text"
)

// IntentRow is one row of an intent CSV file.
type IntentRow struct {
	Text, Label, Lang string
}

// ReadIntentCSV reads a CSV file with a header naming the columns text and label, and optionally
// lang. Errors name the file and line.
func ReadIntentCSV(path string) ([]IntentRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: reading header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ti, ok1 := col["text"]
	li, ok2 := col["label"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s:1: header must name the columns text and label, got %q", path, header)
	}
	lg, hasLang := col["lang"]
	var rows []IntentRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err) // csv.ParseError carries the line
		}
		line, _ := r.FieldPos(0)
		if ti >= len(rec) || li >= len(rec) {
			return nil, fmt.Errorf("%s:%d: expected at least %d fields, got %d", path, line, max(ti, li)+1, len(rec))
		}
		row := IntentRow{Text: rec[ti], Label: strings.TrimSpace(rec[li])}
		if strings.EqualFold(row.Label, nlu.OOS) { // "OOS" is out of scope too, not an intent
			row.Label = nlu.OOS
		}
		if hasLang && lg < len(rec) {
			row.Lang = strings.TrimSpace(rec[lg])
		}
		if row.Label == "" {
			return nil, fmt.Errorf("%s:%d: empty label", path, line)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows after the header", path)
	}
	return rows, nil
}

// SampleShots draws n training rows of every in-scope label, as an operator writes a handful of
// phrasings per intent: deterministic for a seed (the labels in sorted order, each label's rows
// shuffled by one generator), rows in the order they were drawn. Out-of-scope rows are left out,
// since operators write none. In a set with a lang column a label is drawn in each language apart
// (n rows of "hours" in English and n in Spanish: each language's pack has its phrasings). n <= 0
// returns the rows unchanged.
func SampleShots(rows []IntentRow, n int, seed uint64) []IntentRow {
	if n <= 0 {
		return rows
	}
	byLabel := map[string][]IntentRow{}
	var labels []string
	for _, r := range rows {
		if r.Label == nlu.OOS {
			continue
		}
		k := r.Label
		if r.Lang != "" {
			k += "\x00" + strings.ToLower(r.Lang)
		}
		if _, ok := byLabel[k]; !ok {
			labels = append(labels, k)
		}
		byLabel[k] = append(byLabel[k], r)
	}
	sort.Strings(labels)
	rng := rand.New(rand.NewPCG(seed, 0x5107))
	var out []IntentRow
	for _, l := range labels {
		rs := byLabel[l]
		rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		out = append(out, rs[:min(n, len(rs))]...)
	}
	return out
}

// OfLanguage keeps the rows of a language (and those without a lang column); "" keeps all. A
// bare language ("en") keeps its regional tags too ("en-US", "en-GB"); a regional tag keeps only
// itself.
func OfLanguage(rows []IntentRow, lang string) []IntentRow {
	if lang == "" {
		return rows
	}
	bare := text.Base(lang) == strings.ToLower(strings.TrimSpace(lang))
	var out []IntentRow
	for _, r := range rows {
		if r.Lang == "" || strings.EqualFold(r.Lang, lang) || bare && text.Base(r.Lang) == text.Base(lang) {
			out = append(out, r)
		}
	}
	return out
}

// NLUResult is the JSON contract of `voicebot eval nlu --json`.
type NLUResult struct {
	InScopeAccuracy float64  `json:"in_scope_accuracy"`
	OOSRecall       *float64 `json:"oos_recall"`
	MacroF1         float64  `json:"macro_f1"`
	TrainSeconds    float64  `json:"train_seconds"`
	P50us           float64  `json:"p50_us"`
	P99us           float64  `json:"p99_us"`
	NTest           int      `json:"n_test"`
	NTrain          int      `json:"n_train"`
	Threshold       float64  `json:"threshold"`
	// Languages holds each language's own figures when the rows are of several languages,
	// each trained and measured apart, as the engine keeps a model per language; the figures
	// above are then over all the test rows (threshold: the first language's).
	Languages map[string]*NLUResult `json:"languages,omitempty"`
	// UnseenLabels lists the test rows' in-scope labels that no training row of their language
	// has, with how many test rows each: those rows count as misses (no model can name an
	// intent it never saw), and the command warns of them, since it is usually a mismatch of
	// the two files (another spelling of a label, or a --shots draw in another language).
	UnseenLabels map[string]int `json:"unseen_labels,omitempty"`

	lat       []float64 // classification times (µs), sorted, for the whole of several languages
	inN, oosN int       // in-scope and out-of-scope test rows
}

// NLUOptions choose what NLU measures; the zero value is the engine as it answers typed
// questions.
type NLUOptions struct {
	Lang       string // only rows of this language ("" for all)
	NoVectors  bool   // without the built-in word vectors
	NoSpelling bool   // without the spelling correction (package spelling)
	Progress   func(stage string, done, total int)
}

// NLU trains on train and measures on test. opt.Lang, if set, keeps only rows of that language
// (rows without a lang column are kept). The model is the engine's: with the word vectors of the
// rows' language when the binary carries them (rows without a lang column are read as
// English), unless opt.NoVectors, and each test row's slips put right as the engine does,
// unless opt.NoSpelling. Rows of several languages (a lang column and no lang) are
// split by language, as a content pack is: each language's model is trained on its own rows and
// measured on its own test rows, and the result has each language's figures beside the whole.
func NLU(train, test []IntentRow, opt NLUOptions) (*NLUResult, error) {
	lang := opt.Lang
	train, test = OfLanguage(train, lang), OfLanguage(test, lang)
	if len(train) == 0 || len(test) == 0 {
		return nil, fmt.Errorf("no rows left for language %q", lang)
	}
	if lang != "" {
		return nluOne(train, test, rowsLanguage(train, lang), opt)
	}
	trainBy, testBy := byLanguage(train), byLanguage(test)
	var langs []string
	for l := range testBy {
		if trainBy[l] == nil {
			return nil, fmt.Errorf("%d test rows are in language %q, which has no training rows", len(testBy[l]), l)
		}
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if len(trainBy) == 1 {
		return nluOne(train, test, langs[0], opt)
	}
	var all *NLUResult
	var lat []float64
	per := map[string]*NLUResult{}
	var inN, inOK, oosN, oosOK float64
	for _, l := range langs {
		r, err := nluOne(trainBy[l], testBy[l], l, opt)
		if err != nil {
			return nil, fmt.Errorf("language %q: %w", l, err)
		}
		per[l] = r
		if all == nil {
			all = &NLUResult{Threshold: r.Threshold}
		}
		for lab, n := range r.UnseenLabels {
			if all.UnseenLabels == nil {
				all.UnseenLabels = map[string]int{}
			}
			all.UnseenLabels[lab] += n
		}
		all.NTest += r.NTest
		all.NTrain += r.NTrain
		all.TrainSeconds += r.TrainSeconds
		all.MacroF1 += r.MacroF1 * float64(r.NTest)
		lat = append(lat, r.lat...)
		inN += float64(r.inN)
		inOK += r.InScopeAccuracy * float64(r.inN) / 100
		if r.OOSRecall != nil {
			oosN += float64(r.oosN)
			oosOK += *r.OOSRecall * float64(r.oosN) / 100
		}
	}
	all.TrainSeconds = round(all.TrainSeconds, 3)
	all.MacroF1 = round(all.MacroF1/float64(all.NTest), 2) // the languages' macro F1, by test rows
	if inN > 0 {
		all.InScopeAccuracy = round(100*inOK/inN, 2)
	}
	if oosN > 0 {
		v := round(100*oosOK/oosN, 2)
		all.OOSRecall = &v
	}
	sort.Float64s(lat)
	all.P50us = round(percentile(lat, 0.50), 1)
	all.P99us = round(percentile(lat, 0.99), 1)
	all.Languages = per
	return all, nil
}

// byLanguage groups rows by their lang column, lower-cased (rows without one are English).
func byLanguage(rows []IntentRow) map[string][]IntentRow {
	out := map[string][]IntentRow{}
	for _, r := range rows {
		l := strings.ToLower(strings.TrimSpace(r.Lang))
		if l == "" {
			l = "en"
		}
		out[l] = append(out[l], r)
	}
	return out
}

// nluOne trains one model on rows of one language (lang; "" for rows read as one) and
// measures it.
func nluOne(train, test []IntentRow, lang string, o NLUOptions) (*NLUResult, error) {
	progress := o.Progress
	ex := make([]nlu.Example, len(train))
	for i, r := range train {
		ex[i] = nlu.Example{Text: r.Text, Label: r.Label}
	}
	start := time.Now()
	opt := nlu.Options{Progress: progress, Lang: lang}
	if !o.NoVectors {
		opt.Vectors = wordvec.For(opt.Lang)
	}
	model, err := nlu.Train(ex, opt)
	if err != nil {
		return nil, err
	}
	// The engine puts a typed question's slips right against its content's words before the
	// model reads it (package spelling); here the content is the training rows.
	counts := map[string]int{}
	for _, r := range train {
		spelling.Count(counts, r.Text)
	}
	var speller *spelling.Speller
	if !o.NoSpelling {
		speller = spelling.New(lang, counts, opt.Vectors)
	}
	res := &NLUResult{TrainSeconds: round(time.Since(start).Seconds(), 3), NTest: len(test), NTrain: len(train), Threshold: round(model.Threshold(), 4)}
	known := map[string]bool{}
	for _, l := range model.Labels() {
		known[l] = true
	}
	for _, r := range test {
		if r.Label != nlu.OOS && !known[r.Label] {
			if res.UnseenLabels == nil {
				res.UnseenLabels = map[string]int{}
			}
			res.UnseenLabels[r.Label]++
		}
	}

	lat := make([]float64, len(test))
	var inN, inOK, oosN, oosOK int
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	for i, r := range test {
		t0 := time.Now()
		q := r.Text
		if fixed, _ := speller.Correct(text.Tokens(q)); fixed != nil {
			q = strings.Join(fixed, " ")
		}
		p := model.Predict(q)
		lat[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
		if progress != nil && (i+1)%1000 == 0 {
			progress("test", i+1, len(test))
		}
		gold := r.Label
		if gold == nlu.OOS {
			oosN++
			if p.Label == nlu.OOS {
				oosOK++
			}
		} else {
			inN++
			if p.Label == gold {
				inOK++
			}
		}
		if p.Label == gold {
			tp[gold]++
		} else {
			fp[p.Label]++
			fn[gold]++
		}
	}
	if inN > 0 {
		res.InScopeAccuracy = round(100*float64(inOK)/float64(inN), 2)
	}
	if oosN > 0 {
		v := round(100*float64(oosOK)/float64(oosN), 2)
		res.OOSRecall = &v
	}
	res.MacroF1 = round(100*macroF1(test, tp, fp, fn), 2)
	sort.Float64s(lat)
	res.P50us = round(percentile(lat, 0.50), 1)
	res.P99us = round(percentile(lat, 0.99), 1)
	res.lat, res.inN, res.oosN = lat, inN, oosN
	return res, nil
}

// rowsLanguage is the language of a set of rows: lang when set, else the one language of their
// lang column, "en" without one, and "" when they mix languages.
func rowsLanguage(rows []IntentRow, lang string) string {
	if lang != "" {
		return strings.ToLower(lang)
	}
	found := ""
	for _, r := range rows {
		l := strings.ToLower(r.Lang)
		if l == "" {
			l = "en"
		}
		if found != "" && l != found {
			return ""
		}
		found = l
	}
	return found
}

// macroF1 averages F1 over the gold labels of the test set (out of scope included as a class).
func macroF1(test []IntentRow, tp, fp, fn map[string]int) float64 {
	gold := map[string]bool{}
	for _, r := range test {
		gold[r.Label] = true
	}
	var sum float64
	for l := range gold {
		p, r := 0.0, 0.0
		if tp[l]+fp[l] > 0 {
			p = float64(tp[l]) / float64(tp[l]+fp[l])
		}
		if tp[l]+fn[l] > 0 {
			r = float64(tp[l]) / float64(tp[l]+fn[l])
		}
		if p+r > 0 {
			sum += 2 * p * r / (p + r)
		}
	}
	return sum / float64(len(gold))
}

func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
