// Package nlu is the intent model of the conversation engine: a multinomial logistic regression
// over hashed word and character n-grams, trained in-process from the content's phrasings in a few
// seconds, with a confidence threshold for out-of-scope input that is calibrated on held-out
// training data, so it works also when the content has no out-of-scope examples at all.
//
// Why hand-written: the model is the product. A linear model keeps training within the 5 s budget
// on two cores for 15,000 phrasings, classifies in microseconds, needs no pretrained weights and no
// network, and its softmax gives a confidence that can be thresholded.
package nlu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/blas/gonum"

	"voicebot/backend/conversation/text"
)

// OOS is the label of out-of-scope examples in training data and of out-of-scope predictions.
const OOS = "oos"

// Example is one labelled phrasing.
type Example struct {
	Text  string
	Label string
}

// Options tune training. The zero value means the defaults, which were chosen on CLINC150's
// train and validation splits (never its test split).
type Options struct {
	Epochs       int     // passes over the data before calibration; one more follows (default 4)
	LearningRate float64 // initial SGD step (default 8, decays linearly)
	L2           float64 // weight decay per example (default 1e-6)
	Holdout      float64 // share of each label held out to calibrate the threshold (default 0.15)
	// RejectRate is the share of correctly classified held-out phrasings that the threshold
	// may reject (default 0.004).
	RejectRate float64
	// Dropout is the share of an example's features dropped at random at each step, a
	// regulariser that makes the model lean on more than one cue per intent (default 0.2).
	Dropout float64
	Seed    uint64
	// Progress, if set, is called after each epoch of each training pass.
	Progress func(stage string, done, total int)
}

