package store

// Telemetry's stored data on SQLite (telemetry's Storage): the minute samples of the metrics
// history, and the bot messages the metrics rollup is filled from at start.

import (
	"context"
	"database/sql"
	"errors"
)

// PutSamples writes samples (a sample of the same time and name replaces the older one) and
// drops the samples older than dropBeforeMs, in one write.
func (db *DB) PutSamples(ctx context.Context, rows []SampleRow, dropBeforeMs int64) error {
	return db.Write(ctx, func(tx *Tx) error {
		for _, r := range rows {
			if _, err := tx.Exec(`INSERT OR REPLACE INTO metrics_history(at_ms, name, value) VALUES (?, ?, ?)`, r.AtMs, r.Name, r.Value); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`DELETE FROM metrics_history WHERE at_ms < ?`, dropBeforeMs)
		return err
	})
}

// FirstSample returns the oldest sample of a name at or after sinceMs, false when there is none.
func (db *DB) FirstSample(ctx context.Context, name string, sinceMs int64) (SampleRow, bool, error) {
	s := SampleRow{Name: name}
	err := db.r.QueryRowContext(ctx, `SELECT at_ms, value FROM metrics_history WHERE name = ? AND at_ms >= ? ORDER BY at_ms LIMIT 1`,
		name, sinceMs).Scan(&s.AtMs, &s.Value)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, err
}

// BotTurns calls fn with each bot message written in [fromMs, toMs).
func (db *DB) BotTurns(ctx context.Context, fromMs, toMs int64, fn func(BotTurn)) error {
	rows, err := db.r.QueryContext(ctx, `SELECT created_ms, kind, intent, key_id, coalesce(latency_us, 0) FROM messages
		WHERE role = 'bot' AND created_ms >= ? AND created_ms < ?`, fromMs, toMs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var x BotTurn
		if err := rows.Scan(&x.AtMs, &x.Kind, &x.Intent, &x.Key, &x.LatencyUS); err != nil {
			return err
		}
		fn(x)
	}
	return rows.Err()
}

// Describe names the store for logs and the dashboard: its file.
func (db *DB) Describe() string { return "sqlite " + db.path }
