package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/golang/freetype/truetype"
	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
	"golang.org/x/image/font"

	"voicebot/backend/telemetry"
	"voicebot/backend/text"
)

// Count is one row of a ranked list.
type Count struct {
	Label string
	N     int
}

// MetricsData is what the Metrics page shows for one time range.
type MetricsData struct {
	Range         string
	Loading       bool // the stored history is still being read in
	Turns         int
	Fallbacks     int // fallback and handoff answers
	Knowledge     int
	P50, P95, P99 time.Duration
	CacheHits     int
	RateLimited   int
	TurnsChart    string // SVG
	LatencyChart  string // SVG
	RefusalsChart string // SVG
	Intents       []Count
	Keys          []Count
	Unanswered    []Count
}

var ranges = map[string]struct{ span, bucket time.Duration }{
	"1h":  {time.Hour, time.Minute},
	"24h": {24 * time.Hour, 15 * time.Minute},
	"7d":  {7 * 24 * time.Hour, 2 * time.Hour},
}

func (d *Dashboard) metrics(w http.ResponseWriter, r *http.Request, s *signIn) {
	rg := r.URL.Query().Get("range")
	if _, ok := ranges[rg]; !ok {
		rg = "24h"
	}
	data, err := d.metricsData(r.Context(), rg, time.Now())
	if err != nil {
		http.Error(w, "could not read the metrics", http.StatusInternalServerError)
		return
	}
	d.render(w, r, http.StatusOK, metricsPage(d.page("Metrics", "Metrics", s), data))
}

// metricsData reads a range's figures: turns, latency, answer kinds, intents and keys from the
// rollup (kept from the stored messages and every turn since), the unanswered questions and the
// sampled metrics history (refusals, cache hits) through the queries.
func (d *Dashboard) metricsData(ctx context.Context, rg string, now time.Time) (MetricsData, error) {
	spec := ranges[rg]
	since := now.Add(-spec.span).Truncate(spec.bucket)
	n := int(now.Sub(since)/spec.bucket) + 1
	md := MetricsData{Range: rg}
	turns := make([]float64, n)
	p50s, p95s, p99s := make([]float64, n), make([]float64, n), make([]float64, n)
	hist := make([][telemetry.LatencyBuckets]int, n)
	var all [telemetry.LatencyBuckets]int
	intents, keys := map[string]int{}, map[string]int{}
	d.Rollup.Range(since, now.Add(time.Minute), spec.bucket, func(b int, m *telemetry.Minute) {
		if b < 0 || b >= n {
			return
		}
		md.Turns += m.Turns
		md.Fallbacks += m.Unanswered
		md.Knowledge += m.Knowledge
		turns[b] += float64(m.Turns)
		for i, c := range m.Latency {
			hist[b][i] += c
			all[i] += c
		}
		for k, c := range m.Intents {
			intents[k] += c
		}
		for k, c := range m.Keys {
			keys[k] += c
		}
	})
	md.Loading = !d.Rollup.Loaded()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for i := range hist {
		p50s[i], p95s[i], p99s[i] = ms(histPercentile(hist[i][:], 0.50)), ms(histPercentile(hist[i][:], 0.95)), ms(histPercentile(hist[i][:], 0.99))
	}
	md.P50, md.P95, md.P99 = histPercentile(all[:], 0.50), histPercentile(all[:], 0.95), histPercentile(all[:], 0.99)
	md.Intents, md.Keys = top(intents, 15), top(keys, 15)

	// The questions the bot could not answer, grouped by their words (case, accents and
	// punctuation folded): the operator's work list.
	raw, err := d.Data.Unanswered(ctx, since)
	if err != nil {
		return md, err
	}
	md.Unanswered = groupByWords(raw, 50)
	refusals := make([]float64, n)
	samples, err := d.Data.Samples(ctx, since, "rate_limited", "cache_hits")
	if err != nil {
		return md, err
	}
	for _, sm := range samples {
		b := int(sm.At.Sub(since) / spec.bucket)
		switch {
		case b < 0 || b >= n:
		case sm.Name == "rate_limited":
			md.RateLimited += int(sm.Value)
			refusals[b] += sm.Value
		case sm.Name == "cache_hits":
			md.CacheHits += int(sm.Value)
		}
	}
	xs := make([]time.Time, n)
	for i := range xs {
		xs[i] = since.Add(time.Duration(i) * spec.bucket)
	}
	md.TurnsChart = svgChart("Turns per "+bucketName(spec.bucket), xs, series{"turns", turns})
	md.LatencyChart = svgChart("Reply latency (ms)", xs, series{"p50", p50s}, series{"p95", p95s}, series{"p99", p99s})
	md.RefusalsChart = svgChart("Rate-limit refusals per "+bucketName(spec.bucket), xs, series{"refusals", refusals})
	return md, nil
}

