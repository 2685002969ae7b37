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
	"voicebot/backend/conversation/wordvec"
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
// since operators write none. n <= 0 returns the rows unchanged.
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
		if _, ok := byLabel[r.Label]; !ok {
			labels = append(labels, r.Label)
		}
		byLabel[r.Label] = append(byLabel[r.Label], r)
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

// OfLanguage keeps the rows of a language (and those without a lang column); "" keeps all.
func OfLanguage(rows []IntentRow, lang string) []IntentRow {
	if lang == "" {
		return rows
	}
	var out []IntentRow
	for _, r := range rows {
		if r.Lang == "" || strings.EqualFold(r.Lang, lang) {
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
}

// NLU trains on train and measures on test. lang, if set, keeps only rows of that language (rows
// without a lang column are kept). The model is the engine's: with the word vectors of the
// rows' language when the binary carries them (rows without a lang column are read as
// English), unless vectors is false.
func NLU(train, test []IntentRow, lang string, vectors bool, progress func(stage string, done, total int)) (*NLUResult, error) {
	train, test = OfLanguage(train, lang), OfLanguage(test, lang)
	if len(train) == 0 || len(test) == 0 {
		return nil, fmt.Errorf("no rows left for language %q", lang)
	}
	ex := make([]nlu.Example, len(train))
	for i, r := range train {
		ex[i] = nlu.Example{Text: r.Text, Label: r.Label}
	}
	start := time.Now()
	opt := nlu.Options{Progress: progress, Lang: rowsLanguage(train, lang)}
	if vectors {
		opt.Vectors = wordvec.For(opt.Lang)
	}
	model, err := nlu.Train(ex, opt)
	if err != nil {
		return nil, err
	}
	res := &NLUResult{TrainSeconds: round(time.Since(start).Seconds(), 3), NTest: len(test), NTrain: len(train), Threshold: round(model.Threshold(), 4)}

	lat := make([]float64, len(test))
	var inN, inOK, oosN, oosOK int
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	for i, r := range test {
		t0 := time.Now()
		p := model.Predict(r.Text)
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
