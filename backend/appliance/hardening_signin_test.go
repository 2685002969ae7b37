package appliance

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/keys"
)

// TestDashboardSignInLimitedPerAddress: failed dashboard sign-ins spend the same per-address
// allowance as failed API authentications, so the sign-in form is no way around it; once spent,
// even a right admin key is refused from that address (429) until the allowance refills.
func TestDashboardSignInLimitedPerAddress(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	if err := os.WriteFile(cfg, []byte("rate_limit_unauthenticated: 3/h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{ConfigFile: cfg})
	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	_, _, post := browser(t, a)
	for i := range 2 {
		if code, _ := post("/dashboard/sign-in", url.Values{"key": {"vb_wrong"}}); code != 401 {
			t.Fatalf("failed sign-in %d: %d", i, code)
		}
	}
	if r := do(t, a, "GET", "/v1/bot", "", ""); r.status != 401 { // the third failure, over the API
		t.Fatalf("unauthenticated API request: %d", r.status)
	}
	code, body := post("/dashboard/sign-in", url.Values{"key": {admin}})
	if code != 429 || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("sign-in after the allowance was spent: %d", code)
	}
	if r := do(t, a, "GET", "/v1/bot", "", ""); r.status != 429 {
		t.Errorf("API after failed sign-ins spent the allowance: %d", r.status)
	}
}
