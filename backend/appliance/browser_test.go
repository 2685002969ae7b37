package appliance

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"voicebot/backend/httpapi"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
)

// chromium finds Debian's chromium (make test installs it), or skips with a message.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("VOICEBOT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	testneeds.Missing(t, "chromium not installed (make test installs it: apt-get install chromium; or set VOICEBOT_CHROMIUM)")
	return ""
}

// artifacts is where the browser tests leave their screenshots (test-artifacts/, git-ignored).
func artifacts(t *testing.T, name string) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "test-artifacts", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserContext starts Chromium headless (flags as on this machine kind: no background
// networking, fresh profile) and returns a context for chromedp with a 90 s limit.
func browserContext(t *testing.T, exe string, extra ...chromedp.ExecAllocatorOption) (context.Context, func()) {
	t.Helper()
	opts := append(append([]chromedp.ExecAllocatorOption(nil), chromedp.DefaultExecAllocatorOptions[:]...),
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// the first Run starts the browser: no timeout on that context (chromedp's rule)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	return tctx, func() { cancelT(); cancelCtx(); cancelAlloc() }
}

// tab is one Chromium tab for a browser test: steps that fail the test, text reads that retry
// while a live part is swapped, and PNG screenshots kept in test-artifacts/<name>/.
type tab struct {
	t     *testing.T
	ctx   context.Context
	close func()
	shots string
}

func newTab(t *testing.T, exe, name string, extra ...chromedp.ExecAllocatorOption) *tab {
	ctx, stop := browserContext(t, exe, extra...)
	return &tab{t: t, ctx: ctx, close: stop, shots: artifacts(t, name)}
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) text(sel chromedp.CSS) string {
	b.t.Helper()
	var err error
	for try := 0; try < 3; try++ { // a live part may be swapped while it is read
		var s string
		if s, err = chromedp.Run(b.ctx, chromedp.Text(sel)); err == nil {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("read %s: %v", sel, err)
	return ""
}

func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100 gives PNG
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestDashboardInABrowser drives the dashboard in a real Chromium against the real server: sign
// in, see a chat turn made through the API in Conversations and in Metrics, create a key and use
// it, revoke it and see it refused, break a content file and see the Content page report the
// error and then the fix. Every page is saved as a screenshot.
func TestDashboardInABrowser(t *testing.T) {
	exe := chromium(t)
	dir := copyDemoContent(t)
	a := start(t, Options{ContentDir: dir})
	prev := slog.Default() // the process's log as the voicebot command sets it up (backend/cli)
	slog.SetDefault(slog.New(telemetry.LogHandler{Handler: telemetry.RecentLogs.Wrap(prev.Handler())}))
	t.Cleanup(func() { slog.SetDefault(prev) })
	b := newTab(t, exe, "dashboard")
	defer b.close()
	ctx, do, text, shot := b.ctx, b.do, b.text, b.shot
	base := "http://" + a.Addr()

	do("sign-in page", chromedp.Navigate(base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("key")))
	shot("01-sign-in")
	link, err := store.CreateLink(context.Background(), a.DB, base)
	if err != nil {
		t.Fatal(err)
	}
	do("one-time link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := text("h1"); h != "Overview" {
		t.Fatalf("after the link: %q", h)
	}
	shot("02-overview")
	// the storage card: the files' sizes, the WAL's bound and the data volume, as a person sees them
	if s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("live").innerText`)); !strings.Contains(s, "kept under 64.0 MiB") || !strings.Contains(s, "Free on the data volume") || !strings.Contains(s, "measured after 10m0s of running") {
		t.Errorf("the overview's storage card: %q", s)
	}

	// live updates (htmx): a turn made through the API shows on the open page, without reloading
	chat := newKey(t, a, keysSpec("chat"))
	// read the live part in one script call: htmx may be swapping it at any moment
	live := func() string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("live") || {}).innerText || ""`))
		return s
	}
	before := live()
	post(t, a, "/v1/chat", chat, `{"text":"hello"}`)
	waitUntil(t, "the open overview to update itself", func() bool { s := live(); return s != "" && s != before })

	post(t, a, "/v1/chat", chat, `{"text":"Where is the gift shop?"}`)
	post(t, a, "/v1/chat", chat, `{"text":"what is the capital of France"}`)
	do("conversations", chromedp.Navigate(base+"/dashboard/conversations"), chromedp.WaitVisible(chromedp.CSS("table")))
	if m := text("main"); !strings.Contains(m, "Where is the gift shop?") {
		t.Errorf("the chat turn is not in Conversations: %q", m)
	}
	shot("03-conversations")
	do("transcript", chromedp.Click(chromedp.CSS("tbody tr:first-child a")), chromedp.WaitVisible(chromedp.CSS(".transcript")))
	shot("04-transcript")
	do("metrics", chromedp.Navigate(base+"/dashboard/metrics?range=1h"), chromedp.WaitVisible(chromedp.CSS(".charts svg")))
	if m := text("main"); !strings.Contains(m, "where_is") || !strings.Contains(m, "what is the capital of France") {
		t.Errorf("the turns are not in Metrics: %q", m)
	}
	shot("05-metrics")

	// create a key in the page, use it, revoke it in the page, see it refused
	do("create a key", chromedp.Navigate(base+"/dashboard/keys"), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "lobby tablet"), chromedp.Click(chromedp.CSS(`input[value="chat"]`)),
		chromedp.Click(chromedp.CSS(".newkey button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("code.key")))
	key := strings.TrimSpace(text("code.key"))
	shot("06-key-created")
	if r := post(t, a, "/v1/chat", key, `{"text":"hello"}`); r.status != 200 {
		t.Fatalf("the key made in the page: %d", r.status)
	}
	do("revoke it", chromedp.Navigate(base+"/dashboard/keys"), chromedp.WaitVisible(chromedp.CSS("table")),
		chromedp.Click(chromedp.Search(`//tr[td[2][text()="lobby tablet"]]//button[text()="Revoke"]`)),
		chromedp.WaitVisible(chromedp.Search(`//tr[td[2][text()="lobby tablet"]]/td[5][starts-with(text(),"revoked")]`)))
	shot("07-key-revoked")
	if r := post(t, a, "/v1/chat", key, `{"text":"hello"}`); r.status != 401 || r.code() != httpapi.CodeRevokedKey {
		t.Errorf("revoked key: %d %s", r.status, r.code())
	}

	// content: an error with file and line, then the fix
	file := filepath.Join(dir, "intents", "en.yaml")
	orig, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(orig), `- "(is there|do you have) [free] (wifi|wi fi|internet)"`, `- "(is there|do you have [free] (wifi|wi fi|internet)"`, 1)), 0o644)
	waitUntil(t, "the reload to fail", func() bool { return !a.Loader.Status().OK })
	do("content error", chromedp.Navigate(base+"/dashboard/content"), chromedp.WaitVisible(chromedp.CSS(".errors")))
	if e := text(".errors"); !strings.Contains(e, "intents/en.yaml:") || !strings.Contains(e, "never closed") {
		t.Errorf("the Content page does not show the error with file and line: %q", e)
	}
	shot("08-content-error")
	os.WriteFile(file, orig, 0o644)
	waitUntil(t, "the fix to load", func() bool { return a.Loader.Status().OK })
	do("content fixed", chromedp.Navigate(base+"/dashboard/content?try=is+there+wifi"), chromedp.WaitVisible(chromedp.CSS("dl")))
	if m := text("main"); strings.Contains(m, "never closed") || !strings.Contains(m, "HCM-Visitors") {
		t.Errorf("after the fix: %q", m)
	}
	shot("09-content-fixed")
	do("audit", chromedp.Navigate(base+"/dashboard/audit"), chromedp.WaitVisible(chromedp.CSS("table")))
	shot("10-audit")
	do("logs", chromedp.Click(`nav.tabs a[href="/dashboard/logs"]`), chromedp.WaitVisible(chromedp.CSS("table.logs")))
	if m := text("main"); !strings.Contains(m, "content not loaded; the previous version keeps serving") || !strings.Contains(m, "never closed") {
		t.Errorf("the Logs view: %q", m)
	}
	shot("10b-logs")
	do("settings", chromedp.Navigate(base+"/dashboard/settings"), chromedp.WaitVisible(chromedp.ID("rate_limit")))
	shot("12-settings")
	do("narrow screen", chromedp.EmulateViewport(420, 900), chromedp.Navigate(base+"/dashboard/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("11-overview-narrow")
	dark := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return chromedp.Void{}, err
	}
	do("dark scheme", chromedp.EmulateViewport(1280, 900), dark, chromedp.Navigate(base+"/dashboard/metrics"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`)); err != nil || bg != "rgb(18, 19, 23)" {
		t.Errorf("dark scheme background %q %v", bg, err)
	}
	shot("13-metrics-dark")
}
