package appliance

// Settings changed on the dashboard (issue 16): changes at the same time are applied in the order
// they are saved, so what runs is what the file says; a setting fixed by a command-line flag is
// refused, saying so, not saved and audited while the flag keeps winning; a failed audit write is
// logged, not dropped.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"voicebot/backend/config"
	"voicebot/backend/store"
)

func TestChangeSettingsConcurrent(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	os.WriteFile(cfg, []byte("# ops\nrate_limit: 100/m\n"), 0o600)
	a := start(t, Options{ConfigFile: cfg})
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				live := a.LiveSettings()
				live.RateLimit = fmt.Sprintf("%d/m", 200+round*10+i)
				if err := a.ChangeSettings(live, "test", ""); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		disk, err := config.Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.LiveSettings().RateLimit; got != disk.RateLimit {
			t.Fatalf("round %d: the appliance runs rate_limit %s, the file says %s", round, got, disk.RateLimit)
		}
	}
}

func TestChangeSettingsFlagWins(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	os.WriteFile(cfg, []byte("rate_limit: 100/m\n"), 0o600)
	a := start(t, Options{ConfigFile: cfg, RateLimit: "60/m"}) // --rate-limit 60/m on the command line
	live := a.LiveSettings()
	if live.RateLimit != "60/m" {
		t.Fatalf("the flag's rate is not in force: %q", live.RateLimit)
	}
	live.RateLimit = "500/m"
	err := a.ChangeSettings(live, "test", "")
	if err == nil || !strings.Contains(err.Error(), "command line") {
		t.Errorf("changing a setting the command line fixes: %v, want a refusal naming the command line", err)
	}
	if disk, _ := config.Load(cfg); disk.RateLimit != "100/m" {
		t.Errorf("the refused change was written: %q", disk.RateLimit)
	}
	// Another setting changes; the flagged one, sent back unchanged, is neither refused nor
	// written over the file's own value.
	live = a.LiveSettings()
	live.Retention = 48 * 3600e9
	if err := a.ChangeSettings(live, "test", ""); err != nil {
		t.Fatalf("changing retention: %v", err)
	}
	disk, _ := config.Load(cfg)
	if disk.RateLimit != "100/m" || disk.Retention != live.Retention {
		t.Errorf("file after the change: %+v", disk)
	}
	log, _ := a.DB.AuditSearch(context.Background(), store.AuditFilter{Action: "settings.change"})
	if len(log) != 1 || !strings.Contains(log[0].Detail, "command line") {
		t.Errorf("the audit entry does not say the command line's rate_limit wins: %+v", log)
	}
}

func TestAuditFailuresAreLogged(t *testing.T) {
	a := start(t, Options{})
	var buf bytes.Buffer
	var mu sync.Mutex
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	a.DB.Close() // every audit write fails from now on
	a.settingsChanged(config.Settings{}, errors.New("settings.yaml:1: broken"))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "config.error") || !strings.Contains(out, "closed") {
		t.Errorf("the failed audit write is not logged: %q", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
