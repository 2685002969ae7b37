package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkOutboxDiskPerTurn is what a turn takes of the database file with the fleet outbox
// off and on (every row left unshipped, as on a kiosk cut off from its fleet database): b.N
// turns of five-turn conversations, then the file's size over b.N. Run with -benchtime 5000x
// (docs/OPERATIONS.md, a day offline).
func BenchmarkOutboxDiskPerTurn(b *testing.B) {
	state := []byte(`{"lang":"en","turns":3,"last_intent":"opening_hours","slots":{"day":"sunday"},"history":["what are the opening hours","and on sunday?"],"topic":"visit","x":"` + strings.Repeat("y", 60) + `"}`)
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("outbox=%v", on), func(b *testing.B) {
			ctx := context.Background()
			path := filepath.Join(b.TempDir(), "v.db")
			db, err := OpenWith(ctx, path, testKey(1), Options{Outbox: on})
			if err != nil {
				b.Fatal(err)
			}
			for i := range b.N {
				err := db.SaveTurn(ctx, SessionRow{ID: fmt.Sprintf("s%d", i/5), Lang: "en", KeyID: "k1234567", State: state, Turns: i%5 + 1, CreatedMs: 1, UpdatedMs: int64(i + 1)},
					&TurnRow{Visitor: "what are the opening hours on sunday", Text: "On Sundays the museum opens from 10:00 to 15:00. The last entry is at 14:30, and the cafe closes at 14:45.",
						Lang: "en", Kind: "intent", Intent: "opening_hours", Confidence: 0.91, LatencyUS: 900, KeyID: "k1234567", AtMs: int64(i + 1)})
				if err != nil {
					b.Fatal(err)
				}
			}
			st, err := db.OutboxStats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := db.Close(); err != nil { // checkpoints the WAL into the file
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(fi.Size())/float64(b.N), "file_bytes/turn")
			if on {
				b.ReportMetric(float64(st.Bytes)/float64(b.N), "payload_bytes/turn")
			}
		})
	}
}
