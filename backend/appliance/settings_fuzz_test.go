package appliance

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"voicebot/backend/config"
)

// FuzzChangeSettings: whatever the dashboard's settings form sends (rate, retention, origins,
// log level, thresholds, as saveSettings parses them), a running appliance with a settings file
// either refuses it with an error, or takes it: then the file it wrote loads (a restart would
// start) with exactly those settings, and they are the ones in force.
func FuzzChangeSettings(f *testing.F) {
	f.Add("120/m", int64(0), "http://kiosk.local:8080", "info", 0.3, 0.0)
	f.Add(" 5/s ", int64(720*time.Hour), "http://a, https://b:1", "debug", 0.0, 0.5)
	f.Add("", int64(-1), "ftp://x", "loud", 1.5, 0.0)
	f.Add("0/m", int64(0), "http://x/", "", 0.0, 0.0)
	f.Add("", int64(0), "", "", math.NaN(), 0.0)
	f.Add("", int64(0), "http://a\nrate_limit: 1/s", "warn", 0.0, math.Inf(1))
	dir, err := os.MkdirTemp("/dev/shm", "voicebot-fuzz-")
	if err != nil {
		dir = f.TempDir()
	} else {
		f.Cleanup(func() { os.RemoveAll(dir) })
	}
	cfg := filepath.Join(dir, "voicebot.yaml")
	if err := os.WriteFile(cfg, []byte("# the operator's comment\nlisten: 127.0.0.1:0\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	a, err := Start(context.Background(), Options{DataDir: filepath.Join(dir, "data"), ConfigDir: dir, Listen: "127.0.0.1:0", ConfigFile: cfg})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close(context.Background()) })
	f.Fuzz(func(t *testing.T, rate string, retention int64, origins, level string, intent, knowledge float64) {
		live := config.Settings{RateLimit: strings.TrimSpace(rate), LogLevel: level, Retention: time.Duration(retention), IntentThreshold: intent, KnowledgeMatch: knowledge}
		for _, o := range strings.Split(origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				live.CORSOrigins = append(live.CORSOrigins, o)
			}
		}
		if err := a.ChangeSettings(live, "fuzz", ""); err != nil {
			return
		}
		got, err := config.Load(cfg)
		if err != nil {
			b, _ := os.ReadFile(cfg)
			t.Fatalf("settings the dashboard took (%+v) wrote a file that does not load: %v\n%s", live, err, b)
		}
		if got.RateLimit != live.RateLimit || got.LogLevel != live.LogLevel || got.Retention != live.Retention ||
			got.IntentThreshold != live.IntentThreshold || got.KnowledgeMatch != live.KnowledgeMatch || !slices.Equal(got.CORSOrigins, live.CORSOrigins) {
			t.Fatalf("saved %+v, the file says %+v", live, got)
		}
		if got.Listen != "127.0.0.1:0" || got.DataDir != "" || got.Content != "" {
			t.Fatalf("a form value changed another setting: %+v", got)
		}
		if in := a.LiveSettings(); in.IntentThreshold != live.IntentThreshold || in.KnowledgeMatch != live.KnowledgeMatch || in.LogLevel != live.LogLevel && live.LogLevel != "" {
			t.Fatalf("took %+v, in force %+v", live, in)
		}
	})
}
