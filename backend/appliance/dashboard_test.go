package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"voicebot/backend/httpapi"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
)

// TestDashboardAuthAndCSRF: the dashboard over the real server, with a cookie jar as a browser
// keeps cookies: signed-out requests go to the sign-in page, only admin keys sign in, a chat turn
// made through the API appears in Conversations, forms need the CSRF token, sign-out ends it.
func TestDashboardAuthAndCSRF(t *testing.T) {
	a := start(t, Options{})
	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	base := "http://" + a.Addr()
	jar, get, post := browser(t, a)

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
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard/sign-in" {
		t.Errorf("replayed cookie after sign-out: %d to %q, want 303 to /dashboard/sign-in", res.StatusCode, res.Header.Get("Location"))
	}
	if c := cookies[0]; c.Name != "vb_dashboard" {
		t.Errorf("cookie %v", c)
	}

	// A session is only as good as its admin key: revoked over the API, the key's open session
	// is sent to the sign-in page, and the key neither signs in again nor reaches the API.
	_, get2, post2 := browser(t, a)
	if code, body := post2("/dashboard/sign-in", url.Values{"key": {admin}}); code != 200 || !strings.Contains(body, "<h1>Overview</h1>") {
		t.Fatalf("sign-in again: %d", code)
	}
	other := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	adminID, _ := keys.Parse(admin)
	if r := do(t, a, "DELETE", "/v1/keys/"+adminID, other, ""); r.status != 200 && r.status != 204 {
		t.Fatalf("revoke the admin key: %d %s", r.status, r.body)
	}
	if code, body := get2("/dashboard/audit"); code != 200 || !strings.Contains(body, "Admin key") || strings.Contains(body, "<h1>Audit") {
		t.Errorf("the revoked key's session still opens the audit page: %d", code)
	}
	if code, _ := post2("/dashboard/sign-in", url.Values{"key": {admin}}); code != 401 {
		t.Errorf("the revoked admin key signed in again: %d", code)
	}
	if r := do(t, a, "GET", "/v1/keys", admin, ""); r.status != 401 || r.code() != httpapi.CodeRevokedKey {
		t.Errorf("the revoked admin key on the API: %d %s", r.status, r.code())
	}
}

// TestDashboardOneTimeLink: the link printed on the box signs a browser in once.
func TestDashboardOneTimeLink(t *testing.T) {
	a := start(t, Options{})
	link, err := store.CreateLink(context.Background(), a.DB, "http://"+a.Addr())
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
	if _, err := store.CreateLink(context.Background(), a.DB, "kiosk.local"); err == nil {
		t.Error("a base without a scheme was accepted")
	}
}

// browser is a cookie-keeping client for the appliance's pages: get and post return the status
// and body after redirects.
func browser(t *testing.T, a *Appliance) (http.CookieJar, func(string) (int, string), func(string, url.Values) (int, string)) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	base := "http://" + a.Addr()
	read := func(res *http.Response, err error) (int, string) {
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	get := func(path string) (int, string) { return read(c.Get(base + path)) }
	post := func(path string, form url.Values) (int, string) { return read(c.PostForm(base+path, form)) }
	return jar, get, post
}

