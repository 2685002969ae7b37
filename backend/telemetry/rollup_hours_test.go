package telemetry

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// sumsByMinute is Range as it was, every kept minute added one by one: the oracle for the hours.
func sumsByMinute(r *Rollup, from, to time.Time, width time.Duration) map[int]*Minute {
	out := map[int]*Minute{}
	lo, hi := from.Unix()/60, to.Unix()/60
	per := int64(width / time.Minute)
	for k, m := range r.buckets {
		if k >= lo && k < hi {
			addInto(out, int((k-lo)/per), m)
		}
	}
	return out
}

func addInto(out map[int]*Minute, b int, m *Minute) {
	s := out[b]
	if s == nil {
		s = newMinute()
		out[b] = s
	}
	s.Turns += m.Turns
	s.Unanswered += m.Unanswered
	s.Knowledge += m.Knowledge
	for i, c := range m.Latency {
		s.Latency[i] += c
	}
	for k, c := range m.Intents {
		s.Intents[k] += c
	}
	for k, c := range m.Keys {
		s.Keys[k] += c
	}
}

// TestRollupHoursAsMinutes: Range with the hours' sums gives, bucket by bucket, what adding up
// every minute gives, over the Metrics page's ranges and odd ones (not on the hour, widths that
// do not hold whole hours, more than the span), as turns arrive out of order and old minutes are
// dropped (an hour's sum loses the minutes dropped from it); and every hour's sum is that of its
// minutes.
func TestRollupHoursAsMinutes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	r := NewRollup()
	start := time.Date(2026, 11, 20, 9, 17, 31, 0, time.UTC)
	kinds := []string{"intent", "fallback", "handoff", "knowledge", "repair"}
	at := start
	for step := 0; step < 40000; step++ {
		at = at.Add(time.Duration(rnd.Int64N(int64(40 * time.Second))))
		when := at
		if rnd.IntN(10) == 0 { // a turn loaded late, from the stored history
			when = at.Add(-time.Duration(rnd.Int64N(int64(RollupSpan))))
		}
		intent := ""
		if rnd.IntN(2) == 0 {
			intent = fmt.Sprintf("intent_%d", rnd.IntN(6))
		}
		r.Add(when, kinds[rnd.IntN(len(kinds))], intent, fmt.Sprintf("k%d", rnd.IntN(4)), time.Duration(rnd.Int64N(int64(50*time.Millisecond))))
		if step%5000 != 4999 {
			continue
		}
		for h, sum := range r.hours {
			want := map[int]*Minute{}
			for k := h * 60; k < h*60+60; k++ {
				if m := r.buckets[k]; m != nil {
					addInto(want, 0, m)
				}
			}
			if !reflect.DeepEqual(want[0], sum) {
				t.Fatalf("step %d: hour %d's sum is not that of its minutes", step, h)
			}
		}
		for _, rg := range []struct{ span, width time.Duration }{
			{time.Hour, time.Minute}, {24 * time.Hour, 15 * time.Minute}, {7 * 24 * time.Hour, 2 * time.Hour},
			{7*24*time.Hour + 3*time.Hour, 2 * time.Hour}, {3 * time.Hour, 90 * time.Minute}, {50 * time.Hour, 3 * time.Hour}, {10 * 24 * time.Hour, time.Hour},
		} {
			now := at.Add(time.Duration(rnd.Int64N(int64(time.Hour))))
			since := now.Add(-rg.span).Truncate(rg.width)
			if rnd.IntN(2) == 0 {
				since = now.Add(-rg.span) // not on a bucket's edge
			}
			got := map[int]*Minute{}
			r.Range(since, now.Add(time.Minute), rg.width, func(b int, m *Minute) { addInto(got, b, m) })
			want := sumsByMinute(r, since, now.Add(time.Minute), rg.width)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d, %v by %v from %v: Range differs from the minutes added up (%d buckets, want %d)", step, rg.span, rg.width, since, len(got), len(want))
			}
		}
	}
}
