package appliance

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"voicebot/backend/dashboard"
	"voicebot/backend/keys"
)

// TestDashboardAuthAndCSRF: the dashboard over the real server, with a cookie jar as a browser
// keeps cookies: signed-out requests go to the sign-in page, only admin keys sign in, a chat turn
// made through the API appears in Conversations, forms need the CSRF token, sign-out ends it.
func TestDashboardAuthAndCSRF(t *testing.T) {
	a := start(t, Options{})
	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	base := "http://" + a.Addr()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		res, err := browser.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	post := func(path string, form url.Values) (int, string) {
		res, err := browser.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	if code, body := get("/dashboard"); code != 200 || !strings.Contains(body, "Admin key") {
		t.Fatalf("signed out: %d, not the sign-in page", code)
	}
	if code, body := post("/dashboard/sign-in", url.Values{"key": {chat}}); code != 401 || !strings.Contains(body, "no admin scope") {
		t.Errorf("chat key signed in: %d", code)
	}
	if code, _ := post("/dashboard/sign-in", url.Values{"key": {"vb_wrong"}}); code != 401 {
		t.Errorf("malformed key: %d", code)
	}
	raw, _ := http.DefaultTransport.RoundTrip(func() *http.Request {
		r, _ := http.NewRequest("POST", base+"/dashboard/sign-in", strings.NewReader(url.Values{"key": {admin}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}())
	if sc := raw.Header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") || !strings.Contains(sc, "Path=/dashboard") {
		t.Errorf("session cookie attributes: %q", sc)
	}
	raw.Body.Close()
	if code, body := post("/dashboard/sign-in", url.Values{"key": {admin}}); code != 200 || !strings.Contains(body, "<h1>Overview</h1>") {
		t.Fatalf("admin sign-in: %d", code)
	}
	u, _ := url.Parse(base + "/dashboard/")
	cookies := jar.Cookies(u)
	if len(cookies) != 1 {
		t.Fatalf("cookies: %v", cookies)
	}

	do(t, a, "POST", "/v1/chat", chat, `{"text":"where is the gift shop?"}`)
	code, body := get("/dashboard/conversations?q=gift")
	if code != 200 || !strings.Contains(body, "where is the gift shop?") {
		t.Fatalf("conversations: %d %s", code, body)
	}
	link := regexp.MustCompile(`href="(/dashboard/conversations/s_[a-z0-9]+)"`).FindStringSubmatch(body)
	if link == nil {
		t.Fatal("no link to the transcript")
	}
	if code, body := get(link[1]); code != 200 || !strings.Contains(body, "museum shop") {
		t.Errorf("transcript: %d", code)
	}
	if code, body := get("/dashboard/audit"); code != 200 || !strings.Contains(body, "dashboard.sign_in") {
		t.Errorf("audit page: %d", code)
	}

	// forms need the session's CSRF token
	if code, _ := post("/dashboard/sign-out", url.Values{}); code != 403 {
		t.Errorf("sign-out without CSRF token: %d", code)
	}
	if code, _ := post("/dashboard/sign-out", url.Values{"csrf": {"forged"}}); code != 403 {
		t.Errorf("sign-out with a forged token: %d", code)
	}
	_, page := get("/dashboard/")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token in the page")
	}
	if code, body := post("/dashboard/sign-out", url.Values{"csrf": {csrf[1]}}); code != 200 || !strings.Contains(body, "Admin key") {
		t.Errorf("sign-out: %d", code)
	}
	if code, body := get("/dashboard/audit"); code != 200 || !strings.Contains(body, "Admin key") {
		t.Errorf("after sign-out the audit page answered %d", code)
	}
	// the old cookie no longer works even when replayed
	req, _ := http.NewRequest("GET", base+"/dashboard/audit", nil)
	req.AddCookie(cookies[0])
	res, _ := http.DefaultTransport.RoundTrip(req)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed cookie after sign-out: %d", res.StatusCode)
	}
	if c := cookies[0]; !strings.Contains(res.Request.URL.Path, "dashboard") || c.Name != "vb_dashboard" {
		t.Errorf("cookie %v", c)
	}
}

// TestDashboardOneTimeLink: the link printed on the box signs a browser in once.
func TestDashboardOneTimeLink(t *testing.T) {
	a := start(t, Options{})
	link, err := dashboard.CreateLink(context.Background(), a.DB, "http://"+a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	open := func() (int, string) {
		jar, _ := cookiejar.New(nil)
		res, err := (&http.Client{Jar: jar}).Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := open(); code != 200 || !strings.Contains(body, "<h1>Overview</h1>") || !strings.Contains(body, `href="/dashboard/conversations"`) {
		t.Fatalf("first use: %d", code)
	}
	if code, body := open(); code != 401 || !strings.Contains(body, "not valid") {
		t.Errorf("second use: %d", code)
	}
	if _, err := dashboard.CreateLink(context.Background(), a.DB, "kiosk.local"); err == nil {
		t.Error("a base without a scheme was accepted")
	}
}
