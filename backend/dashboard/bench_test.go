package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
	vbembed "voicebot/embed"
)

// seeded builds a dashboard over a store with n messages (n/2 turns in n/10 sessions), as a
// busy kiosk would have after some weeks, and a signed-in cookie for it.
func seeded(b *testing.B, n int) (*Dashboard, *http.Cookie) {
	b.Helper()
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "v.db"), bytes.Repeat([]byte{3}, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h := history.New(db)
	questions := []string{"what are the opening hours", "how much is a ticket", "where are the toilets", "can I hire the museum for a wedding", "is there wifi", "who won the football"}
	start := time.Now().Add(-7 * 24 * time.Hour)
	turns := n / 2
	for i := 0; i < turns; {
		err := db.Write(context.Background(), func(tx *store.Tx) error {
			for j := 0; j < 500 && i < turns; j, i = j+1, i+1 {
				sid := fmt.Sprintf("s_%08d", i/5)
				at := start.Add(time.Duration(i) * time.Second).UnixMilli()
				if i%5 == 0 {
					if _, err := tx.Exec(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES (?, 'en', '{}', 'k1', 5, ?, ?)`, sid, at, at); err != nil {
						return err
					}
				}
				q := questions[i%len(questions)] + fmt.Sprintf(" %d", i)
				if _, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, key_id, created_ms) VALUES (?, ?, 'visitor', ?, 'en', '', '', 'k1', ?), (?, ?, 'bot', 'an answer', 'en', 'intent', 'opening_hours', 'k1', ?)`,
					sid, i%5+1, q, at, sid, i%5+1, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	e := conversation.New(h)
	l := conversation.NewLoader(e, vbembed.DemoContent(), "demo")
	if err := l.Reload(); err != nil {
		b.Fatal(err)
	}
	ks := keys.NewService(db)
	mt := telemetry.New()
	if err := mt.Rollup.Load(context.Background(), db.Read(), time.Now()); err != nil {
		b.Fatal(err)
	}
	d := New(&Dashboard{Keys: ks, History: h, DB: db, Loader: l, Engine: e, Metrics: mt, Version: "bench"})
	tok := token()
	d.sessions[hashToken(tok)] = &signIn{keyID: "bench", csrf: "c", expires: time.Now().Add(time.Hour)}
	return d, &http.Cookie{Name: cookieName, Value: tok}
}

func benchPage(b *testing.B, path string) {
	d, c := seeded(b, 100000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest("GET", path, nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("%s: %d", path, w.Code)
		}
	}
}

// Each page's server time with 100,000 stored messages (budget 100 ms; search 200 ms).
func BenchmarkPageOverview100k(b *testing.B)      { benchPage(b, "/dashboard/") }
func BenchmarkPageConversations100k(b *testing.B) { benchPage(b, "/dashboard/conversations") }
func BenchmarkSearchConversations100k(b *testing.B) {
	benchPage(b, "/dashboard/conversations?q=wedding+49")
}
func BenchmarkPageTranscript100k(b *testing.B) { benchPage(b, "/dashboard/conversations/s_00004000") }
func BenchmarkPageAudit100k(b *testing.B)      { benchPage(b, "/dashboard/audit") }
func BenchmarkPageKeys100k(b *testing.B)       { benchPage(b, "/dashboard/keys") }
func BenchmarkPageContent100k(b *testing.B)    { benchPage(b, "/dashboard/content?try=is+there+wifi") }

// BenchmarkSearchNoMatch100k is the worst case of the search: a word no message has, so every
// message is read.
func BenchmarkSearchNoMatch100k(b *testing.B) {
	benchPage(b, "/dashboard/conversations?q=zebra")
}
func BenchmarkPageMetrics7d100k(b *testing.B) { benchPage(b, "/dashboard/metrics?range=7d") }
func BenchmarkPageMetrics1h100k(b *testing.B) { benchPage(b, "/dashboard/metrics?range=1h") }
