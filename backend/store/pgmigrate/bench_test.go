package pgmigrate_test

import (
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"voicebot/backend/internal/pgtest"
	"voicebot/backend/store/pgmigrate"
)

var (
	benchOnce sync.Once
	benchSrc  *source
	benchDir  string
)

// BenchmarkCopy copies a store of 100,000 messages (5,000 sessions of 10 turns, every third a
// voice turn) into a fresh database of a throwaway PostgreSQL server on this machine, at three
// batch sizes; rows/s counts every row copied (messages, sessions, audit, keys, ...). The store
// is filled once per process, through the store's SaveTurn.
//
//	go test -run '^$' -bench BenchmarkCopy -benchtime 1x -count 3 ./backend/store/pgmigrate/
func BenchmarkCopy(b *testing.B) {
	benchOnce.Do(func() {
		var err error
		if benchDir, err = os.MkdirTemp("", "pgmigrate-bench"); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		benchSrc = fill(b, benchDir, 5000, 10)
		b.Logf("filled a store of 100,000 messages in %s", time.Since(t0).Round(time.Millisecond))
	})
	srv := pgtest.Start(b)
	for _, batch := range []int{500, 2000, pgmigrate.DefaultBatch} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			var rows int64
			var took time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				_, pg := newTarget(b, srv)
				b.StartTimer()
				t0 := time.Now()
				res, err := pgmigrate.Run(ctx, opts(benchSrc, pg, batch))
				took += time.Since(t0)
				if err != nil || !res.OK() {
					b.Fatalf("%v %+v", err, res)
				}
				for _, t := range res.Tables {
					rows += t.Copied
				}
			}
			b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		})
	}
}
