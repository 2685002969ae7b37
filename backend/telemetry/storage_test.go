package telemetry

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"voicebot/backend/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStorageForecast: the growth rate comes from the used-bytes samples, the days to full from the
// volume's free space; with under MinForecastSpan of history there is no rate.
func TestStorageForecast(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	now := time.Now()
	f, err := StorageForecast(ctx, db, now)
	if err != nil || f.Over != 0 || f.DaysToFull != -1 || f.Stats.DBBytes == 0 {
		t.Fatalf("no history: %+v %v", f, err)
	}
	used := usedBytes(f.Stats)
	// 12 hours ago the store used 6 MB less: 12 MB a day.
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO metrics_history(at_ms, name, value) VALUES (?, 'store_used_bytes', ?), (?, 'store_used_bytes', 1)`,
			now.Add(-12*time.Hour).UnixMilli(), used-6_000_000, now.Add(-30*time.Hour).UnixMilli())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f, err = StorageForecast(ctx, db, now)
	if err != nil {
		t.Fatal(err)
	}
	if f.Over < 11*time.Hour || f.BytesPerDay < 11e6 || f.BytesPerDay > 13e6 {
		t.Errorf("over %s, %.0f bytes a day (want about 12 MB over 12 h; the sample 30 h ago is outside the window)", f.Over, f.BytesPerDay)
	}
	want := float64(f.Stats.VolumeFree+f.Stats.FreeBytes) / f.BytesPerDay
	if f.DaysToFull < want*0.99 || f.DaysToFull > want*1.01 {
		t.Errorf("days to full %.1f, want %.1f", f.DaysToFull, want)
	}
}

// TestStoreMetricsExported: /metrics carries the store's sizes, the volume and the checkpoints.
func TestStoreMetricsExported(t *testing.T) {
	db := openStore(t)
	m := New()
	m.WatchStore(db)
	n, err := testutil.GatherAndCount(m.Registry, "voicebot_store_database_bytes", "voicebot_store_wal_bytes", "voicebot_store_wal_limit_bytes",
		"voicebot_data_volume_free_bytes", "voicebot_store_checkpoints_total", "voicebot_store_reclaimed_bytes_total")
	if err != nil || n != 8 { // three checkpoint modes
		t.Fatalf("%d series, %v", n, err)
	}
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(`# HELP voicebot_store_wal_limit_bytes The bound the write-ahead log is kept under.
# TYPE voicebot_store_wal_limit_bytes gauge
voicebot_store_wal_limit_bytes 6.7108864e+07
`), "voicebot_store_wal_limit_bytes"); err != nil {
		t.Error(err)
	}
}
