package appliance

// The appliance as a member of a fleet: several appliances sharing one PostgreSQL store
// (docs/OPERATIONS.md). Each heartbeats its row of the store's appliances table, which the
// dashboard's fleet list reads, and prunes the fleet's idle rate buckets now and then.

import (
	"context"
	"log/slog"
	"time"

	"voicebot/backend/dashboard"
	"voicebot/backend/store/postgres"
)

// HeartbeatEvery is how often an appliance on a shared store says it runs (the dashboard counts
// an appliance unseen for three beats as down).
const HeartbeatEvery = dashboard.FleetHeartbeat

// heartbeat records this appliance in the fleet until ctx ends.
func (a *Appliance) heartbeat(ctx context.Context, pg *postgres.DB) {
	started := time.Now().UnixMilli()
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	failing := false
	for n := 0; ; n++ {
		err := pg.Heartbeat(ctx, a.Opts.Version, started)
		if n%240 == 0 && err == nil { // hourly
			err = pg.PruneRates(ctx)
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			slog.Warn("fleet heartbeat", "err", err)
			failing = true
		case err == nil && failing:
			slog.Info("fleet heartbeat: the store answers again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
