package postgres

// The fleet: what several appliances sharing this database need beyond the shared rows. Each
// appliance heartbeats its row of the appliances table (the dashboard's fleet list), and the
// per-key rate limits are held here for all of them, so that a key limited to 60/m makes 60/m
// in all, not 60/m on each.

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/store"
)

// Appliance is this appliance's name, which the rows it writes carry.
func (db *DB) Appliance() string { return db.appliance }

// Heartbeat records that this appliance runs (its version and start), at the server's clock.
func (db *DB) Heartbeat(ctx context.Context, version string, startedMs int64) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO appliances(name, version, started_ms, last_seen_ms)
		VALUES ($1, $2, $3, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
		ON CONFLICT (name) DO UPDATE SET version = excluded.version, started_ms = excluded.started_ms, last_seen_ms = excluded.last_seen_ms`,
		db.appliance, version, startedMs)
	return err
}

// Appliances lists the appliances that ever heartbeat on this database, the most recently seen
// first.
func (db *DB) Appliances(ctx context.Context) ([]store.ApplianceRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, version, started_ms, last_seen_ms FROM appliances ORDER BY last_seen_ms DESC, name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ApplianceRow, error) {
		var a store.ApplianceRow
		err := r.Scan(&a.Name, &a.Version, &a.StartedMs, &a.LastSeenMs)
		return a, err
	})
}

// TakeRate spends n requests (0: only looks) from the fleet-wide bucket id, of perSec requests
// a second with a burst of burst, in one statement: GCRA (the generic cell rate algorithm) on
// the cell's theoretical arrival time, in the server's clock, so that the appliances' clocks do
// not matter. It returns whether the request may go and the requests left in the burst after it.
func (db *DB) TakeRate(ctx context.Context, id string, perSec float64, burst, n int) (ok bool, remaining float64, err error) {
	if perSec <= 0 || burst <= 0 || n < 0 {
		return false, 0, errors.New("rate: give a positive rate and burst")
	}
	t := 1000 / perSec // ms between two requests at the rate
	limit := float64(burst) * t
	var tat, now float64
	if n == 0 {
		err = db.pool.QueryRow(ctx, `SELECT coalesce((SELECT tat FROM rate_cells WHERE id = $1), 0), (extract(epoch FROM clock_timestamp()) * 1000)::double precision`, []byte(id)).Scan(&tat, &now)
		if err != nil {
			return false, 0, err
		}
		remaining = (limit - (max(tat, now) - now)) / t
		return remaining >= 1, remaining, nil
	}
	// A request is let through when the cell, moved by its cost, stays within the burst; a
	// refused one leaves the cell as it was. The row's lock makes it one decision per request
	// across the fleet.
	err = db.pool.QueryRow(ctx, `WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::double precision AS ms),
		p AS (SELECT $2::double precision * $3::double precision AS cost, $4::double precision AS lim)
		INSERT INTO rate_cells AS c(id, tat, ok) SELECT $1, CASE WHEN cost <= lim THEN ms + cost ELSE ms END, cost <= lim FROM now, p
		ON CONFLICT (id) DO UPDATE SET
			tat = CASE WHEN greatest(c.tat, (SELECT ms FROM now)) + (SELECT cost FROM p) - (SELECT ms FROM now) <= (SELECT lim FROM p)
				THEN greatest(c.tat, (SELECT ms FROM now)) + (SELECT cost FROM p) ELSE c.tat END,
			ok = greatest(c.tat, (SELECT ms FROM now)) + (SELECT cost FROM p) - (SELECT ms FROM now) <= (SELECT lim FROM p)
		RETURNING c.tat, c.ok, (SELECT ms FROM now)`, []byte(id), float64(n), t, limit).Scan(&tat, &ok, &now)
	if err != nil {
		return false, 0, err
	}
	return ok, (limit - (max(tat, now) - now)) / t, nil
}

// PruneRates drops the buckets that have been full (idle) for an hour.
func (db *DB) PruneRates(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM rate_cells WHERE tat < extract(epoch FROM clock_timestamp()) * 1000 - 3600000`)
	return err
}
