package telemetry

import (
	"testing"
	"time"
)

func TestLatencyBuckets(t *testing.T) {
	prev := -1
	for _, us := range []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 100, 1000, 5000, 20000, 1 << 40} {
		b := latencyBucket(us)
		if b < prev {
			t.Errorf("bucket of %d µs (%d) below the previous (%d)", us, b, prev)
		}
		prev = b
		if us >= 4 {
			lo := LatencyOf(b)
			if lo > time.Duration(us)*time.Microsecond || lo*5/4 < time.Duration(us)*time.Microsecond*99/100 && b < LatencyBuckets-1 {
				t.Errorf("%d µs in bucket %d starting at %v", us, b, lo)
			}
		}
	}
}

func TestRollupRange(t *testing.T) {
	r := NewRollup()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.Add(now.Add(-90*time.Minute), "intent", "hours", "k1", time.Millisecond)
	r.Add(now.Add(-30*time.Minute), "fallback", "", "k1", 2*time.Millisecond)
	r.Add(now.Add(-29*time.Minute), "knowledge", "", "k2", 3*time.Millisecond)
	turns, unanswered, buckets := 0, 0, map[int]int{}
	r.Range(now.Add(-time.Hour), now, 15*time.Minute, func(b int, m *Minute) {
		turns += m.Turns
		unanswered += m.Unanswered
		buckets[b] += m.Turns
	})
	if turns != 2 || unanswered != 1 || buckets[2] != 2 {
		t.Errorf("turns %d unanswered %d buckets %v", turns, unanswered, buckets)
	}
	// minutes older than the span are dropped as new ones arrive
	for i := 0; i < 200; i++ {
		r.Add(now.Add(RollupSpan+time.Duration(i)*time.Minute), "intent", "x", "k", time.Millisecond)
	}
	old := 0
	r.Range(now.Add(-2*time.Hour), now, time.Hour, func(int, *Minute) { old++ })
	if old != 0 {
		t.Errorf("%d minutes older than the span kept", old)
	}
}
