package appliance

import (
	"strings"
	"testing"

	"voicebot/backend/keys"
)

// TestMetricsShowStorage: a scrape of the running server's /metrics carries the store's sizes,
// the WAL's bound and the data volume's free space (issue 14).
func TestMetricsShowStorage(t *testing.T) {
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat", "metrics"}})
	if r := do(t, a, "POST", "/v1/chat", k, `{"text":"hello"}`); r.status != 200 {
		t.Fatalf("chat: %d", r.status)
	}
	r := do(t, a, "GET", "/metrics", k, "")
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	for _, want := range []string{"voicebot_store_database_bytes ", "voicebot_store_wal_bytes ", "voicebot_store_wal_limit_bytes 6.7108864e+07",
		"voicebot_data_volume_free_bytes ", `voicebot_store_checkpoints_total{mode="passive"}`, "voicebot_store_reclaimed_bytes_total "} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
