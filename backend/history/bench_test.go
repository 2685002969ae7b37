package history

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/store"
)

// BenchmarkDurableTurn is the durable turn path without HTTP or the engine: Put of a session's
// memory and a turn's two messages (a voice turn's transcript on the visitor's), committed to the
// encrypted SQLite store (synchronous=FULL, group commit) before it returns, from 16 goroutines
// each carrying on its own session. It is the path issue 19 put behind the storage boundary
// (history -> store.Backend.SaveTurn), measured against the commit before in docs/BENCHMARKS.md.
func BenchmarkDurableTurn(b *testing.B) {
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "v.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	h := New(db)
	var sessions atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 cores, as BenchmarkChatHTTP's clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		now := time.Now()
		st := &conversation.State{ID: fmt.Sprintf("%012x-bench-%d", now.UnixMilli(), sessions.Add(1)), Lang: "en", Created: now}
		for pb.Next() {
			st.Turns++
			st.Updated = time.Now()
			t := &conversation.Turn{Visitor: "what are the opening hours", KeyID: "bench123", At: st.Updated, Latency: 800 * time.Microsecond,
				Heard: &conversation.Heard{Transcript: "what are the opening hours", Confidence: 0.91},
				Reply: conversation.Reply{Text: "We're open Tuesday to Friday 10:00 to 18:00.", Lang: "en", Kind: "intent", Intent: "opening_hours", Confidence: 0.97}}
			if err := h.Put(context.Background(), st, t); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
