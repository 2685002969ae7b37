package appliance

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var versionRe = regexp.MustCompile(`name="version" value="([^"]+)"`)

// TestSettingsFormNoLostUpdate: two operators open the Settings page; the first saves; the
// second's form, opened on the settings before that save, is refused with 409 and the page shows
// the settings as they are now, so the first operator's change is not silently overwritten.
func TestSettingsFormNoLostUpdate(t *testing.T) {
	a := start(t, Options{})
	_, get1, post1 := browserSession(t, a)
	_, get2, post2 := browserSession(t, a)
	open := func(get func(string) (int, string)) (csrf, version string) {
		_, page := get("/dashboard/settings")
		c, v := csrfRe.FindStringSubmatch(page), versionRe.FindStringSubmatch(page)
		if c == nil || v == nil {
			t.Fatalf("the settings page has no csrf or version field")
		}
		return c[1], v[1]
	}
	csrf1, v1 := open(get1)
	csrf2, v2 := open(get2)
	if code, body := post1("/dashboard/settings", url.Values{"csrf": {csrf1}, "version": {v1}, "rate_limit": {"42/m"}, "log_level": {"info"}}); code != 200 || !strings.Contains(body, "Saved and applied") {
		t.Fatalf("first operator: %d", code)
	}
	code, body := post2("/dashboard/settings", url.Values{"csrf": {csrf2}, "version": {v2}, "rate_limit": {"99/m"}, "log_level": {"info"}})
	if code != 409 || !strings.Contains(body, "changed by someone else") || !strings.Contains(body, `value="42/m"`) {
		t.Errorf("second operator's stale form: %d (want 409 showing 42/m)", code)
	}
	if got := a.LiveSettings().RateLimit; got != "42/m" {
		t.Errorf("rate limit %q after the stale form, want the first operator's 42/m", got)
	}
	// reopened, the second operator's change goes through
	csrf2, v2 = open(get2)
	if code, _ := post2("/dashboard/settings", url.Values{"csrf": {csrf2}, "version": {v2}, "rate_limit": {"99/m"}, "log_level": {"info"}}); code != 200 || a.LiveSettings().RateLimit != "99/m" {
		t.Errorf("reopened form: %d, rate limit %q", code, a.LiveSettings().RateLimit)
	}
}
