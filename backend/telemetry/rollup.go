package telemetry

import (
	"context"
	"math/bits"
	"sync"
	"time"

	"voicebot/backend/store"
)

// Rollup keeps per-minute aggregates of the last RollupSpan of turns in memory (counts by kind,
// a latency histogram, intents and keys), so that the dashboard's metrics over 1 h, 24 h or 7 d
// add up small buckets instead of scanning every stored message. Each hour's minutes are also
// kept summed, so that the 7-day range adds up about 170 hours rather than 10,080 minutes. It is
// filled from the store once at start (in the background) and then by every turn.
type Rollup struct {
	mu      sync.Mutex
	buckets map[int64]*Minute // by Unix minute
	hours   map[int64]*Minute // by Unix hour: the sum of its minutes in buckets
	loaded  bool
}

// RollupSpan is how far back the rollup keeps minutes.
const RollupSpan = 7*24*time.Hour + time.Hour

// LatencyBuckets is the histogram's resolution: bucket i holds latencies in
// [2^(i/4), 2^((i+1)/4)) microseconds, about 19 % wide.
const LatencyBuckets = 128

// Minute is one minute of turns.
type Minute struct {
	Turns, Unanswered, Knowledge int
	Latency                      [LatencyBuckets]int
	Intents                      map[string]int
	Keys                         map[string]int
}

// NewRollup returns an empty rollup.
func NewRollup() *Rollup { return &Rollup{buckets: map[int64]*Minute{}, hours: map[int64]*Minute{}} }

func latencyBucket(us int64) int {
	if us < 1 {
		us = 1
	}
	// 4 sub-buckets per power of two, from the two bits after the leading one
	lg := 63 - bits.LeadingZeros64(uint64(us))
	frac := 0
	if lg >= 2 {
		frac = int((uint64(us) >> (lg - 2)) & 3)
	} else if lg == 1 {
		frac = int(uint64(us)&1) * 2
	}
	return min(LatencyBuckets-1, lg*4+frac)
}

// LatencyOf is the lower bound of a histogram bucket.
func LatencyOf(bucket int) time.Duration {
	lg, frac := bucket/4, bucket%4
	us := int64(1) << lg
	us += us * int64(frac) / 4
	return time.Duration(us) * time.Microsecond
}

// Add counts one turn.
func (r *Rollup) Add(at time.Time, kind, intent, key string, latency time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(at.Unix()/60, kind, intent, key, latency.Microseconds())
}

func (r *Rollup) add(minute int64, kind, intent, key string, us int64) {
	m := r.buckets[minute]
	if m == nil {
		m = newMinute()
		r.buckets[minute] = m
		if len(r.buckets)%64 == 0 {
			r.trim(minute)
		}
	}
	h := r.hours[hourOf(minute)]
	if h == nil {
		h = newMinute()
		r.hours[hourOf(minute)] = h
	}
	lb := latencyBucket(us)
	for _, m := range []*Minute{m, h} {
		m.Turns++
		switch kind {
		case "fallback", "handoff":
			m.Unanswered++
		case "knowledge":
			m.Knowledge++
		}
		m.Latency[lb]++
		if intent != "" {
			m.Intents[intent]++
		}
		m.Keys[key]++
	}
}

func newMinute() *Minute { return &Minute{Intents: map[string]int{}, Keys: map[string]int{}} }

// hourOf is the Unix hour of a Unix minute.
func hourOf(minute int64) int64 { return minute / 60 }

// trim drops the minutes older than the span and takes each out of its hour's sum (an hour
// whose minutes are all gone goes too), so that an hour's sum is always that of its minutes.
func (r *Rollup) trim(now int64) {
	oldest := now - int64(RollupSpan/time.Minute)
	for k, m := range r.buckets {
		if k < oldest {
			delete(r.buckets, k)
			r.hours[hourOf(k)].subtract(m)
			if r.hours[hourOf(k)].Turns == 0 {
				delete(r.hours, hourOf(k))
			}
		}
	}
}

// subtract takes a minute out of a sum of minutes: counts that reach 0 leave the maps, as a count
// never added is not in them.
func (s *Minute) subtract(m *Minute) {
	s.Turns -= m.Turns
	s.Unanswered -= m.Unanswered
	s.Knowledge -= m.Knowledge
	for i, c := range m.Latency {
		s.Latency[i] -= c
	}
	for k, c := range m.Intents {
		if s.Intents[k] -= c; s.Intents[k] == 0 {
			delete(s.Intents, k)
		}
	}
	for k, c := range m.Keys {
		if s.Keys[k] -= c; s.Keys[k] == 0 {
			delete(s.Keys, k)
		}
	}
}

// Load fills the rollup from the stored messages of the last RollupSpan (turns added meanwhile
// are kept: the scan stops where live counting began).
func (r *Rollup) Load(ctx context.Context, db Storage, until time.Time) error {
	var batch []store.BotTurn
	if err := db.BotTurns(ctx, until.Add(-RollupSpan).UnixMilli(), until.UnixMilli(), func(x store.BotTurn) { batch = append(batch, x) }); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range batch {
		r.add(x.AtMs/60000, x.Kind, x.Intent, x.Key, x.LatencyUS)
	}
	r.loaded = true
	return nil
}

// Loaded reports whether the stored history has been read in.
func (r *Rollup) Loaded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loaded
}

// Range sums the minutes in [from, to) into buckets of the given width, calling fn for each
// minute with its bucket index, or once for an hour's sum where the whole hour lies in [from, to)
// and in one bucket (under the rollup's lock: fn must not block, and must only add up what it is
// given).
func (r *Rollup) Range(from, to time.Time, width time.Duration, fn func(bucket int, m *Minute)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lo, hi := from.Unix()/60, to.Unix()/60
	per := int64(width / time.Minute)
	lookups := hi - lo // minutes to look up, or hours and the minutes at either end
	if per >= 60 {
		lookups = (hi-lo)/60 + 120
	}
	if lookups > int64(len(r.buckets)) { // fewer minutes kept than that: read them all
		for k, m := range r.buckets {
			if k >= lo && k < hi {
				fn(int((k-lo)/per), m)
			}
		}
		return
	}
	for k := lo; k < hi; {
		if k%60 == 0 && k+60 <= hi && (k-lo)/per == (k+59-lo)/per {
			if h := r.hours[hourOf(k)]; h != nil {
				fn(int((k-lo)/per), h)
			}
			k += 60
			continue
		}
		if m := r.buckets[k]; m != nil {
			fn(int((k-lo)/per), m)
		}
		k++
	}
}
