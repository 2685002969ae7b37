package appliance

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"voicebot/backend/internal/testcontent"

	"github.com/chromedp/chromedp"

	"voicebot/backend/store"
	vbembed "voicebot/embed"
)

// TestTeachInABrowser drives the teach loop in a real Chromium against the real server: the
// appliance serves the built-in demo; a question nothing answers is asked through the API and is
// listed on the Teach page, which first offers an editable copy of the demo (made with one
// click, now the content in service); the question is taught to a new intent from the page; the
// intents file has the new intent and every other line (comments included) as it was; the next
// ask through the API is answered by that intent. Another question is marked "not for this
// assistant" and lands in the out_of_scope list. Screenshots go to test-artifacts/teach/.
func TestTeachInABrowser(t *testing.T) {
	exe := chromium(t)
	a := start(t, Options{})
	b := newTab(t, exe, "teach")
	defer b.close()
	do, text, shot := b.do, b.text, b.shot
	base := "http://" + a.Addr()
	chat := newKey(t, a, keysSpec("chat"))
	ask := func(q string) (kind, intent string) {
		var rep struct{ Reply struct{ Kind, Intent string } }
		r := post(t, a, "/v1/chat", chat, `{"text":"`+q+`","lang":"en"}`)
		if err := json.Unmarshal(r.body, &rep); err != nil || r.status != 200 {
			t.Fatalf("ask %q: %d %s", q, r.status, r.body)
		}
		return rep.Reply.Kind, rep.Reply.Intent
	}
	// two questions the demo does not answer
	q := unanswered(t, a, "")
	joke := unanswered(t, a, q)
	t.Logf("teaching %q, marking %q not for this assistant", q, joke)
	for _, s := range []string{q, joke} {
		if _, intent := ask(s); intent == "taught_question" {
			t.Fatalf("%q is answered by taught_question before any teaching", s)
		}
	}

	link, err := store.CreateLink(t.Context(), a.DB, base)
	if err != nil {
		t.Fatal(err)
	}
	do("sign in", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("h1")))
	article := `article[data-q="` + q + `"]`
	do("teach page, read-only demo", chromedp.Navigate(base+"/dashboard/teach"), chromedp.WaitVisible(chromedp.CSS(article)), chromedp.WaitVisible(chromedp.CSS(".editable")))
	if m := text(".editable"); !strings.Contains(m, "built-in demo content is read-only") {
		t.Errorf("read-only notice: %q", m)
	}
	shot("01-teach-read-only")
	do("make an editable copy", chromedp.Click(chromedp.CSS(".editable button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#result")),
		chromedp.WaitVisible(chromedp.CSS(article+" .teach-choice")))
	copyDir := filepath.Join(a.Opts.DataDir, "content")
	if m := text("#result"); !strings.Contains(m, "editable folder "+copyDir) {
		t.Fatalf("after the copy: %q", m)
	}
	if st := a.Loader.Status(); st.Source != copyDir {
		t.Fatalf("the copy is not the content in service: %q", st.Source)
	}
	if n := strings.Count(text(chromedp.CSS(article+" .teach-choice")), "%"); n != 3 {
		t.Errorf("the three likeliest intents are not offered: %q", text(chromedp.CSS(article+" .teach-choice")))
	}
	shot("02-teach-editable")

	do("new intent", chromedp.Click(chromedp.CSS(article+" details.teach-new summary")),
		chromedp.WaitVisible(chromedp.CSS(article+` input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(article+` input[name="name"]`), "taught_question"),
		chromedp.SendKeys(chromedp.CSS(article+` textarea[name="response"]`), "This answer was taught from the dashboard."))
	shot("03-new-intent-form")
	// the page before has a #result too: wait for the new one
	do("teach it", chromedp.Click(chromedp.CSS(article+" details.teach-new button[type=submit]")), chromedp.WaitVisible(chromedp.Search(`//p[@id="result"][starts-with(., "Taught")]`)))
	if m := text("#result"); !strings.Contains(m, "new intent taught_question") || !strings.Contains(m, "now answered as: intent taught_question") {
		t.Errorf("after teaching: %q", m)
	}
	if m := text(chromedp.CSS(article + " .now")); !strings.Contains(m, "intent taught_question") {
		t.Errorf("the question's current answer: %q", m)
	}
	shot("04-taught")

	// the file: the new intent added, every other byte as the demo has it
	orig, _ := fs.ReadFile(vbembed.DemoContent(), "intents/en.yaml")
	now, _ := os.ReadFile(filepath.Join(copyDir, "intents", "en.yaml"))
	added := testcontent.InsertedLines(t, orig, now)
	if got := strings.Join(added, ""); !strings.Contains(got, "  taught_question:\n") || !strings.Contains(got, `- "`+q+`"`) || !strings.Contains(got, "This answer was taught") {
		t.Errorf("inserted lines: %q", got)
	}
	if !strings.HasPrefix(string(now), "# English intents of the Harbour City Museum demo.") {
		t.Error("the file's first comment is gone")
	}
	if kind, intent := ask(q); intent != "taught_question" {
		t.Errorf("the next ask through the API: %s %q", kind, intent)
	}

	// not for this assistant
	jokeArticle := `article[data-q="` + joke + `"]`
	do("not for this assistant", chromedp.Click(chromedp.CSS(jokeArticle+" .teach-oos button")), chromedp.WaitVisible(chromedp.Search(`//p[@id="result"][contains(., "as not for this assistant")]`)))
	if m := text("#result"); !strings.Contains(m, "not for this assistant") {
		t.Errorf("after out of scope: %q", m)
	}
	now2, _ := os.ReadFile(filepath.Join(copyDir, "intents", "en.yaml"))
	if got := strings.Join(testcontent.InsertedLines(t, now, now2), ""); !strings.Contains(got, "out_of_scope:\n  - \""+joke+"\"\n") {
		t.Errorf("out_of_scope lines: %q", got)
	}
	shot("05-out-of-scope")
	do("audit", chromedp.Navigate(base+"/dashboard/audit?action=content."), chromedp.WaitVisible(chromedp.CSS("table")))
	if m := text("main"); !strings.Contains(m, "content.teach") || !strings.Contains(m, "content.init") {
		t.Errorf("audit log: %q", m)
	}
	shot("06-audit")
}
