package httpapi

// Handler tests without a store (issue 16): the real engine over in-memory sessions with the
// demo content, and small in-memory keys, history and audit in place of the store-backed
// services (deps.go). The hardening tests (hardening_*_test.go) and backend/appliance are the
// integration layer over the real store; these check the handlers' own behaviour in isolation.

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
)

type memKeys struct{ byToken map[string]*keys.Key }

func (m memKeys) Verify(_ context.Context, presented string) (*keys.Key, error) {
	switch k, ok := m.byToken[presented]; {
	case presented == "revoked":
		return nil, keys.ErrRevoked
	case !ok:
		return nil, keys.ErrUnknown
	default:
		return k, nil
	}
}
func (m memKeys) Create(context.Context, keys.Spec, string, string) (string, *keys.Key, error) {
	return "", nil, keys.ErrNoKey
}
func (m memKeys) List(context.Context) ([]*keys.Key, error) {
	var out []*keys.Key
	for _, k := range m.byToken {
		out = append(out, k)
	}
	return out, nil
}
func (m memKeys) Revoke(context.Context, string, string, string) error { return keys.ErrNoKey }
func (m memKeys) Rotate(context.Context, string, string, string) (string, *keys.Key, error) {
	return "", nil, keys.ErrNoKey
}

type memHistory struct {
	mu     sync.Mutex
	erased []string
}

func (h *memHistory) List(context.Context, history.ListQuery) ([]history.Session, error) {
	return []history.Session{{ID: "s1", Lang: "en", Turns: 2, Preview: "opening hours"}}, nil
}
func (h *memHistory) Messages(_ context.Context, id string) ([]history.Message, error) {
	if id != "s1" {
		return nil, history.ErrNoSession
	}
	return []history.Message{}, nil
}
func (h *memHistory) Export(context.Context, string, string, string) (*history.Export, error) {
	return nil, history.ErrNoSession
}
func (h *memHistory) Erase(_ context.Context, id, _, _ string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.erased = append(h.erased, id)
	return nil
}

type memAudit struct {
	mu      sync.Mutex
	entries []store.AuditEntry
}

func (a *memAudit) Audit(_ context.Context, e store.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}
func (a *memAudit) AuditSearch(context.Context, store.AuditFilter) ([]store.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]store.AuditEntry(nil), a.entries...), nil
}

type unit struct {
	api     *Server
	history *memHistory
	audit   *memAudit
}

func newUnit(t *testing.T) *unit {
	t.Helper()
	e := conversation.New(conversation.NewMemorySessions(100, time.Hour))
	e.Swap(demoSnapshot(t))
	u := &unit{history: &memHistory{}, audit: &memAudit{}}
	ks := memKeys{byToken: map[string]*keys.Key{
		"chat":    {ID: "kchat", Name: "tablet", Scopes: []string{keys.ScopeChat}},
		"slow":    {ID: "kslow", Name: "slow", Scopes: []string{keys.ScopeChat}, Rate: "2/m"},
		"history": {ID: "khist", Name: "intranet", Scopes: []string{keys.ScopeHistory}},
	}}
	u.api = New(&Server{Engine: e, Keys: ks, History: u.history, DB: u.audit, Metrics: telemetry.New()}, Config{DefaultRate: "6000/m"})
	return u
}

func (u *unit) do(method, path, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	u.api.ServeHTTP(w, r)
	return w
}

func codeOf(w *httptest.ResponseRecorder) string {
	var e errorBody
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error.Code
}

