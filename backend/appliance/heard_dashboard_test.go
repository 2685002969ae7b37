package appliance

// What a voice turn heard, as the operator sees it: the conversation view, the history API and
// the teach loop, over the real server on loopback with the real store.

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
)

// putVoiceTurns writes one conversation through the appliance's SessionStore as the engine
// would: a typed turn, a voice turn heard well, one answered though heard unsure, and one that
// ended in a repair. It returns the session id.
func putVoiceTurns(t *testing.T, a *Appliance, repairHeard string) string {
	t.Helper()
	now := time.Now()
	st := &conversation.State{ID: conversation.NewSessionID(), Lang: "en", Created: now, Updated: now}
	well := &conversation.Heard{Transcript: "what time do you open", Confidence: 0.82, Alternatives: []string{"what time do you close", "what type do you own"}}
	unsure := &conversation.Heard{Transcript: "where can i get a coffee", Confidence: 0.42, Alternatives: []string{"where can i get a copy"}}
	repair := &conversation.Heard{Transcript: repairHeard, Confidence: 0.31, Alternatives: []string{"is the flask allowed"}}
	turns := []*conversation.Turn{
		{Visitor: "is there wifi", Reply: conversation.Reply{Text: "Yes, free Wi-Fi.", Lang: "en", Kind: conversation.KindIntent, Intent: "wifi", Confidence: 1}},
		{Visitor: well.Transcript, Heard: well, Reply: conversation.Reply{Text: "We open at ten.", Lang: "en", Kind: conversation.KindIntent, Intent: "opening_hours", Confidence: 0.93, Heard: well}},
		{Visitor: unsure.Transcript, Heard: unsure, Reply: conversation.Reply{Text: "The cafe is on the ground floor.", Lang: "en", Kind: conversation.KindIntent, Intent: "cafe", Confidence: 0.95, Heard: unsure}},
		{Visitor: repair.Transcript, Heard: repair, Reply: conversation.Reply{Text: "Sorry, I didn't catch that. Did you ask about photos?", Lang: "en", Kind: conversation.KindRepair, Offer: "can i take photos", Heard: repair}},
	}
	for i, turn := range turns {
		st.Turns, turn.At = i+1, now
		if err := a.History.Put(context.Background(), st, turn); err != nil {
			t.Fatalf("put turn %d: %v", i+1, err)
		}
	}
	return st.ID
}

// TestDashboardShowsWhatWasHeard: the conversation page marks the voice turns and shows their
// transcript, confidence and alternatives, and the repair with its offered reading; the typed
// turn has none of it; the history API returns the same.
func TestDashboardShowsWhatWasHeard(t *testing.T) {
	a := start(t, Options{})
	_, get, _ := browserSession(t, a)
	id := putVoiceTurns(t, a, "is a flash allowed when i take photos of the paintings")

	code, body := get("/dashboard/conversations/" + id)
	if code != 200 {
		t.Fatalf("conversation page: %d", code)
	}
	page := html.UnescapeString(body)
	for _, want := range []string{
		`<li class="msg visitor spoken">`, `<span class="badge">spoken</span>`,
		`heard “<span class="transcript">what time do you open</span>”`, `<span class="heard-confidence">82% sure</span>`,
		`“what time do you close”, “what type do you own”`,
		`<span class="heard-confidence">42% sure</span>`, `<span class="heard-confidence">31% sure</span>`,
		`<li class="msg bot repair">`, `<span class="badge repair">repair</span>`, `offering “<span class="offer">can i take photos</span>”`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the conversation page lacks %s", want)
		}
	}
	// the typed turn looks as before
	i := strings.Index(page, "is there wifi")
	typed := page[strings.LastIndex(page[:i], "<li") : i+strings.Index(page[i:], "</li>")]
	if !strings.HasPrefix(typed, `<li class="msg visitor">`) || strings.Contains(typed, "spoken") || strings.Contains(typed, "heard") {
		t.Errorf("the typed turn is shown as spoken: %s", typed)
	}
	if n := strings.Count(page, `class="badge">spoken<`); n != 3 {
		t.Errorf("%d turns marked spoken, want 3", n)
	}

	hist := newKey(t, a, keys.Spec{Scopes: []string{"history"}})
	r := do(t, a, "GET", "/v1/sessions/"+id+"/messages", hist, "")
	var got struct{ Messages []history.Message }
	if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil || len(got.Messages) != 8 {
		t.Fatalf("GET messages: %d %v %s", r.status, err, r.body)
	}
	m := got.Messages
	if m[0].Heard != nil || m[2].Heard == nil || m[2].Heard.Confidence != 0.82 || len(m[2].Heard.Alternatives) != 2 || m[7].Offer != "can i take photos" || m[7].Kind != "repair" {
		t.Errorf("the API's transcript: %s", r.body)
	}
	if !strings.Contains(string(r.body), `"heard":{"transcript":"what time do you open","confidence":0.82,"alternatives":["what time do you close","what type do you own"]}`) {
		t.Errorf("heard as JSON: %s", r.body)
	}
	if _, csv := get("/dashboard/conversations/" + id + "/export.csv"); !strings.Contains(csv, ",heard,heard_confidence,alternatives,offer\n") || !strings.Contains(csv, "what time do you open,0.820,what time do you close | what type do you own,") {
		t.Errorf("CSV export: %s", csv)
	}
}

// TestTeachVoiceTurns: the Teach page lists the spoken question that ended in a repair and the
// one answered though heard unsure, by their transcript and with the confidence, not the one
// heard well; teaching the repaired one writes it into the content, which answers it at once.
func TestTeachVoiceTurns(t *testing.T) {
	a := start(t, Options{ContentDir: copyDemoContent(t)})
	_, get, post := browserSession(t, a)
	const heard = "is a flash allowed when i take photos of the paintings"
	putVoiceTurns(t, a, heard)

	code, body := get("/dashboard/teach")
	if code != 200 {
		t.Fatalf("teach page: %d", code)
	}
	page := html.UnescapeString(body)
	card := func(q string) string {
		i := strings.Index(page, `data-q="`+q+`"`)
		if i < 0 {
			return ""
		}
		rest := page[i:]
		if j := strings.Index(rest, "</article>"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	if c := card(heard); !strings.Contains(c, "not heard well enough: asked again") || !strings.Contains(c, `heard <span class="heard-confidence">31%</span> sure`) || !strings.Contains(c, `class="teach-choice"`) {
		t.Errorf("the repaired question: %q", c)
	}
	if c := card("where can i get a coffee"); !strings.Contains(c, "answered by intent cafe (0.95), but unsure what was heard") || !strings.Contains(c, `<span class="heard-confidence">42%</span>`) {
		t.Errorf("the question heard unsure: %q", c)
	}
	if card("what time do you open") != "" || card("is there wifi") != "" {
		t.Error("a question heard well, or typed and answered, is listed")
	}

	csrf := csrfRe.FindStringSubmatch(body)[1]
	code, body = post("/dashboard/teach", url.Values{"csrf": {csrf}, "text": {heard}, "lang": {"en"}, "action": {"example"}, "intent": {"photography"}})
	if code != 200 || !strings.Contains(html.UnescapeString(body), `Taught "`+heard+`" as an example of intent photography`) {
		t.Fatalf("teach: %d %s", code, body)
	}
	r, err := a.Engine.Try(heard, "en")
	if err != nil || r.Kind != conversation.KindIntent || r.Intent != "photography" {
		t.Errorf("after teaching, %q is answered as %+v %v", heard, r, err)
	}
}
