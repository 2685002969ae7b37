package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStoreSetting: store: takes sqlite or a PostgreSQL URL, applies at restart, and a wrong
// value is refused with its line and without echoing it (a URL may carry a password).
func TestStoreSetting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.yaml")
	for body, want := range map[string]string{
		"store: postgres://vb:secret@db.lan:5432/voicebot?sslmode=verify-full\n": "postgres://vb:secret@db.lan:5432/voicebot?sslmode=verify-full",
		"store: postgresql://db.lan/voicebot\n":                                  "postgresql://db.lan/voicebot",
		"store: sqlite\n":                                                        "sqlite",
		"listen: 127.0.0.1:9\n":                                                  "",
	} {
		os.WriteFile(p, []byte(body), 0o600)
		s, err := Load(p)
		if err != nil || s.Store != want {
			t.Errorf("%q: store %q, %v; want %q", body, s.Store, err, want)
		}
	}
	os.WriteFile(p, []byte("rate_limit: 6/m\nstore: mysql://vb:hunter2@db/x\n"), 0o600)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), ":2: store: give sqlite") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a wrong store: %v", err)
	}
	if !slices.Contains(RestartKeys, "store") {
		t.Error("store applies only at start but is not in RestartKeys")
	}
	if got := Changed(Settings{Store: "a"}, Settings{Store: "b"}); !slices.Equal(got, []string{"store"}) {
		t.Errorf("Changed: %v", got)
	}
}

// TestApplianceSetting: appliance: names this appliance in a fleet, a DNS label; anything else
// is refused with its line; the default is the host name folded to one.
func TestApplianceSetting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.yaml")
	os.WriteFile(p, []byte("appliance: kiosk-lobby-2\n"), 0o600)
	if s, err := Load(p); err != nil || s.Appliance != "kiosk-lobby-2" {
		t.Errorf("appliance: %q, %v", s.Appliance, err)
	}
	for _, bad := range []string{"Kiosk", "kiosk lobby", "-kiosk", "kiosk-", "kiösk", strings.Repeat("a", 64)} {
		os.WriteFile(p, []byte("rate_limit: 6/m\nappliance: "+bad+"\n"), 0o600)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), ":2: appliance: give a name") {
			t.Errorf("appliance: %q: %v", bad, err)
		}
	}
	if !slices.Contains(RestartKeys, "appliance") {
		t.Error("appliance applies only at start but is not in RestartKeys")
	}
	if d := DefaultAppliance(); !ValidAppliance(d) {
		t.Errorf("the default name %q is not a valid one", d)
	}
}
