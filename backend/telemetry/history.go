package telemetry

import (
	"context"
	"log/slog"
	"time"

	"voicebot/backend/store"
)

// SampleEvery is the resolution of the metrics history kept in the store.
const SampleEvery = time.Minute

// Sample writes, once a minute, what the counters not derivable from the conversation history
// counted in that minute (rate-limit refusals, cache hits), and the bytes the store uses, to the
// store's metrics_history, so
// the dashboard can chart them over 1 h, 24 h and 7 d across restarts. Turn counts, latencies,
// intents and per-key use come from the stored messages themselves.
func (m *Metrics) Sample(ctx context.Context, db Storage) {
	t := time.NewTicker(SampleEvery)
	defer t.Stop()
	var lastRL, lastCH int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			rl, ch := m.RateLimitedTotal.Load(), m.CacheHitsTotal.Load()
			at := now.Truncate(SampleEvery).UnixMilli()
			drl, dch := rl-lastRL, ch-lastCH
			lastRL, lastCH = rl, ch
			var used int64 // for the storage forecast (storage.go)
			if st, err := db.Stats(ctx); err == nil {
				used = usedBytes(st)
			}
			err := db.PutSamples(ctx, []store.SampleRow{{AtMs: at, Name: "rate_limited", Value: float64(drl)},
				{AtMs: at, Name: "cache_hits", Value: float64(dch)}, {AtMs: at, Name: "store_used_bytes", Value: float64(used)}},
				now.Add(-8*24*time.Hour).UnixMilli())
			if err != nil && ctx.Err() == nil {
				slog.Warn("metrics history", "err", err)
			}
		}
	}
}
