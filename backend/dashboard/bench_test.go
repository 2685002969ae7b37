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

// seeded builds a dashboard over a store with n messages (n/2 turns in n/10 sessions of five
// turns), as a busy kiosk would have after a week, and a signed-in cookie for it. The turns are
// spread evenly over the last 7 days up to now (about 300 in the last hour at 100,000
// messages), from four keys, of the kinds a day brings: 50% intents answered with confidence,
// 20% knowledge, 10% fallbacks, 5% handoffs, 10% intents under the Teach page's 0.5 confidence
// and 5% spoken turns that ended in a repair (heard with confidence 0.35); so that every range of
// the Metrics page, its unanswered questions and the Teach page have rows to read.
func seeded(b *testing.B, n int) (*Dashboard, *http.Cookie) {
	b.Helper()
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "v.db"), bytes.Repeat([]byte{3}, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h := history.New(db)
	asked := []struct{ q, intent string }{
		{"what are the opening hours", "opening_hours"}, {"how much is a ticket", "ticket_prices"},
		{"where are the toilets", "toilets"}, {"is there wifi", "wifi"},
	}
	documents := []string{"who built the lighthouse", "tell me about the harbour painting"}
	unanswered := []string{"can I hire the museum for a wedding", "who won the football", "what is the weather tomorrow", "do you sell umbrellas"}
	now := time.Now()
	span := 7*24*time.Hour - time.Minute
	start := now.Add(-span)
	turns := n / 2
	for i := 0; i < turns; {
		err := db.Write(context.Background(), func(tx *store.Tx) error {
			for j := 0; j < 500 && i < turns; j, i = j+1, i+1 {
				sid := fmt.Sprintf("s_%08d", i/5)
				at := start.Add(time.Duration(int64(span) / int64(turns) * int64(i))).UnixMilli()
				key := fmt.Sprintf("k%d", i/5%4+1)
				if i%5 == 0 {
					if _, err := tx.Exec(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES (?, 'en', '{}', ?, 5, ?, ?)`, sid, key, at, at); err != nil {
						return err
					}
				}
				var q, kind, intent, sources string
				var heard, conf any
				switch m := i % 20; {
				case m < 10:
					a := asked[i%len(asked)]
					q, kind, intent, conf = a.q, "intent", a.intent, 0.9
				case m < 14:
					q, kind, conf, sources = documents[i%len(documents)], "knowledge", 0.6, `[{"title":"The harbour","path":"docs/harbour.md"}]`
				case m < 16:
					q, kind = unanswered[i%len(unanswered)], "fallback"
				case m < 17:
					q, kind = unanswered[i%len(unanswered)], "handoff"
				case m < 19:
					a := asked[i%len(asked)]
					q, kind, intent, conf = "something like "+a.q, "intent", a.intent, 0.35
				default:
					q, kind = asked[i%len(asked)].q, "repair"
					heard = fmt.Sprintf(`{"transcript":"%s","confidence":0.35,"alternatives":["what is the hour"]}`, asked[i%len(asked)].q)
				}
				q += fmt.Sprintf(" %d", i)
				latency := 1000 + (i*7919)%40000
				if _, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, key_id, created_ms, heard) VALUES (?, ?, 'visitor', ?, 'en', '', '', ?, ?, ?)`,
					sid, i%5+1, q, key, at, heard); err != nil {
					return err
				}
				if _, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms) VALUES (?, ?, 'bot', 'an answer', 'en', ?, ?, ?, ?, ?, ?, ?)`,
					sid, i%5+1, kind, intent, conf, sources, latency, key, at); err != nil {
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
	if err := mt.Rollup.Load(context.Background(), db, time.Now()); err != nil {
		b.Fatal(err)
	}
	d := New(&Dashboard{Keys: ks, History: h, Audit: db, Data: NewStoreView(db), Loader: l, Engine: e, Rollup: mt.Rollup, Version: "bench"})
	// Signed in with a real admin key: every signed request checks that its key is still active.
	_, admin, err := ks.Create(context.Background(), keys.Spec{Name: "bench", Scopes: []string{keys.ScopeAdmin}}, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	tok := token()
	d.sessions[hashToken(tok)] = &signIn{keyID: admin.ID, csrf: "c", expires: time.Now().Add(time.Hour)}
	return d, &http.Cookie{Name: cookieName, Value: tok}
}

func benchPage(b *testing.B, path string) {
	d, c := seeded(b, 100000)
	runPage(b, d, c, path)
}

func runPage(b *testing.B, d *Dashboard, c *http.Cookie, path string) {
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
func BenchmarkPageMetrics7d100k(b *testing.B) { benchMetrics(b, "7d", 40000) }
func BenchmarkPageMetrics1h100k(b *testing.B) { benchMetrics(b, "1h", 200) }

// benchMetrics first checks that the range has work to do (at least minTurns turns and
// unanswered questions), then measures its page.
func benchMetrics(b *testing.B, rg string, minTurns int) {
	d, c := seeded(b, 100000)
	md, err := d.metricsData(context.Background(), rg, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if md.Turns < minTurns || md.Fallbacks == 0 || len(md.Unanswered) == 0 {
		b.Fatalf("range %s: %d turns (want %d or more), %d unanswered, %d unanswered questions: the seed does not reach it", rg, md.Turns, minTurns, md.Fallbacks, len(md.Unanswered))
	}
	b.Logf("range %s: %d turns, %d unanswered, %d unanswered questions listed", rg, md.Turns, md.Fallbacks, len(md.Unanswered))
	runPage(b, d, c, "/dashboard/metrics?range="+rg)
}

// BenchmarkPageTeach100k: the Teach page, the week's unanswered and unsure questions (about 15,000
// of the 50,000 turns), grouped, and the 40 most asked answered again by the content.
func BenchmarkPageTeach100k(b *testing.B) {
	d, c := seeded(b, 100000)
	qs, err := d.teachQuestions(context.Background(), time.Now().Add(-7*24*time.Hour), teachBelow)
	if err != nil {
		b.Fatal(err)
	}
	if len(qs) < teachQuestions {
		b.Fatalf("%d questions to teach, want %d or more: the seed does not reach the page", len(qs), teachQuestions)
	}
	runPage(b, d, c, "/dashboard/teach")
}
