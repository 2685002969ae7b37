package postgres

// The dashboard's reads on PostgreSQL (dashboard's Views). A turn's two messages are found by
// session and turn (an identity column gives no promise that they are next to each other, as
// SQLite's rowids of one statement are), through messages_session.

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
)

// Totals counts the stored sessions and messages and the API keys active at nowMs.
func (db *DB) Totals(ctx context.Context, nowMs int64) (store.Totals, error) {
	var t store.Totals
	err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM api_keys WHERE revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > $1))`, nowMs).
		Scan(&t.Sessions, &t.Messages, &t.ActiveKeys)
	return t, err
}

// Unanswered counts the visitors' questions answered by the fallback or the handoff since
// sinceMs, by their text, most asked first (at most 2,000).
func (db *DB) Unanswered(ctx context.Context, sinceMs int64) ([]store.Count, error) {
	rows, err := db.pool.Query(ctx, `SELECT v.text, count(*) FROM messages b JOIN messages v
		ON v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
		WHERE b.role = 'bot' AND b.kind IN ('fallback', 'handoff') AND b.created_ms >= $1
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2000`, sinceMs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Count, error) {
		var c store.Count
		err := r.Scan(&c.Label, &c.N)
		return c, err
	})
}

// TeachGroups reads the turns the Teach page lists since a time: answered by the fallback, the
// handoff or a repair, by an intent under the threshold, or heard under it; grouped by their
// words as asked (as heard, on a voice turn), language, answer kind and intent; most asked
// first, then newest.
func (db *DB) TeachGroups(ctx context.Context, since time.Time, below float64) ([]store.TeachGroup, error) {
	rows, err := db.pool.Query(ctx, `SELECT coalesce(nullif(v.heard ->> 'transcript', ''), v.text), b.lang, b.kind, b.intent,
			(array_agg(coalesce(b.confidence, 0) ORDER BY b.created_ms DESC, b.id DESC))[1],
			count(*), max(b.created_ms), count(v.heard), min((v.heard ->> 'confidence')::double precision)
		FROM messages b JOIN messages v ON v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
		WHERE b.role = 'bot' AND b.created_ms >= $1 AND (b.kind IN ('fallback', 'handoff', 'repair') OR (b.kind = 'intent' AND b.confidence < $2)
			OR (v.heard ->> 'confidence')::double precision < $2)
		GROUP BY 1, 2, 3, 4 ORDER BY 6 DESC, 7 DESC, 1, 2, 3, 4 LIMIT $3`, since.UnixMilli(), below, store.TeachGroupsLimit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.TeachGroup, error) {
		var g store.TeachGroup
		var heard *float64
		err := r.Scan(&g.Text, &g.Lang, &g.Kind, &g.Intent, &g.Conf, &g.N, &g.Last, &g.Spoken, &heard)
		if heard != nil {
			g.Heard, g.HeardSet = *heard, true
		}
		return g, err
	})
}
