package telemetry

// Expiry on /metrics: when each API key that has an end date stops working, so that an alert
// (build/observability/alerts.yml, VoicebotAPIKeyExpiring) warns before a kiosk or tablet is
// refused.

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// KeyExpiry is an API key in use that has an end date.
type KeyExpiry struct {
	ID, Name string
	Expires  time.Time
}

type keyCollector struct {
	list func(context.Context) ([]KeyExpiry, error)
	desc *prometheus.Desc
}

// WatchKeyExpiry exports voicebot_api_key_expiry_timestamp_seconds{key_id,name}: for each key
// list returns (the keys neither revoked nor expired that have an end date), when it expires, in
// Unix seconds. list runs at each scrape.
func (m *Metrics) WatchKeyExpiry(list func(context.Context) ([]KeyExpiry, error)) {
	m.Registry.MustRegister(&keyCollector{list: list, desc: prometheus.NewDesc("voicebot_api_key_expiry_timestamp_seconds",
		"When an API key with an end date stops working (Unix seconds); keys without one, revoked or expired are not listed.",
		[]string{"key_id", "name"}, nil)})
}

func (c *keyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *keyCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ks, err := c.list(ctx)
	if err != nil {
		return
	}
	for _, k := range ks {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(k.Expires.Unix()), k.ID, k.Name)
	}
}
