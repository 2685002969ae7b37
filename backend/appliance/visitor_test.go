package appliance

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

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