// browserSession is a browser signed in with a new admin key.
func browserSession(t *testing.T, a *Appliance) (http.CookieJar, func(string) (int, string), func(string, url.Values) (int, string)) {
	t.Helper()
	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	jar, get, post := browser(t, a)
	if code, _ := post("/dashboard/sign-in", url.Values{"key": {admin}}); code != 200 {
		t.Fatalf("sign-in: %d", code)
	}
	return jar, get, post
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestDashboardKeysAndContent: create a key on the Keys page and use it, revoke it and see it
// refused; break a content file and see the Content page report the error, then the fix.
func TestDashboardKeysAndContent(t *testing.T) {
	dir := copyDemoContent(t)
	a := start(t, Options{ContentDir: dir})
	_, get, post := browserSession(t, a)
	_, page := get("/dashboard/keys")
	csrf := csrfRe.FindStringSubmatch(page)[1]

	code, body := post("/dashboard/keys", url.Values{"csrf": {csrf}, "name": {"lobby tablet"}, "scopes": {"chat"}, "rate": {"60/m"}})
	key := regexp.MustCompile(`vb_[0-9A-Za-z]{38}`).FindString(body)
	if code != 201 || key == "" || !strings.Contains(body, "data:image/png;base64,") {
		t.Fatalf("create: %d, key %q", code, key)
	}
	if r := do(t, a, "POST", "/v1/chat", key, `{"text":"hello"}`); r.status != 200 {
		t.Fatalf("the new key: %d", r.status)
	}
	if code, body := post("/dashboard/keys", url.Values{"csrf": {csrf}, "name": {"x"}, "scopes": {"root"}}); code != 400 || !strings.Contains(body, "not one of") {
		t.Errorf("bad scope: %d", code)
	}
	id := key[3:11]
	if code, _ := post("/dashboard/keys/"+id+"/revoke", url.Values{"csrf": {csrf}}); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if r := do(t, a, "POST", "/v1/chat", key, `{"text":"hello"}`); r.status != 401 || r.code() != httpapi.CodeRevokedKey {
		t.Errorf("revoked key: %d %s", r.status, r.code())
	}
	if code, _ := post("/dashboard/keys/"+id+"/revoke", url.Values{}); code != 403 {
		t.Errorf("revoke without CSRF: %d", code)
	}

	// content: an error with file and line, then the fix; the Logs view shows the error too
	// (the process's log goes through the ring as the voicebot command sets it up, backend/cli)
	prev := slog.Default()
	slog.SetDefault(slog.New(telemetry.LogHandler{Handler: telemetry.RecentLogs.Wrap(prev.Handler())}))
	t.Cleanup(func() { slog.SetDefault(prev) })
	file := filepath.Join(dir, "intents", "en.yaml")
	orig, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(orig), `- "(is there|do you have) [free] (wifi|wi fi|internet)"`, `- "(is there|do you have [free] (wifi|wi fi|internet)"`, 1)), 0o644)
	waitUntil(t, "the Content page to show the error", func() bool {
		_, body := get("/dashboard/content")
		return strings.Contains(body, "intents/en.yaml:") && strings.Contains(body, "never closed")
	})
	if code, body := get("/dashboard/logs?level=error"); code != 200 || !strings.Contains(body, "content not loaded; the previous version keeps serving") ||
		!strings.Contains(body, "intents/en.yaml:") || !strings.Contains(body, "never closed") {
		t.Errorf("the Logs view does not show the content error: %d %s", code, body)
	}
	os.WriteFile(file, orig, 0o644)
	waitUntil(t, "the Content page to show the fix", func() bool {
		_, body := get("/dashboard/content")
		return !strings.Contains(body, "never closed") && strings.Contains(body, "Version 2 ")
	})
	if _, body := get("/dashboard/content?try=" + url.QueryEscape("is there wifi")); !strings.Contains(body, "HCM-Visitors") || !strings.Contains(body, "wifi") {
		t.Errorf("try box: %s", body)
	}
}

// TestDashboardConversationsFilterExportErase: filters, exports (JSON and CSV, audited) and an
// erase that asks for confirmation first.
func TestDashboardConversationsFilterExportErase(t *testing.T) {
	a := start(t, Options{})
	_, get, post := browserSession(t, a)
	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	r := do(t, a, "POST", "/v1/chat", chat, `{"text":"where is the cafe?"}`)
	var reply httpapi.ChatReply
	json.Unmarshal(r.body, &reply)
	do(t, a, "POST", "/v1/chat", chat, `{"text":"=cmd|' /C calc'!A0","session_id":"`+reply.SessionID+`"}`)
	do(t, a, "POST", "/v1/chat", chat, `{"text":"¿cuánto cuesta la entrada?"}`)

	if _, body := get("/dashboard/conversations?lang=es"); !strings.Contains(body, "cuánto cuesta") || strings.Contains(body, "where is the cafe") {
		t.Errorf("language filter")
	}
	if _, body := get("/dashboard/conversations?intent=where_is"); !strings.Contains(body, "where is the cafe") || strings.Contains(body, "cuánto cuesta") {
		t.Errorf("intent filter")
	}
	today := time.Now().Format("2006-01-02")
	if _, body := get("/dashboard/conversations?from=" + today + "&to=" + today); !strings.Contains(body, "where is the cafe") {
		t.Errorf("date filter")
	}
	if _, body := get("/dashboard/conversations?from=2001-01-01&to=2001-01-02"); strings.Contains(body, "where is the cafe") {
		t.Errorf("date filter let an old range through")
	}
	if code, _ := get("/dashboard/conversations?from=yesterday"); code != 400 {
		t.Errorf("bad date: %d", code)
	}
	id := reply.SessionID
	if code, body := get("/dashboard/conversations/" + id + "/export.json"); code != 200 || !strings.Contains(body, `"messages"`) {
		t.Errorf("export json: %d", code)
	}
	code, body := get("/dashboard/conversations/" + id + "/export.csv")
	if code != 200 || !strings.Contains(body, "at,turn,role,text") || !strings.Contains(body, "'=cmd") {
		t.Errorf("export csv: %d %s", code, body)
	}
	_, page := get("/dashboard/conversations/" + id)
	csrf := csrfRe.FindStringSubmatch(page)[1]
	if code, body := post("/dashboard/conversations/"+id+"/erase", url.Values{"csrf": {csrf}}); code != 200 || !strings.Contains(body, "cannot be undone") {
		t.Fatalf("erase without confirmation: %d", code)
	}
	if code, _ := get("/dashboard/conversations/" + id); code != 200 {
		t.Fatalf("erased before confirmation: %d", code)
	}
	post("/dashboard/conversations/"+id+"/erase", url.Values{"csrf": {csrf}, "confirm": {"yes"}})
	if code, _ := get("/dashboard/conversations/" + id); code != 404 {
		t.Errorf("after erase: %d", code)
	}
	log, _ := a.DB.AuditLog(context.Background(), 0, 50)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	all := strings.Join(actions, " ")
	if strings.Count(all, "session.export") < 2 || !strings.Contains(all, "session.erase") {
		t.Errorf("audit: %s", all)
	}
}

