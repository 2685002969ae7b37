package httpapi

// A Prometheus scrape every 15 s is not a durable audit write each (issue 16): a key's scrapes
// are audited once an hour, with the count of those in between.

import (
	"context"
	"strings"
	"testing"

	"voicebot/backend/store"
)

func TestMetricsScrapesAuditedOncePerHour(t *testing.T) {
	f := newFixture(t, Config{})
	k := f.key("", "metrics")
	other := f.key("", "metrics")
	for range 5 {
		if r := f.do("GET", "/metrics", k, ""); r.status != 200 {
			t.Fatalf("scrape: %d", r.status)
		}
	}
	if r := f.do("GET", "/metrics", other, ""); r.status != 200 {
		t.Fatalf("scrape: %d", r.status)
	}
	log, err := f.db.AuditSearch(context.Background(), store.AuditFilter{Action: "use.metrics"})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 {
		t.Errorf("%d use.metrics audit entries for 6 scrapes by 2 keys, want 2: %+v", len(log), log)
	}
	// Other audited routes are still audited one by one.
	adm := f.key("", "history")
	for range 3 {
		f.do("GET", "/v1/sessions", adm, "")
	}
	if log, _ := f.db.AuditSearch(context.Background(), store.AuditFilter{Action: "use.sessions"}); len(log) != 3 {
		t.Errorf("%d use.sessions entries, want 3", len(log))
	}
	if n := f.api.scrapesSinceAudit(strings.SplitN(k, "_", 2)[1][:8]); n != 4 {
		t.Errorf("scrapes counted since the audit entry: %d, want 4", n)
	}
}
