package httpapi

import (
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/keys"
	"voicebot/backend/telemetry"
)

// newStrictUnit is newUnit (handlers_test.go) with a key of every scope: the real engine over
// in-memory sessions, in-memory keys, history and audit.
func newStrictUnit(t *testing.T) *unit {
	t.Helper()
	e := conversation.New(conversation.NewMemorySessions(1000, time.Hour))
	e.Swap(demoSnapshot(t))
	u := &unit{history: &memHistory{}, audit: &memAudit{}}
	ks := memKeys{byToken: map[string]*keys.Key{}}
	for _, s := range keys.AllScopes {
		ks.byToken[s] = &keys.Key{ID: "k" + s, Name: s, Scopes: []string{s}}
	}
	u.api = New(&Server{Engine: e, Keys: ks, History: u.history, DB: u.audit, Metrics: telemetry.New()}, Config{DefaultRate: "1000000/s"})
	return u
}

// TestStrictJSONBodies: a body that encoding/json would have taken with a word silently lost (a
// key given twice, a key in other case) is refused with its code, on every JSON route of the
// handler; the same body written once, exactly, is answered.
func TestStrictJSONBodies(t *testing.T) {
	u := newStrictUnit(t)
	for _, c := range []struct {
		name, path, body, code string
	}{
		{"duplicate key", "/v1/chat", `{"text":"hello","text":"how much is a ticket?"}`, CodeDuplicateKey},
		{"duplicate key in other case is unknown", "/v1/chat", `{"text":"hello","TEXT":"x"}`, CodeInvalidJSON},
		{"key in other case", "/v1/chat", `{"Text":"hello"}`, CodeInvalidJSON},
		{"duplicate key, escaped", "/v1/chat", `{"text":"hello","te\u0078t":"x"}`, CodeDuplicateKey},
		{"unknown field", "/v1/chat", `{"text":"hello","texts":"x"}`, CodeInvalidJSON},
		{"trailing data", "/v1/chat", `{"text":"hello"}{}`, CodeInvalidJSON},
		{"duplicate nested key", "/v1/chat/completions", `{"messages":[{"role":"user","role":"system","content":"hi"}]}`, CodeDuplicateKey},
		{"unknown nested field", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi","name":"x"}]}`, CodeInvalidJSON},
		{"duplicate key, keys", "/v1/keys", `{"name":"a","name":"b","scopes":["chat"]}`, CodeDuplicateKey},
		{"duplicate key, speech", "/v1/audio/speech", `{"input":"hi","input":"ho"}`, CodeDuplicateKey},
	} {
		key := "chat"
		if c.path == "/v1/keys" {
			key = "admin"
		}
		if c.path == "/v1/audio/speech" {
			key = "voice"
		}
		w := u.do("POST", c.path, key, c.body)
		if w.Code != 400 || codeOf(w) != c.code {
			t.Errorf("%s: %d %q %s, want 400 %q", c.name, w.Code, codeOf(w), w.Body, c.code)
		}
	}
	if w := u.do("POST", "/v1/chat", "chat", `{"text":"hello"}`); w.Code != 200 {
		t.Errorf("the same body, once: %d %s", w.Code, w.Body)
	}
}

// TestStrictQuery: a query that does not parse, an unknown parameter and one given twice are
// refused with invalid_parameter after authorization; the known parameters, once, pass.
func TestStrictQuery(t *testing.T) {
	u := newStrictUnit(t)
	for _, c := range []struct{ path, key string }{
		{"/v1/sessions?limit=%zz", "history"},
		{"/v1/sessions?limit=5;lang=en", "history"},
		{"/v1/sessions?limt=5", "history"},
		{"/v1/sessions?limit=5&limit=200", "history"},
		{"/v1/sessions?lang=en&lang=es", "history"},
		{"/v1/bot?x=1", "chat"},
		{"/v1/sessions/s1/messages?limit=1", "history"},
	} {
		w := u.do("GET", c.path, c.key, "")
		if w.Code != 400 || codeOf(w) != CodeInvalidParameter {
			t.Errorf("%s: %d %q %s, want 400 invalid_parameter", c.path, w.Code, codeOf(w), w.Body)
		}
	}
	if w := u.do("GET", "/v1/sessions?limt=5", "", ""); w.Code != 401 {
		t.Errorf("without a key the query is not looked at: %d %s", w.Code, w.Body)
	}
	if w := u.do("GET", "/v1/sessions?limit=5&lang=en&q=hours&before=", "history", ""); w.Code != 200 {
		t.Errorf("known parameters once: %d %s", w.Code, w.Body)
	}
}
