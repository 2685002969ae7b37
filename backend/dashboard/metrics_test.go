package dashboard

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"

	"voicebot/backend/store"
	"voicebot/backend/telemetry"
)

// TestChartsAsGoChartDraws: the charts drawn with the measuring renderer (faces kept per chart)
// are byte for byte those of go-chart's own SVG renderer, for one series and for three with a
// legend, empty and full, over the three ranges' bucket counts.
func TestChartsAsGoChartDraws(t *testing.T) {
	since := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	for _, n := range []int{61, 97, 85} {
		xs := make([]time.Time, n)
		a, b, c, zero := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range xs {
			xs[i] = since.Add(time.Duration(i) * time.Hour)
			a[i] = float64(i*37%100) + 500
			b[i] = float64(i*13%20) + 4.25
			c[i] = float64(i*7%30) + 20.5
		}
		for _, ss := range [][]series{
			{{"turns", a}},
			{{"p50", b}, {"p95", c}, {"p99", a}},
			{{"refusals", zero}},
			{{"p50", zero}, {"p95", zero}, {"p99", zero}},
		} {
			top := 1.0
			for _, s := range ss {
				top = max(top, maxOf(s.ys, 1))
			}
			ch := chart.Chart{Title: "Reply latency (ms)", Width: 640, Height: 240,
				XAxis: chart.XAxis{ValueFormatter: chart.TimeValueFormatterWithFormat("01-02 15:04")},
				YAxis: chart.YAxis{Range: &chart.ContinuousRange{Min: 0, Max: top}}}
			for i, s := range ss {
				ch.Series = append(ch.Series, chart.TimeSeries{Name: s.name, XValues: xs, YValues: s.ys,
					Style: chart.Style{StrokeColor: seriesColors[i%len(seriesColors)], StrokeWidth: 2}})
			}
			if len(ss) > 1 {
				ch.Elements = []chart.Renderable{chart.LegendLeft(&ch)}
			}
			var want bytes.Buffer
			if err := ch.Render(chart.SVG, &want); err != nil {
				t.Fatal(err)
			}
			// several pages drawn at once share the pooled faces, one chart at a time each
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					got := svgChart("Reply latency (ms)", xs, ss...)
					if got == "" || got != want.String() {
						t.Errorf("%d points, %d series: the chart differs from go-chart's SVG (%d bytes, want %d)", n, len(ss), len(got), want.Len())
					}
				})
			}
			wg.Wait()
		}
	}
}

// TestUnansweredPairedAsJoin: the Metrics page's unanswered questions, read with the visitor's
// message found next to the bot's, are those of the join by session and turn; and when a turn's
// messages are apart, the join answers.
func TestUnansweredPairedAsJoin(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	turn := randomTurns(t, db, now)
	d := &Dashboard{Data: NewStoreView(db), Rollup: telemetry.New().Rollup}
	check := func(wantDrone bool) {
		t.Helper()
		md, err := d.metricsData(ctx, "7d", now)
		if err != nil {
			t.Fatal(err)
		}
		since := now.Add(-ranges["7d"].span).Truncate(ranges["7d"].bucket)
		rows, err := db.Read().Query(`SELECT v.text, count(*) FROM messages b JOIN messages v
			ON v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
			WHERE b.role = 'bot' AND b.kind IN ('fallback', 'handoff') AND b.created_ms >= ?
			GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2000`, since.UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		var raw []Count
		for rows.Next() {
			var c Count
			rows.Scan(&c.Label, &c.N)
			if c.Label == "" {
				c.Label = "(terminal)"
			}
			raw = append(raw, c)
		}
		rows.Close()
		want := groupByWords(raw, 50)
		if len(want) < 4 || !slices.Equal(md.Unanswered, want) {
			t.Errorf("unanswered questions %v, want %v", md.Unanswered, want)
		}
		if got := slices.ContainsFunc(md.Unanswered, func(c Count) bool { return c.Label == "may I bring a drone" }); got != wantDrone {
			t.Errorf("the question whose messages are apart listed: %v, want %v", got, wantDrone)
		}
	}
	check(false)
	writeApart(t, db, turn, now.Add(-time.Hour).UnixMilli())
	check(true)
}
