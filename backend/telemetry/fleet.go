package telemetry

// A kiosk's outbox to the fleet database (fleet: in the settings; backend/fleet ships it),
// exported on /metrics at each scrape: what waits, how old it is, when the database last
// answered, and how many attempts failed.

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FleetStatus is what /metrics shows of the outbox shipper.
type FleetStatus struct {
	BacklogRows, BacklogBytes int64
	OldestMs                  int64     // when the oldest unshipped row was written (0: none)
	LastContact               time.Time // zero: the database never answered since start
	Shipped, Errors           int64     // since start
}

type fleetCollector struct {
	status                                        func() FleetStatus
	rows, bytes, oldest, contact, shipped, errors *prometheus.Desc
}

// WatchFleet exports the outbox shipper's status.
func (m *Metrics) WatchFleet(status func() FleetStatus) {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	m.Registry.MustRegister(&fleetCollector{status: status,
		rows:    d("voicebot_fleet_outbox_rows", "Turns, audit entries and erasures in the outbox, not yet shipped to the fleet database."),
		bytes:   d("voicebot_fleet_outbox_bytes", "Payload bytes of the outbox rows not yet shipped."),
		oldest:  d("voicebot_fleet_outbox_oldest_age_seconds", "Age of the oldest outbox row not yet shipped (0 when the outbox is empty)."),
		contact: d("voicebot_fleet_last_contact_timestamp_seconds", "Unix time of the last batch or heartbeat the fleet database committed (0: none since start)."),
		shipped: d("voicebot_fleet_shipped_rows_total", "Outbox rows shipped to the fleet database since start."),
		errors:  d("voicebot_fleet_ship_errors_total", "Attempts to reach or write the fleet database that failed, since start."),
	})
}

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rows, c.bytes, c.oldest, c.contact, c.shipped, c.errors} {
		ch <- d
	}
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.status()
	g := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
		ch <- prometheus.MustNewConstMetric(d, t, v)
	}
	g(c.rows, prometheus.GaugeValue, float64(s.BacklogRows))
	g(c.bytes, prometheus.GaugeValue, float64(s.BacklogBytes))
	age := 0.0
	if s.OldestMs > 0 {
		age = max(time.Since(time.UnixMilli(s.OldestMs)).Seconds(), 0)
	}
	g(c.oldest, prometheus.GaugeValue, age)
	contact := 0.0
	if !s.LastContact.IsZero() {
		contact = float64(s.LastContact.UnixMilli()) / 1000
	}
	g(c.contact, prometheus.GaugeValue, contact)
	g(c.shipped, prometheus.CounterValue, float64(s.Shipped))
	g(c.errors, prometheus.CounterValue, float64(s.Errors))
}
