package appliance

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// visitorUI is the built visitor screen (frontend/dist, committed and rebuilt by make test).
func visitorUI(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "frontend", "dist")
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Fatalf("the visitor UI is not built (make frontend): %v", err)
	}
	return dir
}

// TestVisitorScreenInABrowser: the visitor screen served on the LAN address, with a chat key
// handed over in the link (as the dashboard's QR code would), greets, answers a question with a
// streamed reply, switches to Spanish and answers in Spanish.
func TestVisitorScreenInABrowser(t *testing.T) {
	exe := chromium(t)
	a := start(t, Options{VisitorUI: os.DirFS(visitorUI(t))})
	key := newKey(t, a, keysSpec("chat"))
	b := newTab(t, exe, "visitor")
	defer b.close()
	ctx, do, text, shot := b.ctx, b.do, b.text, b.shot
	base := "http://" + a.Addr()
	do("without a key", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("key")))
	shot("01-key")
	do("open with a key", chromedp.Navigate(base+"/#key="+key), chromedp.WaitVisible(chromedp.CSS("#messages .msg.bot")))
	if h := text("#bot-name"); h != "Mira" {
		t.Errorf("bot name %q", h)
	}
	if g := text("#messages"); !strings.Contains(g, "Harbour City Museum") {
		t.Errorf("greeting %q", g)
	}
	shot("02-greeting")
	do("ask", chromedp.SendKeys(chromedp.ID("text"), "where are the toilets?"), chromedp.Click(chromedp.CSS(".ask button[type=submit]")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and not(contains(@class,"pending")) and contains(., "Toilets are on every floor")]`)))
	shot("03-answer")
	do("Spanish", chromedp.Click(chromedp.CSS(`button[data-lang="es"]`)),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and contains(., "Hola, soy Mira")]`)),
		chromedp.Click(chromedp.CSS(".suggestion")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and not(contains(@class,"pending")) and contains(., "Abrimos")]`)))
	shot("04-spanish")
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#messages li").length`)); err != nil || n != 3 {
		t.Errorf("messages after switching language: %d %v", n, err)
	}
}

// With the built-in speech engines turned off (as in a build without cgo), the visitor screen
// falls back to the browser's own speech: its recognizer for the question, its synthesizer for
// the reply. Chromium's recognizer sends audio to Google's servers, which cannot be reached
// here, so the test stands in for it with a recognizer object that hears one sentence (the part
// of the browser that cannot run here); the synthesizer is Chromium's own, observed by wrapping
// speechSynthesis.speak.
func TestVisitorScreenBrowserSpeechFallback(t *testing.T) {
	exe := chromium(t)
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	os.WriteFile(settings, []byte("voice_builtin: false\n"), 0o600)
	a := start(t, Options{VisitorUI: os.DirFS(visitorUI(t)), ConfigFile: settings})
	key := newKey(t, a, keysSpec("chat", "voice"))
	if r := do(t, a, "GET", "/v1/voice/engines", key, ""); !strings.Contains(string(r.body), "turned off") {
		t.Fatalf("engines with voice_builtin false: %s", r.body)
	}
	b := newTab(t, exe, "visitor-fallback")
	defer b.close()
	const stand = `
window.__spoken = [];
const realSpeak = speechSynthesis.speak.bind(speechSynthesis);
speechSynthesis.speak = (u) => { window.__spoken.push(u.lang + ": " + u.text); realSpeak(u); };
window.webkitSpeechRecognition = window.SpeechRecognition = class {
  start() { setTimeout(() => {
    const alt = [{ transcript: "what are the opening hours" }];
    alt.isFinal = true;
    this.onresult({ results: [alt] });
    this.onend && this.onend();
  }, 50); }
};`
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: stand}); err != nil {
		t.Fatal(err)
	}
	b.do("open", chromedp.Navigate("http://"+a.Addr()+"/#key="+key), chromedp.WaitVisible(chromedp.ID("mic")))
	b.do("talk", chromedp.Click(chromedp.ID("mic")),
		chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"bot") and not(contains(@class,"pending")) and contains(., "Tuesday")]`)))
	var spoken []string
	for deadline := time.Now().Add(10 * time.Second); len(spoken) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		spoken, _ = chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.__spoken`))
	}
	if len(spoken) != 1 || !strings.HasPrefix(spoken[0], "en: We're open Tuesday") {
		t.Fatalf("spoken by the browser: %q", spoken)
	}
	b.shot("01-browser-speech")
}
