package appliance

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"voicebot/backend/store"
)

// One appliance per data folder: a second start is refused with ErrRunning after asking the
// first to come to the front; after Close (or a kill, which leaves the socket behind) the
// folder can be taken again.
func TestOneInstancePerDataFolder(t *testing.T) {
	data := t.TempDir()
	a := start(t, Options{DataDir: data})
	focused := make(chan struct{}, 1)
	a.Instance.OnFocus(func() { focused <- struct{}{} })
	_, err := Start(context.Background(), Options{DataDir: data, ConfigDir: a.Opts.ConfigDir, Listen: "127.0.0.1:0"})
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "brought its window to the front") {
		t.Fatalf("second start: %v", err)
	}
	select {
	case <-focused:
	default:
		t.Fatal("the running appliance was not asked to come to the front")
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := start(t, Options{DataDir: data, ConfigDir: a.Opts.ConfigDir})
	b.Close(context.Background())

	// A socket left by a killed process: nothing answers, so it is replaced.
	sock := instanceSocket(data)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("stale socket not left for the test: %v", err)
	}
	start(t, Options{DataDir: data, ConfigDir: a.Opts.ConfigDir})
}

// The window's handler serves the visitor screen and chat with no key, as the window's own
// principal, and nothing beyond its scopes; the LAN listener still needs a key.
func TestWindowHandler(t *testing.T) {
	a := start(t, Options{VisitorUI: os.DirFS("../../frontend/dist")})
	h := a.WindowHandler()
	serve := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := serve("GET", "/", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("GET / in the window: %d", rec.Code)
	}
	if rec := serve("GET", "/v1/bot", ""); rec.Code != 200 {
		t.Fatalf("GET /v1/bot in the window: %d %s", rec.Code, rec.Body)
	}
	rec := serve("POST", "/v1/chat", `{"text":"What are the opening hours?"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"intent"`) {
		t.Fatalf("chat in the window: %d %s", rec.Code, rec.Body)
	}
	if rec := serve("GET", "/v1/keys", ""); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "forbidden_scope") {
		t.Fatalf("admin route in the window: %d %s", rec.Code, rec.Body)
	}
	if r := do(t, a, "GET", "/v1/bot", "", ""); r.status != 401 {
		t.Fatalf("LAN listener without a key: %d", r.status)
	}
}

// Pausing refuses chat with 503 "paused" everywhere and says so in /v1/bot; both are audited.
func TestPauseVisitors(t *testing.T) {
	a := start(t, Options{})
	key := newKey(t, a, keysSpec("chat"))
	a.SetPaused(true, "tray")
	r := post(t, a, "/v1/chat", key, `{"text":"hello"}`)
	if r.status != 503 || r.code() != "paused" || r.header.Get("Retry-After") == "" {
		t.Fatalf("chat while paused: %d %s", r.status, r.body)
	}
	if r := do(t, a, "GET", "/v1/bot", key, ""); !strings.Contains(string(r.body), `"paused":true`) {
		t.Fatalf("bot while paused: %s", r.body)
	}
	a.SetPaused(false, "tray")
	if r := post(t, a, "/v1/chat", key, `{"text":"hello"}`); r.status != 200 {
		t.Fatalf("chat after resume: %d %s", r.status, r.body)
	}
	entries, err := a.DB.AuditSearch(context.Background(), store.AuditFilter{Action: "visitor."})
	if err != nil || len(entries) != 2 {
		t.Fatalf("audit of pause and resume: %v %+v", err, entries)
	}
}

// LAN access moves the listener between loopback and every interface on the same port.
func TestSetLAN(t *testing.T) {
	a := start(t, Options{})
	key := newKey(t, a, keysSpec("chat"))
	_, port, _ := net.SplitHostPort(a.Addr())
	if a.LAN() {
		t.Fatal("loopback listener reported as LAN")
	}
	if err := a.SetLAN(true, "tray"); err != nil {
		t.Fatal(err)
	}
	if !a.LAN() || !strings.HasSuffix(a.Addr(), ":"+port) {
		t.Fatalf("after LAN on: %s", a.Addr())
	}
	if !strings.HasSuffix(a.ShareAddress(), ":"+port+"/") {
		t.Fatalf("share address %s", a.ShareAddress())
	}
	// Reachable on loopback through the wildcard listener.
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+"/v1/bot", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after LAN on: %v", err)
	}
	res.Body.Close()
	if err := a.SetLAN(false, "tray"); err != nil {
		t.Fatal(err)
	}
	if a.LAN() || a.Addr() != "127.0.0.1:"+port {
		t.Fatalf("after LAN off: %s", a.Addr())
	}
	if r := do(t, a, "GET", "/v1/bot", key, ""); r.status != 200 {
		t.Fatalf("after LAN off: %d", r.status)
	}
	link, err := a.DashboardLink(context.Background())
	if err != nil || !strings.HasPrefix(link, "http://127.0.0.1:"+port+"/dashboard/") {
		t.Fatalf("dashboard link %q: %v", link, err)
	}
}
