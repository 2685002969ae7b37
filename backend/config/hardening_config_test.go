package config

import (
	"strings"
	"testing"
)

// TestRouteRateSettings: the per-route and per-address rates are read, validated with their
// line, and reported as changed.
func TestRouteRateSettings(t *testing.T) {
	s, err := Load(write(t, "rate_limit: 120/m\nrate_limit_chat: 60/m\nrate_limit_voice: 10/m\nrate_limit_admin: 5/m\nrate_limit_unauthenticated: 30/m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.RateLimitChat != "60/m" || s.RateLimitVoice != "10/m" || s.RateLimitAdmin != "5/m" || s.RateLimitUnauthenticated != "30/m" {
		t.Errorf("loaded %+v", s)
	}
	if _, err := Load(write(t, "rate_limit: 120/m\nrate_limit_voice: lots\n")); err == nil || !strings.Contains(err.Error(), ":2: rate_limit_voice: rate \"lots\"") {
		t.Errorf("bad voice rate: %v", err)
	}
	b := s
	b.RateLimitVoice, b.RateLimitUnauthenticated = "20/m", ""
	if got := strings.Join(Changed(s, b), ","); got != "rate_limit_voice,rate_limit_unauthenticated" {
		t.Errorf("changed: %s", got)
	}
}