// TestDashboardMetrics: a chat turn made through the API shows in the metrics, with charts, and
// the unanswered questions are grouped and counted.
func TestDashboardMetrics(t *testing.T) {
	a := start(t, Options{})
	_, get, _ := browserSession(t, a)
	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	for _, q := range []string{"what are the opening hours", "what is the capital of France", "What is the capital of France?", "how much is a ticket"} {
		do(t, a, "POST", "/v1/chat", chat, `{"text":"`+q+`"}`)
	}
	code, body := get("/dashboard/metrics?range=1h")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{"<dt>Turns</dt><dd>4</dd>", "opening_hours", "ticket_prices", "<svg", "Questions the bot could not answer"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?i)what is the capital of france\??</td><td>2</td>`).MatchString(body) {
		t.Errorf("unanswered questions not grouped by their words")
	}
}

// TestDashboardAuditFilterAndPages: the audit log filters by action and pages by 100.
func TestDashboardAuditFilterAndPages(t *testing.T) {
	a := start(t, Options{})
	_, get, _ := browserSession(t, a)
	for i := 0; i < 120; i++ {
		a.DB.Audit(context.Background(), store.AuditEntry{Actor: "cli", Action: "store.backup", Target: fmt.Sprintf("/backups/b%03d.db", i)})
	}
	_, body := get("/dashboard/audit?action=store.")
	if strings.Contains(body, "dashboard.sign_in") || !strings.Contains(body, "/backups/b119.db") || strings.Contains(body, "/backups/b019.db") {
		t.Fatalf("first page of store.* entries is wrong")
	}
	next := regexp.MustCompile(`href="(/dashboard/audit\?[^"]+)" rel="next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no link to older entries")
	}
	_, older := get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if !strings.Contains(older, "/backups/b019.db") || strings.Contains(older, "/backups/b119.db") || strings.Contains(older, `rel="next"`) {
		t.Errorf("second page is wrong")
	}
	if code, _ := get("/dashboard/audit?before=x"); code != 400 {
		t.Errorf("bad cursor: %d", code)
	}
	// the same filter over the API
	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	r := do(t, a, "GET", "/v1/audit?action=store.&limit=500", admin, "")
	var got struct{ Entries []store.AuditEntry }
	json.Unmarshal(r.body, &got)
	if r.status != 200 || len(got.Entries) != 120 {
		t.Errorf("API audit filter: %d, %d entries", r.status, len(got.Entries))
	}
}

