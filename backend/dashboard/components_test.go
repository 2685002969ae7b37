package dashboard

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/a-h/templ"

	"voicebot/backend/content"
	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestComponentSnapshots renders each page component with fixed data and compares the HTML with
// testdata/*.html (go test ./backend/dashboard -update rewrites them; review the diff).
func TestComponentSnapshots(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)
	p := page{Title: "Overview", Active: "Overview", CSRF: "csrf-token", Signed: true}
	conf := 0.93
	cases := map[string]templ.Component{
		"sign-in": signInForm("That key cannot sign in: key has been revoked"),
		"overview": overview(p, OverviewData{Version: "v1.2.3", Uptime: 90 * time.Minute, Listen: "127.0.0.1:8750", StoreBytes: 5 << 20, Sessions: 12, Messages: 48, ActiveKeys: 3,
			Content: conversation.Status{Source: "/srv/content", Version: 4, LoadedAt: at, BuildMillis: 160, Intents: 62, Documents: 20, OK: false,
				Errors: []content.Error{{File: "intents/en.yaml", Line: 12, Msg: `template "(open": column 1: group opened here is never closed with ')'`}}}}),
		"conversations": conversations(page{Title: "Conversations", Active: "Conversations", CSRF: "c", Signed: true}, "sunday",
			[]history.Session{{ID: "s_1", Lang: "en", Turns: 2, Updated: at, Preview: "what are the opening hours <b>now</b>?"}}),
		"conversations-empty": conversations(page{Title: "Conversations", Active: "Conversations", CSRF: "c", Signed: true}, "zebra", nil),
		"transcript": transcript(page{Title: "Conversation", Active: "Conversations", CSRF: "c", Signed: true}, "s_1", []history.Message{
			{Role: "visitor", Text: "can I hire the museum for a wedding"},
			{Role: "bot", Text: "The museum's spaces can be hired...", Kind: "knowledge", Confidence: &conf, Sources: []conversation.Source{{Title: "Venue Hire", Path: "knowledge/en/venue-hire.html"}}},
		}),
		"audit": audit(page{Title: "Audit log", Active: "Audit log", CSRF: "c", Signed: true}, []store.AuditEntry{{AtMs: at.UnixMilli(), Actor: "Mv8OxwQ3", Action: "key.revoke", Target: "abcd1234", Remote: "127.0.0.1"}}),
	}
	for name, c := range cases {
		var buf bytes.Buffer
		if err := c.Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name+".html")
		if *update {
			os.WriteFile(golden, buf.Bytes(), 0o644)
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to create it)", name, err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: the rendered HTML differs from %s (run with -update and review the diff)", name, golden)
		}
	}
}
