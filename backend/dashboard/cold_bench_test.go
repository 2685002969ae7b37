package dashboard

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"testing"

	"voicebot/backend/store"
)

// The Teach and 7-day Metrics pages loaded with every reader connection's page cache emptied
// first (PRAGMA shrink_memory on each of the read pool's connections, outside the timer): the
// first visit's figure, where every page of the week's listed turns is read from the file and
// decrypted. The benchmarks above load a page again and again, so their readers keep what fits
// in their 8 MB caches.
func BenchmarkColdTeach100k(b *testing.B)     { benchCold(b, "/dashboard/teach") }
func BenchmarkColdMetrics7d100k(b *testing.B) { benchCold(b, "/dashboard/metrics?range=7d") }

func benchCold(b *testing.B, path string) {
	d, c := seeded(b, 100000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var conns []*sql.Conn
		for range 4 { // the read pool's connections, each held until all are
			conn, err := d.Data.(*StoreView).DB.(*store.DB).Read().Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, conn)
		}
		for _, conn := range conns {
			_, err := conn.ExecContext(ctx, "PRAGMA shrink_memory")
			conn.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("%s: %d", path, w.Code)
		}
	}
}
