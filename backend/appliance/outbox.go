package appliance

// A kiosk that forwards to a fleet database (fleet: in the settings): its SQLite store keeps an
// outbox (backend/store, outbox.go) and the shipper (backend/fleet) sends it to the fleet's
// PostgreSQL in batches whenever the database is reachable. /metrics and the dashboard's
// Overview show its backlog and last contact; on an appliance whose own store is the fleet
// database, the Overview lists every kiosk that forwards to it (fleet_appliances).

import (
	"context"
	"time"

	"voicebot/backend/config"
	"voicebot/backend/dashboard"
	"voicebot/backend/fleet"
	"voicebot/backend/store/postgres"
	"voicebot/backend/telemetry"
)

// startFleet starts the outbox's shipper when the settings forward to a fleet database.
func (a *Appliance) startFleet(ctx context.Context, f config.Fleet) {
	if f.Store == "" || a.DB == nil {
		return
	}
	dsn, name := f.Store, a.Opts.Appliance
	a.shipper = fleet.New(a.DB, fleet.Config{Appliance: name, StoreID: a.DB.Identity(), Version: a.Opts.Version, Started: time.Now(), Batch: f.Batch, Interval: f.Interval, Describe: postgres.Redact(dsn),
		Open: func(ctx context.Context) (fleet.Remote, error) {
			db, err := postgres.Open(ctx, dsn, name)
			if err != nil {
				return nil, err
			}
			return db, nil
		}})
	a.Metrics.WatchFleet(func() telemetry.FleetStatus {
		st := a.shipper.Status()
		return telemetry.FleetStatus{BacklogRows: st.Backlog.Rows, BacklogBytes: st.Backlog.Bytes, OldestMs: st.Backlog.OldestMs,
			LastContact: st.LastContact, Shipped: st.Shipped, Errors: st.Errors}
	})
	a.goBackground(func() { a.shipper.Run(ctx) })
}

// Shipper is the outbox's shipper (nil unless the settings forward to a fleet database).
func (a *Appliance) Shipper() *fleet.Shipper { return a.shipper }

// OutboxStatus is what the dashboard's Overview shows of the kiosks forwarding to a fleet
// database: this one's outbox, or those that forward to this appliance's store.
func (a *Appliance) OutboxStatus(ctx context.Context) (dashboard.OutboxView, error) {
	var v dashboard.OutboxView
	if s := a.shipper; s != nil {
		st := s.Status()
		k := &dashboard.KioskView{Appliance: st.Appliance, Database: st.Database, Backlog: st.Backlog.Rows, BacklogBytes: st.Backlog.Bytes,
			LastContact: st.LastContact, Reachable: st.Reachable, LastError: st.LastError}
		if st.Backlog.OldestMs > 0 {
			k.Oldest = time.UnixMilli(st.Backlog.OldestMs)
		}
		v.Kiosk = k
	}
	if pg, ok := a.Store.(*postgres.DB); ok {
		list, err := pg.FleetAppliances(ctx)
		if err != nil {
			return v, err
		}
		for _, f := range list {
			r := dashboard.KioskRow{Appliance: f.Appliance, LastContact: time.UnixMilli(f.LastContactMs), Backlog: f.BacklogRows, BacklogBytes: f.BacklogBytes, Shipped: f.ShippedRows}
			if f.OldestMs > 0 {
				r.Oldest = time.UnixMilli(f.OldestMs)
			}
			v.Kiosks = append(v.Kiosks, r)
		}
	}
	return v, nil
}
