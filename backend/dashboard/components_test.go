package dashboard

import (
	"voicebot/backend/voice"

	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/a-h/templ"

	"voicebot/backend/config"
	"voicebot/backend/content"
	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
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
		"overview": overview(p, OverviewData{Version: "v1.2.3", Uptime: 90 * time.Minute, Listen: "127.0.0.1:8750", Storage: telemetry.Forecast{Stats: store.Stats{DBBytes: 5 << 20, WALBytes: 1 << 20, WALLimit: 64 << 20, VolumeFree: 20 << 30, VolumeSize: 64 << 30}, Over: 24 * time.Hour, BytesPerDay: 3 << 20, DaysToFull: 6826}, Sessions: 12, Messages: 48, ActiveKeys: 3,
			Content: conversation.Status{Source: "/srv/content", Version: 4, LoadedAt: at, BuildMillis: 160, Intents: 62, Documents: 20, OK: false,
				Errors: []content.Error{{File: "intents/en.yaml", Line: 12, Msg: `template "(open": column 1: group opened here is never closed with ')'`}}}}),
		"conversations": conversations(page{Title: "Conversations", Active: "Conversations", CSRF: "c", Signed: true}, ConversationFilter{Q: "sunday", Lang: "en", From: "2026-11-01"}, []string{"en", "es"},
			[]history.Session{{ID: "s_1", Lang: "en", Turns: 2, Updated: at, Preview: "what are the opening hours <b>now</b>?"}}),
		"conversations-empty": conversations(page{Title: "Conversations", Active: "Conversations", CSRF: "c", Signed: true}, ConversationFilter{Q: "zebra"}, []string{"en"}, nil),
		"transcript": transcript(page{Title: "Conversation", Active: "Conversations", CSRF: "c", Signed: true}, "s_1", []history.Message{
			{Role: "visitor", Text: "can I hire the museum for a wedding"},
			{Role: "bot", Text: "The museum's spaces can be hired...", Kind: "knowledge", Confidence: &conf, Sources: []conversation.Source{{Title: "Venue Hire", Path: "knowledge/en/venue-hire.html"}}},
			{Role: "visitor", Text: "what time do you open", Heard: &conversation.Heard{Transcript: "what time do you open", Confidence: 0.82, Alternatives: []string{"what time do you close", "what type do you own"}}},
			{Role: "bot", Text: "We open at ten.", Kind: "intent", Intent: "opening_hours", Confidence: &conf},
			{Role: "visitor", Text: "what's the phone number", Heard: &conversation.Heard{Transcript: "what exhibits are on", Confidence: 0.31}},
			{Role: "bot", Text: "Sorry, I didn't catch that. Did you ask about the phone number?", Kind: "repair", Offer: "what is the phone number"},
		}),
		"keys": keysPage(page{Title: "Keys", Active: "Keys", CSRF: "c", Signed: true}, []*keys.Key{
			{ID: "Mv8OxwQ3", Name: "lobby tablet", Scopes: []string{"chat"}, Rate: "60/m", Created: at, Uses: 42, LastUsed: &at},
			{ID: "abcd1234", Name: "old kiosk", Scopes: []string{"chat", "voice"}, Created: at, Revoked: &at},
		}, &NewKey{Plain: "vb_0123456789abcdefghijABCDEFGHIJ012345", Name: "lobby tablet", QRData: "data:image/png;base64,AAAA"}, "",
			ScreensView{Enabled: true, CAFingerprint: "AB:CD:EF", ServerExpires: "2027-02-28", ServerNames: "kiosk.local, localhost, 198.18.0.1", LAN: true,
				Paired:  []PairedRow{{Screen: "lobby tablet", KeyID: "Mv8OxwQ3", Paired: "2026-11-30 10:00", LastContact: "2026-11-30 10:05", State: "active", Active: true}},
				Pairing: &PairingView{Screen: "hall screen", Link: "https://198.18.0.1:8750/#ca=AB%3ACD%3AEF&pair=abcdefghijklmnopqrstuvwxyz", QRData: "data:image/png;base64,AAAA", Expires: "10:10:00"}}),
		"content": contentPage(page{Title: "Content", Active: "Content", CSRF: "c", Signed: true},
			conversation.Status{Source: "/srv/content", Version: 2, LoadedAt: at, LastAttempt: at, BuildMillis: 150, Intents: 62, Documents: 20, Languages: []string{"en", "es"}, OK: false,
				Errors: []content.Error{{File: "intents/en.yaml", Line: 417, Msg: "template: column 1: group opened here is never closed with ')'"}},
				Files:  []content.FileStatus{{Path: "bot.yaml", Kind: "bot", OK: true, Detail: "Mira, languages en, es"}, {Path: "intents/en.yaml", Kind: "intents", Error: "intents/en.yaml:417: template ..."}}},
			"is there wifi", &conversation.Reply{Text: "Free Wi-Fi is available everywhere.", Kind: "intent", Lang: "en", Intent: "wifi", Confidence: 1, Via: "template"}, "",
			speech{Engines: []voice.EngineInfo{{Name: "pocketsphinx", Kind: "stt", Languages: []string{"en"}, Builtin: true}, {Name: "espeak-ng", Kind: "tts", Languages: []string{"en", "es"}, Builtin: true}},
				Adapted: []adapted{{Lang: "en", Sentences: 2694, Unknown: []string{"fri", "wc"}}}},
			ContentTools{ReadOnly: "the built-in demo content is read-only: " + content.ReadOnlyHelp, DefaultDir: "/var/lib/voicebot/content"}),
		"content-check": contentPage(page{Title: "Content", Active: "Content", CSRF: "c", Signed: true},
			conversation.Status{Source: "/srv/content", Version: 3, LoadedAt: at, LastAttempt: at, BuildMillis: 150, Intents: 3, Languages: []string{"en"}, OK: true}, "", nil, "", speech{},
			ContentTools{Check: &conversation.CheckReport{Version: 3, Languages: []string{"en"}, Phrasings: 20, Right: 19,
				Wrong:      []conversation.CheckMiss{{Lang: "en", Intent: "hours", Text: "how much is a ticket", Source: "example", File: "intents/en.yaml", Line: 5, Kind: "intent", Got: "tickets", Confidence: 1}},
				Confusions: []conversation.Confusion{{Lang: "en", Want: "hours", Got: "tickets", N: 1}},
				Duplicates: []conversation.Duplicate{{Lang: "en", Text: "when do you open", Intents: []string{"hours", "hours"}, Sources: []string{"example", "example"}}}}}),
		"teach": teachPage(page{Title: "Teach", Active: "Teach", CSRF: "c", Signed: true}, TeachData{Editable: true, Below: 0.5, Days: 7,
			Message: `Taught "can I fly a drone" as an example of intent rules: intents/en.yaml line 212; content version 3.`,
			Intents: map[string][]string{"en": {"pets", "rules", "tickets"}},
			Questions: []TeachQuestion{
				{Text: "can I fly a drone", Lang: "en", N: 3, Last: at, Why: "not answered", Now: "fallback",
					Candidates: []conversation.Candidate{{Intent: "rules", Probability: 0.41}, {Intent: "pets", Probability: 0.2}, {Intent: "tickets", Probability: 0.1}}},
				{Text: "do you sell umbrellas", Lang: "en", N: 1, Last: at, Why: "unsure: intent gift_shop (0.31)", Now: "intent gift_shop (0.65)", NowOK: true},
				{Text: "can i take pictures inside", Lang: "en", N: 3, Spoken: 2, Heard: 0.27, Last: at, Why: "not heard well enough: asked again", Now: "intent photography (0.71)", NowOK: true},
			}}),
		"teach-read-only": teachPage(page{Title: "Teach", Active: "Teach", CSRF: "c", Signed: true}, TeachData{ReadOnly: "the built-in demo content is read-only: " + content.ReadOnlyHelp,
			DefaultDir: "/var/lib/voicebot/content", Below: 0.5, Days: 7, Questions: []TeachQuestion{{Text: "can I fly a drone", Lang: "en", N: 1, Last: at, Why: "not answered", Now: "fallback"}}}),
		"metrics": metricsPage(page{Title: "Metrics", Active: "Metrics", CSRF: "c", Signed: true}, MetricsData{Range: "24h", Turns: 120, Fallbacks: 9, Knowledge: 20, P50: 4 * time.Millisecond, P95: 11 * time.Millisecond, P99: 19 * time.Millisecond,
			CacheHits: 7, RateLimited: 2, TurnsChart: "<svg><!-- turns --></svg>", LatencyChart: "<svg><!-- latency --></svg>", RefusalsChart: "<svg><!-- refusals --></svg>",
			Intents: []Count{{"opening_hours", 40}}, Keys: []Count{{"Mv8OxwQ3", 120}}, Unanswered: []Count{{"what is the capital of France?", 3}}}),
		"settings": settingsPage(page{Title: "Settings", Active: "Settings", CSRF: "c", Signed: true}, SettingsView{
			Live: config.Settings{RateLimit: "600/m", LogLevel: "info"}, Retention: "720h0m0s", CORS: "http://kiosk.local:8080",
			Thresholds: []Count{{"en", 213}, {"es", 190}}, Saved: true, Restart: []string{"listen"}}, ""),
		"audit": audit(page{Title: "Audit log", Active: "Audit log", CSRF: "c", Signed: true}, store.AuditFilter{Action: "key."}, nil, []store.AuditEntry{{AtMs: at.UnixMilli(), Actor: "Mv8OxwQ3", Action: "key.revoke", Target: "abcd1234", Remote: "127.0.0.1"}}, "/dashboard/audit?action=key.&before=7"),
		"audit-fleet": audit(page{Title: "Audit log", Active: "Audit log", CSRF: "c", Signed: true}, store.AuditFilter{Appliance: "kiosk-hall"}, []string{"kiosk-hall", "kiosk-lobby"},
			[]store.AuditEntry{{AtMs: at.UnixMilli(), Actor: "cli", Action: "key.create", Target: "abcd1234", Appliance: "kiosk-hall"}}, ""),
		"conversations-fleet": conversations(page{Title: "Conversations", Active: "Conversations", CSRF: "c", Signed: true}, ConversationFilter{Appliance: "kiosk-lobby", Fleet: []string{"kiosk-hall", "kiosk-lobby"}}, []string{"en"},
			[]history.Session{{ID: "s_2", Lang: "en", Turns: 3, Updated: at, Preview: "where is the cloakroom", Appliance: "kiosk-lobby"}}),
		"overview-fleet": overview(p, OverviewData{Version: "v1.2.3", Uptime: time.Hour, Listen: "0.0.0.0:8750", Appliance: "kiosk-hall", Now: at,
			Content: conversation.Status{Source: "built-in demo", Version: 1, LoadedAt: at, OK: true},
			Fleet: []Appliance{{Name: "kiosk-hall", Version: "v1.2.3", StartedMs: at.Add(-time.Hour).UnixMilli(), LastSeenMs: at.Add(-5 * time.Second).UnixMilli()},
				{Name: "kiosk-lobby", Version: "v1.2.2", StartedMs: at.Add(-48 * time.Hour).UnixMilli(), LastSeenMs: at.Add(-10 * time.Minute).UnixMilli()}}}),
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
