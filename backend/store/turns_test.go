package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// randomTurns (a copy of backend/dashboard's, whose Metrics test reads the same data) writes 300 sessions of 3 turns over the last 8 days, each turn's two messages in
// one statement as history.Save writes them, of every kind the Teach and Metrics pages list or
// not (see TestTeachIndexedAsScan); it returns the function that writes one more turn.
func randomTurns(t *testing.T, db *DB, now time.Time) func(tx *Tx, sid string, n int, at int64) error {
	t.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	texts := []string{"can I hire the museum for a wedding", "Can I hire the museum, for a wedding?", "who won the football", "do you sell umbrellas", "where are the toilets", "¿hay wifi?", "", "can I\x00 bring my dog"}
	kinds := []string{"intent", "intent", "knowledge", "fallback", "handoff", "repair", "template"}
	hearts := []any{nil, nil, `{"transcript":"where are the toilets","confidence":0.35}`, `{"transcript":"","confidence":0.1}`,
		`{"transcript":"do you sell umbrellas","confidence":0.45}`, `{"transcript":"who won the football","confidence":0.9}`, `{"transcript":"is there wifi"}`}
	turn := func(tx *Tx, sid string, n int, at int64) error {
		q := texts[rnd.IntN(len(texts))]
		kind := kinds[rnd.IntN(len(kinds))]
		heard := hearts[rnd.IntN(len(hearts))]
		asked := q // what the Teach page groups by: the transcript, or the typed text
		if h, ok := heard.(string); ok {
			var hd struct{ Transcript string }
			json.Unmarshal([]byte(h), &hd)
			if hd.Transcript != "" {
				asked = hd.Transcript
			}
		}
		var conf any
		intent := ""
		if kind == "intent" {
			// one intent and confidence per question: the page shows the newest turn's
			// confidence, the scan an unspecified turn's of the group
			intent = fmt.Sprintf("intent_%d", len(asked)%3)
			conf = []float64{0.2, 0.3, 0.45, 0.5, 0.7, 0.95}[len(asked)%6]
		}
		lang := "en"
		if strings.HasPrefix(q, "¿") {
			lang = "es"
		}
		_, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer)
			VALUES (?, ?, 'visitor', ?, ?, '', '', NULL, '', NULL, 'k', ?, ?, NULL), (?, ?, 'bot', 'an answer', ?, ?, ?, ?, '', 1000, 'k', ?, NULL, NULL)`,
			sid, n, q, lang, at, heard, sid, n, lang, kind, intent, conf, at)
		return err
	}
	err := db.Write(ctx, func(tx *Tx) error {
		for s := range 300 {
			sid := fmt.Sprintf("s_%04d", s)
			at := now.Add(-time.Duration(rnd.Int64N(int64(8 * 24 * time.Hour)))).UnixMilli()
			if _, err := tx.Exec(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES (?, 'en', '{}', 'k', 3, ?, ?)`, sid, at, at); err != nil {
				return err
			}
			for n := 1; n <= 3; n++ {
				if err := turn(tx, sid, n, at+int64(n)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return turn
}

// writeApart writes a fallback turn whose two messages are not next to each other (another turn
// between them), as no program version writes them but a hand-made row could be.
func writeApart(t *testing.T, db *DB, turn func(tx *Tx, sid string, n int, at int64) error, at int64) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES ('s_apart', 'en', '{}', 'k', 1, ?, ?)`, at, at); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, created_ms) VALUES ('s_apart', 1, 'visitor', 'may I bring a drone', 'en', ?)`, at); err != nil {
			return err
		}
		if err := turn(tx, "s_0000", 9, at); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, created_ms) VALUES ('s_apart', 1, 'bot', 'sorry', 'en', 'fallback', ?)`, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
