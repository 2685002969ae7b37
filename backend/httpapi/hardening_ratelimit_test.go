package httpapi

// Per-route limits and a per-address limit before authentication (issue 16): chat, voice and
// admin routes have their own rates; requests that fail authentication are limited per remote
// address, and an address that spent its allowance is refused before its key is looked at, with
// the same RateLimit headers and 429 JSON error as the per-key limits.

import (
	"net/http"
	"testing"
)

func limitOf(t *testing.T, r response) string {
	t.Helper()
	return r.header.Get("RateLimit-Limit")
}

func TestRateLimitsPerRoute(t *testing.T) {
	f := newFixture(t, Config{DefaultRate: "100/m", ChatRate: "5/m", VoiceRate: "2/m", AdminRate: "3/m"})
	k := f.key("", "chat", "voice", "admin")
	for _, c := range []struct {
		path, limit string
	}{{"/v1/bot", "5"}, {"/v1/voice/engines", "2"}, {"/v1/keys", "3"}, {"/v1/openapi.json", "100"}} {
		n := 0
		var last response
		for {
			last = f.do("GET", c.path, k, "")
			if last.status != http.StatusOK {
				break
			}
			if got := limitOf(t, last); got != c.limit {
				t.Errorf("%s: RateLimit-Limit %s, want %s", c.path, got, c.limit)
			}
			n++
			if n > 200 {
				break
			}
		}
		if c.limit != "100" {
			if last.status != http.StatusTooManyRequests || last.code() != CodeRateLimited || last.header.Get("Retry-After") == "" || limitOf(t, last) != c.limit {
				t.Errorf("%s after %d: %d %s, Retry-After %q, limit %q", c.path, n, last.status, last.code(), last.header.Get("Retry-After"), limitOf(t, last))
			}
			if want := map[string]int{"5": 5, "2": 2, "3": 3}[c.limit]; n != want {
				t.Errorf("%s: %d requests served, want %d", c.path, n, want)
			}
		}
	}
	// A key's own rate wins over the route's.
	own := f.key("50/m", "voice")
	if r := f.do("GET", "/v1/voice/engines", own, ""); r.status != 200 || limitOf(t, r) != "50" {
		t.Errorf("own rate on a voice route: %d, limit %q", r.status, limitOf(t, r))
	}
}

func TestRateLimitPerAddressBeforeAuth(t *testing.T) {
	f := newFixture(t, Config{AddressRate: "3/m"})
	good := f.key("", "chat")
	// A valid key's requests do not spend the address's allowance.
	for range 5 {
		if r := f.do("GET", "/v1/bot", good, ""); r.status != 200 {
			t.Fatalf("valid key: %d %s", r.status, r.body)
		}
	}
	for i, bad := range []string{"", "vb_nonsense", "vb_0123456789abcdefghijABCDEFGHIJ012345"} {
		if r := f.do("POST", "/v1/chat", bad, `{"text":"hi"}`); r.status != http.StatusUnauthorized {
			t.Fatalf("bad key %d: %d %s", i, r.status, r.body)
		}
	}
	r := f.do("POST", "/v1/chat", "", `{"text":"hi"}`)
	if r.status != http.StatusTooManyRequests || r.code() != CodeRateLimited || r.header.Get("Retry-After") == "" || limitOf(t, r) != "3" || r.header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("fourth unauthenticated request: %d %s, headers %v", r.status, r.body, r.header)
	}
	// Refused before authentication: a valid key from the same address waits too.
	if r := f.do("GET", "/v1/bot", good, ""); r.status != http.StatusTooManyRequests || r.code() != CodeRateLimited {
		t.Errorf("valid key from a limited address: %d %s", r.status, r.body)
	}
	// /healthz stays open.
	if r := f.do("GET", "/healthz", "", ""); r.status != 200 {
		t.Errorf("healthz: %d", r.status)
	}
}
