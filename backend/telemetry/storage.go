package telemetry

// Disk you can see and plan: the store's files and the data volume, exported on /metrics at each
// scrape, and the forecast the dashboard shows (how fast the store grows, and when the volume
// would be full at that rate), from a minute sample of the store's used bytes kept in
// metrics_history.

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"voicebot/backend/store"
)

// Storage is what telemetry reads and writes of a store (store.DB on SQLite, postgres.DB on
// PostgreSQL): its sizes, the sampled metrics history, and the bot messages the rollup is
// filled from.
type Storage interface {
	Stats(ctx context.Context) (store.Stats, error)
	PutSamples(ctx context.Context, rows []store.SampleRow, dropBeforeMs int64) error
	FirstSample(ctx context.Context, name string, sinceMs int64) (store.SampleRow, bool, error)
	BotTurns(ctx context.Context, fromMs, toMs int64, fn func(store.BotTurn)) error
}

// storeCollector reads the store's Stats once per scrape.
type storeCollector struct {
	db                                         Storage
	dbBytes, walBytes, walLimit, walMax, free  *prometheus.Desc
	volFree, volSize, checkpoints, busy, given *prometheus.Desc
}

// WatchStore exports the store's sizes, the data volume's free space and the checkpoint counters.
func (m *Metrics) WatchStore(db Storage) {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	m.Registry.MustRegister(&storeCollector{db: db,
		dbBytes:     d("voicebot_store_database_bytes", "Size of the database file."),
		walBytes:    d("voicebot_store_wal_bytes", "Size of the write-ahead log file."),
		walLimit:    d("voicebot_store_wal_limit_bytes", "The bound the write-ahead log is kept under."),
		walMax:      d("voicebot_store_wal_max_bytes", "Largest size the write-ahead log was seen at since start."),
		free:        d("voicebot_store_free_bytes", "Free pages inside the database file, reused by new rows."),
		volFree:     d("voicebot_data_volume_free_bytes", "Free space on the volume that holds the store."),
		volSize:     d("voicebot_data_volume_size_bytes", "Size of the volume that holds the store."),
		checkpoints: d("voicebot_store_checkpoints_total", "WAL checkpoints since start, by mode.", "mode"),
		busy:        d("voicebot_store_checkpoint_busy_total", "RESTART or TRUNCATE checkpoints put off because a reader stayed in the WAL."),
		given:       d("voicebot_store_reclaimed_bytes_total", "Free pages handed back to the filesystem since start."),
	})
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.dbBytes, c.walBytes, c.walLimit, c.walMax, c.free, c.volFree, c.volSize, c.checkpoints, c.busy, c.given} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.db.Stats(ctx)
	if err != nil {
		return
	}
	g := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	g(c.dbBytes, s.DBBytes)
	g(c.walBytes, s.WALBytes)
	g(c.walLimit, s.WALLimit)
	g(c.walMax, s.MaxWALBytes)
	g(c.free, s.FreeBytes)
	if s.VolumeSize >= 0 {
		g(c.volFree, s.VolumeFree)
		g(c.volSize, s.VolumeSize)
	}
	for mode, n := range map[string]int64{"passive": s.Checkpoints, "restart": s.Restarts, "truncate": s.Truncates} {
		ch <- prometheus.MustNewConstMetric(c.checkpoints, prometheus.CounterValue, float64(n), mode)
	}
	ch <- prometheus.MustNewConstMetric(c.busy, prometheus.CounterValue, float64(s.BusyRetries))
	ch <- prometheus.MustNewConstMetric(c.given, prometheus.CounterValue, float64(s.Reclaimed))
}

// usedBytes is what the store's rows take: the database file less its free pages, and the WAL.
func usedBytes(s store.Stats) int64 { return s.DBBytes - s.FreeBytes + s.WALBytes }

// Forecast is the store's growth and what it leaves of the data volume.
type Forecast struct {
	Stats       store.Stats
	Over        time.Duration // the span the growth was measured over (0: not enough history yet)
	BytesPerDay float64
	DaysToFull  float64 // -1 when the store is not growing or the volume is unknown
}

// ForecastWindow is the span the growth rate is taken over (less while the history is shorter).
const ForecastWindow = 24 * time.Hour

// MinForecastSpan is the least history a rate is given from.
const MinForecastSpan = 10 * time.Minute

// StorageForecast reads the store's sizes and the used-bytes samples of the last ForecastWindow.
func StorageForecast(ctx context.Context, db Storage, now time.Time) (Forecast, error) {
	f := Forecast{DaysToFull: -1}
	s, err := db.Stats(ctx)
	if err != nil {
		return f, err
	}
	f.Stats = s
	first, ok, err := db.FirstSample(ctx, "store_used_bytes", now.Add(-ForecastWindow).UnixMilli())
	if err != nil || !ok {
		return f, err
	}
	at, then := first.AtMs, first.Value
	span := now.Sub(time.UnixMilli(at))
	if span < MinForecastSpan {
		return f, nil
	}
	f.Over = span
	f.BytesPerDay = (float64(usedBytes(s)) - then) / span.Hours() * 24
	if f.BytesPerDay > 0 && s.VolumeFree >= 0 {
		// the free pages inside the file are used before the file grows
		f.DaysToFull = float64(s.VolumeFree+s.FreeBytes) / f.BytesPerDay
	}
	return f, nil
}