func (o *Options) defaults() {
	if o.Epochs == 0 {
		o.Epochs = 5
	}
	if o.LearningRate == 0 {
		o.LearningRate = 8
	}
	if o.L2 == 0 {
		o.L2 = 1e-6
	}
	if o.Holdout == 0 {
		o.Holdout = 0.15
	}
	if o.RejectRate == 0 {
		o.RejectRate = 0.004
	}
	if o.Dropout == 0 {
		o.Dropout = 0.5
	}
	if o.Dropout < 0 {
		o.Dropout = 0
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// Model is a trained intent classifier. It is immutable after Train and safe for concurrent use.
type Model struct {
	labels    []string
	oos       int // index of the OOS class, or -1
	vocab     *vocabulary
	w         []float32 // feature-major: w[f*C+c]
	b         []float32
	threshold float64
}

// Prediction is the model's answer for one utterance. Label is OOS when the utterance is judged
// out of scope; Intent then still names the nearest intent, for diagnostics.
type Prediction struct {
	Label      string
	Intent     string
	Confidence float64
}

// Labels lists the classes the model knows (including OOS when it was trained with it).
func (m *Model) Labels() []string { return append([]string(nil), m.labels...) }

// Threshold is the calibrated confidence below which an utterance is out of scope.
func (m *Model) Threshold() float64 { return m.threshold }

// SetThreshold overrides the calibrated threshold (the content's bot settings may fix one).
func (m *Model) SetThreshold(t float64) { m.threshold = t }

// Train fits a model to the examples. Examples labelled OOS train an out-of-scope class and take
// part in calibrating the threshold.
func Train(examples []Example, opt Options) (*Model, error) {
	opt.defaults()
	if len(examples) == 0 {
		return nil, errors.New("no training examples")
	}
	labels := labelSet(examples)
	if len(labels) < 2 && !(len(labels) == 1 && labels[0] != OOS) {
		return nil, fmt.Errorf("need at least one intent, got labels %v", labels)
	}
	// Calibrate without paying for a second training: fit on most of the data, measure the
	// confidence of the held-out rest, then finish the learning-rate schedule on all of it.
	if p := opt.Progress; p != nil {
		done := 0
		opt.Progress = func(stage string, _, _ int) { done++; p(stage, done, opt.Epochs+1) }
	}
	m, xs, ys := newModel(examples, labels)
	fit, held := split(examples, opt.Holdout, opt.Seed)
	if len(held) == 0 || len(labels) < 2 {
		m.sgd(xs, ys, opt.Epochs+1, 0, 1, opt)
		return m, nil
	}
	var fx []sparse
	var fy []int
	for _, i := range fit {
		fx, fy = append(fx, xs[i]), append(fy, ys[i])
	}
	m.sgd(fx, fy, opt.Epochs, 0, float64(opt.Epochs)/float64(opt.Epochs+1), opt)
	heldEx := make([]Example, len(held))
	for k, i := range held {
		heldEx[k] = examples[i]
	}
	m.threshold = m.calibrate(heldEx, opt.RejectRate)
	m.sgd(xs, ys, 1, float64(opt.Epochs)/float64(opt.Epochs+1), 1, opt)
	return m, nil
}

func labelSet(examples []Example) []string {
	set := map[string]bool{}
	for _, e := range examples {
		set[e.Label] = true
	}
	labels := make([]string, 0, len(set))
	for l := range set {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	return labels
}

// split holds out a share of every label, deterministically, and returns the indices of the
// examples to fit and of those held out.
func split(examples []Example, share float64, seed uint64) (fit, held []int) {
	byLabel := map[string][]int{}
	for i, e := range examples {
		byLabel[e.Label] = append(byLabel[e.Label], i)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	isHeld := make([]bool, len(examples))
	for _, l := range labelSet(examples) {
		idx := byLabel[l]
		n := int(math.Round(float64(len(idx)) * share))
		if len(idx)-n < 1 {
			n = len(idx) - 1
		}
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[:n] {
			isHeld[i] = true
		}
	}
	for i := range examples {
		if isHeld[i] {
			held = append(held, i)
		} else {
			fit = append(fit, i)
		}
	}
	return fit, held
}

// newModel builds the vocabulary from all examples, zero weights, and the examples' vectors and
// class indices.
func newModel(examples []Example, labels []string) (*Model, []sparse, []int) {
	m := &Model{labels: labels, oos: -1}
	labelIdx := make(map[string]int, len(labels))
	for i, l := range labels {
		labelIdx[l] = i
		if l == OOS {
			m.oos = i
		}
	}
	raw := featurizeAll(examples)
	m.vocab = buildVocabulary(raw)
	m.w = make([]float32, len(m.vocab.idf)*len(labels))
	m.b = make([]float32, len(labels))
	xs := make([]sparse, len(examples))
	ys := make([]int, len(examples))
	for i := range examples {
		xs[i] = m.vocab.vectorize(raw[i])
		ys[i] = labelIdx[examples[i].Label]
	}
	return m, xs, ys
}

// sgd runs epochs over the vectors with a learning rate that decays linearly over one schedule
// spanning [0,1]; from and to say which part of it these epochs cover, so that training can pause
// for calibration and resume where it stopped.
func (m *Model) sgd(xs []sparse, ys []int, epochs int, from, to float64, opt Options) {
	C := len(m.labels)
	// Mini-batch SGD on the softmax loss with L2 weight decay. Decay is applied lazily through a
	// global scale (true weights are scale*w) so that it costs O(1) per batch. Each batch is
	// spread over the cores twice: the forward pass by example (weights only read), then the
	// update by class range (each worker owns its columns), so no two goroutines write the same
	// weight and training is deterministic for a seed.
	scale := 1.0
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	r := rand.New(rand.NewPCG(opt.Seed, uint64(from*1e6)))
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	const batch = 16
	// Class weights balance intents with many phrasings (a long slot list expands into hundreds)
	// against intents with a handful, so that the prior does not pull every doubt to the former.
	weight := make([]float64, C)
	for _, y := range ys {
		weight[y]++
	}
	for c, n := range weight {
		if n > 0 {
			weight[c] = min(5, max(0.2, float64(len(ys))/float64(C)/n))
		}
	}
	bx := make([]sparse, batch)

	grads := make([][]float64, batch)
	for i := range grads {
		grads[i] = make([]float64, C)
	}
	total := epochs * len(xs)
	step := 0
	var wg sync.WaitGroup
	for ep := 0; ep < epochs; ep++ {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for lo := 0; lo < len(order); lo += batch {
			ids := order[lo:min(lo+batch, len(order))]
			lr := opt.LearningRate * (1 - (from + (to-from)*float64(step)/float64(total)) + 0.01)
			step += len(ids)
			sc := scale
			for k, id := range ids {
				bx[k] = dropout(xs[id], opt.Dropout, r, bx[k])
			}
			parallel(&wg, workers, func(w int) {
				for k := w; k < len(ids); k += workers {
					g := grads[k]
					m.scores(bx[k], sc, g)
					softmax(g)
					g[ys[ids[k]]] -= 1
					if wy := weight[ys[ids[k]]]; wy != 1 {
						for c := range g {
							g[c] *= wy
						}
					}
				}
			})
			scale *= math.Pow(1-lr*opt.L2, float64(len(ids)))
			if scale < 1e-6 {
				m.rescale(scale)
				scale = 1
			}
			gs := float32(lr / scale)

			parallel(&wg, workers, func(w int) {
				c0, c1 := w*C/workers, (w+1)*C/workers
				g32 := make([]float32, c1-c0)
				for k := range ids {
					x, g := bx[k], grads[k]
					for c := c0; c < c1; c++ {
						g32[c-c0] = float32(g[c])
						m.b[c] -= float32(lr*g[c]) * 0.1
					}
					for j, f := range x.idx {
						row := m.w[int(f)*C+c0 : int(f)*C+c1]
						axpy(-gs*x.val[j], g32, row)
					}
				}
			})
		}
		if opt.Progress != nil {
			opt.Progress("train", -1, -1)
		}
	}
	m.rescale(scale)
}

// parallel runs fn(0..workers-1) on their own goroutines and waits for all of them.
func parallel(wg *sync.WaitGroup, workers int, fn func(w int)) {
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer wg.Done()
			fn(w)
		}()
	}
	wg.Wait()
}

func featurizeAll(examples []Example) [][]uint64 {
	raw := make([][]uint64, len(examples))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(examples); i += workers {
				raw[i] = rawFeatures(nil, text.Tokens(examples[i].Text))
			}
		}(w)
	}
	wg.Wait()
	return raw
}