// TestUnitChatTurnAndMemory: a turn is answered from the content, and the next turn of the same
// session is read against it (the engine's memory), with no store behind the server.
func TestUnitChatTurnAndMemory(t *testing.T) {
	u := newUnit(t)
	type turn struct {
		SessionID string `json:"session_id"`
		Reply     struct {
			Kind, Intent string
		} `json:"reply"`
	}
	var first, next turn
	w := u.do("POST", "/v1/chat", "chat", `{"text":"how much is a ticket?"}`)
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &first) != nil || first.Reply.Intent != "ticket_prices" || first.SessionID == "" {
		t.Fatalf("first turn: %d %s", w.Code, w.Body)
	}
	w = u.do("POST", "/v1/chat", "chat", `{"text":"what about for seniors?","session_id":"`+first.SessionID+`"}`)
	if json.Unmarshal(w.Body.Bytes(), &next) != nil || next.Reply.Intent != "ticket_prices" || next.SessionID != first.SessionID {
		t.Errorf("follow-up in the same session: %d %s", w.Code, w.Body)
	}
	if w := u.do("POST", "/v1/chat", "chat", `{"text":`); w.Code != 400 {
		t.Errorf("broken JSON: %d %s", w.Code, w.Body)
	}
}

// TestUnitRefusals: every refusal is JSON with its stable code.
func TestUnitRefusals(t *testing.T) {
	u := newUnit(t)
	for _, c := range []struct {
		method, path, key string
		status            int
		code              string
	}{
		{"POST", "/v1/chat", "", 401, CodeUnauthorized},
		{"POST", "/v1/chat", "revoked", 401, CodeRevokedKey},
		{"POST", "/v1/chat", "nobody", 401, CodeUnknownKey},
		{"GET", "/v1/sessions", "chat", 403, CodeForbiddenScope},
		{"GET", "/v1/keys", "history", 403, CodeForbiddenScope},
		{"GET", "/v1/sessions/s2/messages", "history", 404, CodeNotFound},
		{"GET", "/v1/sessions/bad%20id/messages", "history", 400, CodeInvalidParameter},
	} {
		w := u.do(c.method, c.path, c.key, "")
		if w.Code != c.status || codeOf(w) != c.code || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %s with %q: %d %q (want %d %q)", c.method, c.path, c.key, w.Code, codeOf(w), c.status, c.code)
		}
	}
}

// TestUnitRateLimitPerKey: a key's own rate holds, with the RateLimit headers and a 429 code.
func TestUnitRateLimitPerKey(t *testing.T) {
	u := newUnit(t)
	for i := range 2 {
		if w := u.do("POST", "/v1/chat", "slow", `{"text":"hello"}`); w.Code != 200 || w.Header().Get("RateLimit-Limit") != "2" {
			t.Fatalf("turn %d: %d, RateLimit-Limit %q", i, w.Code, w.Header().Get("RateLimit-Limit"))
		}
	}
	w := u.do("POST", "/v1/chat", "slow", `{"text":"hello"}`)
	if w.Code != 429 || codeOf(w) != CodeRateLimited || w.Header().Get("Retry-After") == "" {
		t.Errorf("third turn at 2/m: %d %q, Retry-After %q", w.Code, codeOf(w), w.Header().Get("Retry-After"))
	}
	if w := u.do("POST", "/v1/chat", "chat", `{"text":"hello"}`); w.Code != 200 {
		t.Errorf("another key is not limited by it: %d", w.Code)
	}
}

// TestUnitHistoryRoutesAudited: history routes reach the history service and each use is audited
// with its key, route and remote address.
func TestUnitHistoryRoutesAudited(t *testing.T) {
	u := newUnit(t)
	w := u.do("GET", "/v1/sessions", "history", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"opening hours"`) {
		t.Fatalf("sessions: %d %s", w.Code, w.Body)
	}
	if w := u.do("DELETE", "/v1/sessions/s1", "history", ""); w.Code != 204 {
		t.Fatalf("erase: %d %s", w.Code, w.Body)
	}
	if len(u.history.erased) != 1 || u.history.erased[0] != "s1" {
		t.Errorf("erased %v", u.history.erased)
	}
	var actions []string
	for _, e := range u.audit.entries {
		if e.Actor != "khist" || e.Remote == "" {
			t.Errorf("audit entry %+v", e)
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "use.sessions,use.session_erase" {
		t.Errorf("audited %v", actions)
	}
}