// TestDashboardSettings: a live setting changed on the Settings page applies at once, is written
// to the settings file and audited; an invalid value is refused with a message.
func TestDashboardSettings(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	os.WriteFile(cfg, []byte("# kept comment\nrate_limit: 100/m\nlisten: 127.0.0.1:0\n"), 0o600)
	a := start(t, Options{ConfigFile: cfg})
	_, get, post := browserSession(t, a)
	_, page := get("/dashboard/settings")
	if !strings.Contains(page, `value="100/m"`) {
		t.Fatalf("current rate not shown")
	}
	csrf := csrfRe.FindStringSubmatch(page)[1]
	if code, body := post("/dashboard/settings", url.Values{"csrf": {csrf}, "rate_limit": {"fast"}, "log_level": {"info"}}); code != 400 || !strings.Contains(body, "Not saved") {
		t.Errorf("invalid rate: %d", code)
	}
	if code, body := post("/dashboard/settings", url.Values{"csrf": {csrf}, "rate_limit": {"42/m"}, "retention": {"720h"}, "log_level": {"warn"}}); code != 200 || !strings.Contains(body, "Saved and applied") {
		t.Fatalf("save: %d", code)
	}
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	if l := do(t, a, "GET", "/v1/openapi.json", k, "").header.Get("RateLimit-Limit"); l != "42" {
		t.Errorf("limit after the change: %q", l)
	}
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), "rate_limit: 42/m") || !strings.Contains(string(b), "# kept comment") || !strings.Contains(string(b), "listen: 127.0.0.1:0") || !strings.Contains(string(b), "retention: 720h") {
		t.Errorf("settings file after the change:\n%s", b)
	}
	log, _ := a.DB.AuditLog(context.Background(), 0, 50)
	found := false
	for _, e := range log {
		found = found || (e.Action == "settings.change" && strings.Contains(e.Detail, "saved to"))
	}
	if !found {
		t.Error("the change is not audited")
	}

	// thresholds: a strict intent threshold turns a model answer into a fallback, at once
	intentOf := func(text string) string {
		var rep httpapi.ChatReply
		json.Unmarshal(do(t, a, "POST", "/v1/chat", k, `{"text":"`+text+`"}`).body, &rep)
		return rep.Reply.Kind + ":" + rep.Reply.Intent
	}
	q := "do students get a discount"
	if got := intentOf(q); got != "intent:ticket_prices" {
		t.Fatalf("before: %s", got)
	}
	post("/dashboard/settings", url.Values{"csrf": {csrf}, "rate_limit": {"42/m"}, "log_level": {"warn"}, "intent_threshold": {"0.999"}})
	// No intent answers any more; the documents or the fallback do (the volunteering page
	// speaks of a discount).
	if got := intentOf(q); strings.HasPrefix(got, "intent:") {
		t.Errorf("with intent_threshold 0.999: %s", got)
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), "intent_threshold: 0.999") {
		t.Errorf("threshold not saved:\n%s", b)
	}
	if code, _ := post("/dashboard/settings", url.Values{"csrf": {csrf}, "intent_threshold": {"2"}}); code != 400 {
		t.Errorf("threshold 2 accepted: %d", code)
	}
	post("/dashboard/settings", url.Values{"csrf": {csrf}, "rate_limit": {"42/m"}, "log_level": {"warn"}})
	if got := intentOf(q); got != "intent:ticket_prices" {
		t.Errorf("after clearing the threshold: %s", got)
	}

	// the LAN checkboxes: discovery unticked and plain HTTP ticked are saved and applied; a form
	// without the checkboxes (a script) leaves them as they are
	if _, page = get("/dashboard/settings"); !strings.Contains(page, `name="discovery" value="on" checked`) || strings.Contains(page, `name="lan_plain_http" value="on" checked`) {
		t.Fatalf("the LAN checkboxes by default: discovery on, plain HTTP off")
	}
	lan := url.Values{"csrf": {csrf}, "rate_limit": {"42/m"}, "log_level": {"warn"}, "lan_fields": {"1"}, "lan_plain_http": {"on"}}
	if code, _ := post("/dashboard/settings", lan); code != 200 {
		t.Fatalf("save the LAN settings: %d", code)
	}
	if live := a.LiveSettings(); !live.NoDiscovery || !live.LANPlainHTTP || !a.tls.plainLAN.Load() {
		t.Errorf("after unticking discovery and ticking plain HTTP: %+v, plain LAN %v", live, a.tls.plainLAN.Load())
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), "discovery: false") || !strings.Contains(string(b), "lan_plain_http: true") {
		t.Errorf("LAN settings not saved:\n%s", b)
	}
	post("/dashboard/settings", url.Values{"csrf": {csrf}, "rate_limit": {"42/m"}, "log_level": {"warn"}})
	if live := a.LiveSettings(); !live.NoDiscovery || !live.LANPlainHTTP {
		t.Errorf("a form without the LAN checkboxes changed them: %+v", live)
	}
	post("/dashboard/settings", url.Values{"csrf": {csrf}, "rate_limit": {"42/m"}, "log_level": {"warn"}, "lan_fields": {"1"}, "discovery": {"on"}})
	if live := a.LiveSettings(); live.NoDiscovery || live.LANPlainHTTP || a.tls.plainLAN.Load() {
		t.Errorf("after ticking discovery and unticking plain HTTP: %+v", live)
	}
}
