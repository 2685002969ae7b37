package appliance

// The route and address limits of the settings file reach the server, with their defaults, and
// change live (issue 16).

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"voicebot/backend/config"
	"voicebot/backend/keys"
)

func TestRouteLimitsFromSettings(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	if err := os.WriteFile(cfg, []byte("rate_limit: 100/m\nrate_limit_admin: 7/m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{ConfigFile: cfg})
	k := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	limit := func(path string) string { return do(t, a, "GET", path, k, "").header.Get("RateLimit-Limit") }
	for path, want := range map[string]string{"/v1/openapi.json": "100", "/v1/bot": "100", "/v1/keys": "7", "/v1/voice/engines": "600"} {
		if got := limit(path); got != want {
			t.Errorf("%s: RateLimit-Limit %q, want %q", path, got, want)
		}
	}
	tmp := cfg + ".new"
	os.WriteFile(tmp, []byte("rate_limit: 100/m\nrate_limit_admin: 7/m\nrate_limit_voice: 9/m\nrate_limit_chat: 11/m\n"), 0o600)
	os.Rename(tmp, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for limit("/v1/voice/engines") != "9" || limit("/v1/bot") != "11" {
		if time.Now().After(deadline) {
			t.Fatalf("the new route limits were not applied: voice %q, chat %q", limit("/v1/voice/engines"), limit("/v1/bot"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// failed authentications from one address, limited as the file says
	tmp = cfg + ".new"
	os.WriteFile(tmp, []byte("rate_limit: 100/m\nrate_limit_unauthenticated: 3/h\n"), 0o600)
	os.Rename(tmp, cfg)
	deadline = time.Now().Add(10 * time.Second)
	for limit("/v1/voice/engines") != "600" {
		if time.Now().After(deadline) {
			t.Fatal("the new settings were not applied")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 3 {
		if r := do(t, a, "GET", "/v1/bot", "", ""); r.status != 401 {
			t.Fatalf("unauthenticated request %d: %d", i, r.status)
		}
	}
	if r := do(t, a, "GET", "/v1/bot", "", ""); r.status != 429 || r.code() != "rate_limited" {
		t.Errorf("unauthenticated request 4: %d %s", r.status, r.code())
	}
}

// TestRouteLimitDefaults: with nothing in the file, voice and admin routes get 600/m, chat the
// default rate, and failed authentications 600/m per address.
func TestRouteLimitDefaults(t *testing.T) {
	c := apiConfig(Options{RateLimit: DefaultRate}, config.Settings{})
	if c.DefaultRate != DefaultRate || c.ChatRate != "" || c.VoiceRate != "600/m" || c.AdminRate != "600/m" || c.AddressRate != "600/m" {
		t.Errorf("defaults: %+v", c)
	}
	c = apiConfig(Options{RateLimit: "50/m"}, config.Settings{RateLimitChat: "7/m", RateLimitUnauthenticated: "9/m"})
	if c.DefaultRate != "50/m" || c.ChatRate != "7/m" || c.AddressRate != "9/m" {
		t.Errorf("from the file: %+v", c)
	}
}
