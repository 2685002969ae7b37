package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestObservabilitySettings: otlp_endpoint and log_format load when well formed, are refused
// with their line otherwise, and apply at restart.
func TestObservabilitySettings(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "settings.yaml")
	os.WriteFile(p, []byte("otlp_endpoint: http://collector.lan:4318\nlog_format: json\n"), 0o600)
	s, err := Load(p)
	if err != nil || s.OTLPEndpoint != "http://collector.lan:4318" || s.LogFormat != "json" {
		t.Fatalf("Load: %+v, %v", s, err)
	}
	for body, want := range map[string]string{
		"otlp_endpoint: collector:4318\n":  ":1: otlp_endpoint must be an http(s)://host:port URL",
		"log_format: xml\n":                ":1: log_format must be text or json",
		"rate_limit: 6/m\nlog_format: 3\n": ":2: log_format must be text or json",
	} {
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	for _, k := range []string{"otlp_endpoint", "log_format"} {
		found := false
		for _, r := range RestartKeys {
			found = found || r == k
		}
		if !found {
			t.Errorf("%s applies only at start but is not in RestartKeys", k)
		}
	}
}
