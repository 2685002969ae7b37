package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFleetSetting: fleet: takes the fleet database's URL with its batch and interval (defaults
// 500 and 2s), applies at restart, and each wrong value is refused with its line and a clear
// message that never echoes the URL (it may carry a password); fleet: beside store: postgres is
// refused (a kiosk forwards its own SQLite store).
func TestFleetSetting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.yaml")
	load := func(body string) (Settings, error) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return Load(p)
	}
	s, err := load("fleet:\n  store: postgres://kiosk:s3cret@db.lan/voicebot?sslmode=verify-full\n")
	if err != nil || s.Fleet != (Fleet{Store: "postgres://kiosk:s3cret@db.lan/voicebot?sslmode=verify-full", Batch: 500, Interval: 2 * time.Second}) {
		t.Errorf("defaults: %+v %v", s.Fleet, err)
	}
	s, err = load("store: sqlite\nfleet: {store: 'postgresql://db.lan/v', batch: 50, interval: 500ms}\n")
	if err != nil || s.Fleet != (Fleet{Store: "postgresql://db.lan/v", Batch: 50, Interval: 500 * time.Millisecond}) {
		t.Errorf("flow style: %+v %v", s.Fleet, err)
	}
	if s, err = load("listen: 127.0.0.1:9\n"); err != nil || s.Fleet != (Fleet{}) {
		t.Errorf("no fleet: %+v %v", s.Fleet, err)
	}
	for body, want := range map[string]string{
		"rate_limit: 6/m\nfleet:\n  store: mysql://kiosk:hunter2@db/x\n": ":3: fleet store: give a PostgreSQL URL",
		"fleet:\n  batch: 10\n": ":2: fleet: give store: postgres://",
		"fleet:\n  store: postgres://kiosk:hunter2@db/x\n  batch: 0\n":                           ":3: fleet batch must be a whole number",
		"fleet:\n  store: postgres://kiosk:hunter2@db/x\n  batch: 1e9\n":                         ":3: fleet batch must be a whole number",
		"fleet:\n  store: postgres://kiosk:hunter2@db/x\n  interval: 10ms\n":                     ":3: fleet interval must be a duration",
		"fleet:\n  store: postgres://kiosk:hunter2@db/x\n  speed: fast\n":                        ":3:",
		"fleet: postgres://kiosk:hunter2@db/x\n":                                                 ":1:",
		"store: postgres://kiosk:hunter2@db/y\nfleet:\n  store: postgres://kiosk:hunter2@db/x\n": ":3: fleet: forwards a kiosk's own SQLite store",
	} {
		_, err := load(body)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v; want %q, without the password", body, err, want)
		}
	}
	if !slices.Contains(RestartKeys, "fleet") {
		t.Error("fleet applies only at start but is not in RestartKeys")
	}
	if got := Changed(Settings{Fleet: Fleet{Batch: 1}}, Settings{Fleet: Fleet{Batch: 2}}); !slices.Equal(got, []string{"fleet"}) {
		t.Errorf("Changed: %v", got)
	}
}