// histPercentile reads a percentile off a latency histogram (to the bucket's resolution).
func histPercentile(h []int, q float64) time.Duration {
	total := 0
	for _, c := range h {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := int(q*float64(total) + 0.5)
	seen := 0
	for i, c := range h {
		seen += c
		if seen >= max(want, 1) {
			return telemetry.LatencyOf(i)
		}
	}
	return telemetry.LatencyOf(len(h) - 1)
}

// top sorts a count map, most first, and keeps n.
func top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, c := range m {
		if k == "" {
			k = "(terminal)"
		}
		out = append(out, Count{Label: k, N: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Label < out[j].Label
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// groupByWords merges counts whose labels fold to the same words, labelled by their most
// frequent spelling, and returns the top n.
func groupByWords(in []Count, n int) []Count {
	idx := map[string]int{}
	var out []Count
	for _, c := range in { // most frequent first, so the first spelling seen labels the group
		k := text.Fold(c.Label)
		if i, ok := idx[k]; ok {
			out[i].N += c.N
			continue
		}
		idx[k] = len(out)
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].N > out[j].N })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func bucketName(b time.Duration) string {
	switch b {
	case time.Minute:
		return "minute"
	case 15 * time.Minute:
		return "15 minutes"
	}
	return fmt.Sprintf("%v", b)
}

type series struct {
	name string
	ys   []float64
}

var seriesColors = []drawing.Color{chart.ColorBlue, chart.ColorOrange, chart.ColorRed}

// svgChart renders time series as an SVG line chart (server side: the page needs no script),
// with a legend when there is more than one series.
func svgChart(title string, xs []time.Time, ss ...series) string {
	top := 1.0
	for _, s := range ss {
		top = max(top, maxOf(s.ys, 1))
	}
	c := chart.Chart{
		Title:  title,
		Width:  640,
		Height: 240,
		XAxis:  chart.XAxis{ValueFormatter: chart.TimeValueFormatterWithFormat("01-02 15:04")},
		YAxis:  chart.YAxis{Range: &chart.ContinuousRange{Min: 0, Max: top}},
	}
	for i, s := range ss {
		c.Series = append(c.Series, chart.TimeSeries{Name: s.name, XValues: xs, YValues: s.ys,
			Style: chart.Style{StrokeColor: seriesColors[i%len(seriesColors)], StrokeWidth: 2}})
	}
	if len(ss) > 1 {
		c.Elements = []chart.Renderable{chart.LegendLeft(&c)}
	}
	var m *measuring
	svg := func(width, height int) (chart.Renderer, error) {
		r, err := chart.SVG(width, height)
		if err != nil {
			return nil, err
		}
		m = &measuring{Renderer: r, dpi: chart.DefaultDPI}
		return m, nil
	}
	var buf bytes.Buffer
	err := c.Render(svg, &buf)
	if m != nil {
		m.release()
	}
	if err != nil {
		return ""
	}
	return buf.String()
}

// measuring is go-chart's SVG renderer with a faster MeasureText. go-chart's makes a new
// truetype face for every label it measures, and a face allocates its glyph cache: 57 MB and
// 50 ms for the three charts of the 7-day page. This one follows the renderer's font, size, DPI
// and text rotation (what go-chart's MeasureText reads) and measures the same way with a face
// taken from a pool by font, size and DPI, so the SVG is byte for byte go-chart's
// (TestChartsAsGoChartDraws). A face is used by one goroutine at a time: one chart's renderer
// holds its faces until release.
type measuring struct {
	chart.Renderer
	font      *truetype.Font
	size, dpi float64
	theta     *float64
	faces     map[faceKey]font.Face
}

// facePools holds the faces not in use, a *sync.Pool by faceKey. A face's advances and kerning
// do not depend on what it measured before.
var facePools sync.Map

type faceKey struct {
	font      *truetype.Font
	size, dpi float64
}

func (m *measuring) ResetStyle() { // go-chart's ResetStyle keeps the font and clears the size
	m.Renderer.ResetStyle()
	m.size = 0
}

func (m *measuring) SetFont(f *truetype.Font) {
	m.Renderer.SetFont(f)
	m.font = f
}

func (m *measuring) SetFontSize(size float64) {
	m.Renderer.SetFontSize(size)
	m.size = size
}

func (m *measuring) SetDPI(dpi float64) {
	m.Renderer.SetDPI(dpi)
	m.dpi = dpi
}

func (m *measuring) SetTextRotation(radians float64) {
	m.Renderer.SetTextRotation(radians)
	m.theta = &radians
}

func (m *measuring) ClearTextRotation() {
	m.Renderer.ClearTextRotation()
	m.theta = nil
}

// release gives the chart's faces back to their pools.
func (m *measuring) release() {
	for k, f := range m.faces {
		if pool, ok := facePools.Load(k); ok {
			pool.(*sync.Pool).Put(f)
		}
	}
	m.faces = nil
}

// MeasureText is go-chart's vectorRenderer.MeasureText with the face kept.
func (m *measuring) MeasureText(body string) (box chart.Box) {
	if m.font == nil {
		return
	}
	k := faceKey{m.font, m.size, m.dpi}
	face := m.faces[k]
	if face == nil {
		if m.faces == nil {
			m.faces = map[faceKey]font.Face{}
		}
		pool, _ := facePools.LoadOrStore(k, &sync.Pool{})
		if f, ok := pool.(*sync.Pool).Get().(font.Face); ok {
			face = f
		} else {
			face = truetype.NewFace(m.font, &truetype.Options{DPI: m.dpi, Size: m.size})
		}
		m.faces[k] = face
	}
	box.Right = font.MeasureString(face, body).Ceil()
	box.Bottom = int(drawing.PointsToPixels(m.dpi, m.size))
	if m.theta == nil {
		return
	}
	return box.Corners().Rotate(chart.RadiansToDegrees(*m.theta)).Box()
}

func maxOf(v []float64, floor float64) float64 {
	m := floor
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	return m * 1.1
}