func (m *Model) rescale(s float64) {
	if s == 1 {
		return
	}
	f := float32(s)
	for i := range m.w {
		m.w[i] *= f
	}
}

func (m *Model) scores(x sparse, scale float64, out []float64) {
	C := len(m.labels)
	var stack [256]float32
	acc := stack[:0]
	if C <= len(stack) {
		acc = stack[:C]
	} else {
		acc = make([]float32, C)
	}
	for k, f := range x.idx {
		axpy(x.val[k], m.w[int(f)*C:int(f)*C+C], acc)
	}
	for c := range out {
		out[c] = float64(acc[c])*scale + float64(m.b[c])
	}
}

func softmax(s []float64) {
	max := math.Inf(-1)
	for _, v := range s {
		if v > max {
			max = v
		}
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v - max)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
}

// Probabilities returns the softmax over all labels for an utterance.
func (m *Model) Probabilities(utterance string) []float64 {
	p := make([]float64, len(m.labels))
	m.scores(m.vocab.featurize(utterance), 1, p)
	softmax(p)
	return p
}

// UnknownWords returns the words of an utterance that the model never learnt as words: a question
// about something the intents do not cover often names such a thing ("prisms", "renovation").
func (m *Model) UnknownWords(utterance string) []string {
	var out []string
	for _, t := range text.Tokens(utterance) {
		if _, ok := m.vocab.index[hashAdd(hashStart(groupWord), t)]; !ok {
			out = append(out, t)
		}
	}
	return out
}

// Predict classifies one utterance with the model's threshold.
func (m *Model) Predict(utterance string) Prediction { return m.PredictAt(utterance, m.threshold) }

// PredictAt classifies one utterance, judging it out of scope below the given threshold.
func (m *Model) PredictAt(utterance string, threshold float64) Prediction {
	p := m.Probabilities(utterance)
	best, bestIn := 0, -1
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
		if c != m.oos && (bestIn < 0 || p[c] > p[bestIn]) {
			bestIn = c
		}
	}
	pred := Prediction{Label: m.labels[best], Confidence: p[best]}
	if bestIn >= 0 {
		pred.Intent = m.labels[bestIn]
	}
	if best == m.oos {
		pred.Label = OOS
		return pred
	}
	if p[best] < threshold {
		pred.Label = OOS
	}
	return pred
}

// calibrate picks the threshold from held-out examples: the confidence below which rejectRate of
// the correctly classified held-out in-scope phrasings fall. It needs no out-of-scope examples, so
// it works for the usual content pack that has none; when the content has them they train the
// out-of-scope class, which catches what the threshold lets through.
func (m *Model) calibrate(held []Example, rejectRate float64) float64 {
	var conf []float64
	for _, e := range held {
		if e.Label == OOS {
			continue
		}
		p := m.Predict(e.Text)
		if p.Intent == e.Label {
			conf = append(conf, p.Confidence)
		}
	}
	if len(conf) == 0 {
		return 0
	}
	sort.Float64s(conf)
	k := min(int(float64(len(conf))*rejectRate), len(conf)-1)
	return conf[k]
}

// axpy adds a*x to y (len(y) >= len(x)). Training and classification spend their time here, so
// it is gonum's BLAS, SIMD assembly on amd64: 2.4 to 3.2 times the speed of the unrolled Go loop
// it replaced for rows of 75 and 151 classes (docs/BENCHMARKS.md).
func axpy(a float32, x, y []float32) {
	blas.Saxpy(len(x), a, x, 1, y, 1)
}

var blas gonum.Implementation

// dropout copies x into dst keeping each feature with probability 1-p, scaled by 1/(1-p) so that
// the expected input is unchanged.
func dropout(x sparse, p float64, r *rand.Rand, dst sparse) sparse {
	if p <= 0 {
		return x
	}
	dst.idx, dst.val = dst.idx[:0], dst.val[:0]
	keep := float32(1 / (1 - p))
	for k, f := range x.idx {
		if r.Float64() >= p {
			dst.idx = append(dst.idx, f)
			dst.val = append(dst.val, x.val[k]*keep)
		}
	}
	return dst
}
