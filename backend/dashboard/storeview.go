package dashboard

// StoreView: the pages' Queries answered by a store through the storage boundary (Views below,
// which store.DB on SQLite and postgres.DB on PostgreSQL implement). This is the one file of the
// package that names the store's reads; the pages get their data through the Queries interface,
// so the handler tests give them data without a store. The SQL itself lives with each store
// (backend/store/views.go, backend/store/postgres/views.go).

import (
	"context"
	"slices"
	"time"

	"voicebot/backend/store"
	"voicebot/backend/telemetry"
)

// Views is what the pages read of a store, and the one-time sign-in links they use up.
type Views interface {
	Totals(ctx context.Context, nowMs int64) (store.Totals, error)
	Unanswered(ctx context.Context, sinceMs int64) ([]store.Count, error)
	Samples(ctx context.Context, sinceMs int64) ([]store.SampleRow, error)
	TeachGroups(ctx context.Context, since time.Time, below float64) ([]store.TeachGroup, error)
	store.Links
	telemetry.Storage
}

// StoreView answers the pages' Queries from a store.
type StoreView struct {
	DB Views
}

// NewStoreView reads the pages' data from db.
func NewStoreView(db Views) *StoreView { return &StoreView{DB: db} }

// Totals counts the stored sessions and messages and the API keys active at now.
func (v *StoreView) Totals(ctx context.Context, now time.Time) (Totals, error) {
	return v.DB.Totals(ctx, now.UnixMilli())
}

// StorageForecast is telemetry.StorageForecast on the store.
func (v *StoreView) StorageForecast(ctx context.Context, now time.Time) (telemetry.Forecast, error) {
	return telemetry.StorageForecast(ctx, v.DB, now)
}

// UseLink is store.UseLink on the store.
func (v *StoreView) UseLink(ctx context.Context, token string) (bool, error) {
	return store.UseLink(ctx, v.DB, token)
}

// Unanswered counts the questions the bot could not answer since a time, by the visitor's text
// ("(terminal)" for an empty one).
func (v *StoreView) Unanswered(ctx context.Context, since time.Time) ([]Count, error) {
	raw, err := v.DB.Unanswered(ctx, since.UnixMilli())
	if err != nil {
		return nil, err
	}
	out := make([]Count, len(raw))
	for i, c := range raw {
		if c.Label == "" {
			c.Label = "(terminal)"
		}
		out[i] = Count{Label: c.Label, N: c.N}
	}
	return out, nil
}

// Samples reads the sampled metrics history since a time, the names given only.
func (v *StoreView) Samples(ctx context.Context, since time.Time, names ...string) ([]Sample, error) {
	raw, err := v.DB.Samples(ctx, since.UnixMilli())
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, s := range raw {
		if slices.Contains(names, s.Name) {
			out = append(out, Sample{At: time.UnixMilli(s.AtMs), Name: s.Name, Value: s.Value})
		}
	}
	return out, nil
}

// fleetStore is a store several appliances share (postgres.DB).
type fleetStore interface {
	Appliances(ctx context.Context) ([]store.ApplianceRow, error)
}

// Fleet lists the appliances of a shared store; none for SQLite, one appliance's own.
func (v *StoreView) Fleet(ctx context.Context) ([]Appliance, error) {
	if f, ok := v.DB.(fleetStore); ok {
		return f.Appliances(ctx)
	}
	return nil, nil
}

// TeachGroups reads the Teach page's turns, grouped (store.TeachGroup).
func (v *StoreView) TeachGroups(ctx context.Context, since time.Time, below float64) ([]TeachGroup, error) {
	return v.DB.TeachGroups(ctx, since, below)
}
