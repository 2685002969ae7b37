package appliance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"voicebot/backend/httpapi"
	"voicebot/backend/internal/testlog"
	"voicebot/backend/keys"
)

func TestMain(m *testing.M) {
	os.Setenv("VOICEBOT_NO_KEYRING", "1") // tests never touch the machine's keyring
	testlog.Quiet()
	if os.Getenv("VOICEBOT_HELPER_SERVE") != "" {
		helperServe()
		return
	}
	if os.Getenv("VOICEBOT_HELPER_BROWSE") != "" {
		helperBrowse()
		return
	}
	os.Exit(m.Run())
}

// start runs a real appliance on a loopback port with a real store file in dirs.
func start(t *testing.T, o Options) *Appliance {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.ConfigDir == "" {
		o.ConfigDir = t.TempDir()
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	o.NoDiscovery = true // never advertised on the machine's real LAN (TestDiscoveryInNetns advertises in a namespace)
	a, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

func newKey(t *testing.T, a *Appliance, spec keys.Spec) string {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "test"
	}
	plain, _, err := a.Keys.Create(context.Background(), spec, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func do(t *testing.T, a *Appliance, method, path, key string, body string, hdr ...string) resp {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+a.Addr()+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

// routeRequests: for every route of the server, the scope it must require ("public": served
// without a key) and a request that the right key gets through (ids filled in; ctype overrides
// the JSON content type). TestAuthMatrix walks the server's own route table
// (a.API.RouteTable()) and fails on a route missing here, so a new route cannot go untested.
var routeRequests = map[string]struct{ scope, path, body, ctype string }{
	"GET /healthz":                   {"public", "/healthz", "", ""},
	"POST /v1/pair":                  {"public", "/v1/pair", `{"code":"nosuchcode"}`, ""},
	"GET /readyz":                    {"", "/readyz", "", ""},
	"GET /metrics":                   {"metrics", "/metrics", "", ""},
	"GET /v1/openapi.json":           {"", "/v1/openapi.json", "", ""},
	"GET /v1/bot":                    {"chat", "/v1/bot", "", ""},
	"POST /v1/chat":                  {"chat", "/v1/chat", `{"text":"hello"}`, ""},
	"POST /v1/chat/completions":      {"chat", "/v1/chat/completions", `{"model":"voicebot","messages":[{"role":"user","content":"hello"}]}`, ""},
	"POST /v1/audio/transcriptions":  {"voice", "/v1/audio/transcriptions", "--x--\r\n", "multipart/form-data; boundary=x"},
	"POST /v1/audio/speech":          {"voice", "/v1/audio/speech", `{"input":"hello"}`, ""},
	"POST /v1/voice":                 {"voice", "/v1/voice", "RIFF", "audio/wav"},
	"GET /v1/voice/audio/{id}":       {"voice", "/v1/voice/audio/none", "", ""},
	"GET /v1/voice/engines":          {"voice", "/v1/voice/engines", "", ""},
	"GET /v1/voice/stream":           {"voice", "/v1/voice/stream", "", ""},
	"GET /v1/sessions":               {"history", "/v1/sessions", "", ""},
	"GET /v1/sessions/{id}/messages": {"history", "/v1/sessions/s_none/messages", "", ""},
	"GET /v1/sessions/{id}/export":   {"history", "/v1/sessions/s_none/export", "", ""},
	"DELETE /v1/sessions/{id}":       {"history", "/v1/sessions/s_none", "", ""},
	"GET /v1/keys":                   {"admin", "/v1/keys", "", ""},
	"POST /v1/keys":                  {"admin", "/v1/keys", `{"name":"x","scopes":["chat"]}`, ""},
	"DELETE /v1/keys/{id}":           {"admin", "/v1/keys/nonexist", "", ""},
	"POST /v1/keys/{id}/rotate":      {"admin", "/v1/keys/nonexist/rotate", "", ""},
	"GET /v1/audit":                  {"admin", "/v1/audit", "", ""},
	"GET /v1/content/candidates":     {"admin", "/v1/content/candidates?text=hello", "", ""},
	"POST /v1/content/teach":         {"admin", "/v1/content/teach", `{"text":"hello","intent":"greeting"}`, ""},
}

// TestAuthMatrix: every route of the server's route table x no key, malformed, bad checksum,
// unknown, revoked, expired, wrong scope, wrong origin; and the right key passes. Each route
// requires the scope routeRequests gives it, and only /healthz is served without a key. The
// voice stream is also tried as a browser opens it, with the key as a WebSocket subprotocol.
func TestAuthMatrix(t *testing.T) {
	a := start(t, Options{})
	ctx := context.Background()
	good := map[string]string{}
	for _, s := range keys.AllScopes {
		if s != keys.ScopeAdmin {
			good[s] = newKey(t, a, keys.Spec{Scopes: []string{s}})
		}
	}
	good["admin"] = newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	good[""] = good["chat"]
	revoked := newKey(t, a, keys.Spec{Scopes: keys.AllScopes})
	id, _ := keys.Parse(revoked)
	if err := a.Keys.Revoke(ctx, id, "test", ""); err != nil {
		t.Fatal(err)
	}
	expired := newKey(t, a, keys.Spec{Scopes: keys.AllScopes, Expires: time.Millisecond})
	originBound := newKey(t, a, keys.Spec{Scopes: keys.AllScopes, Origins: []string{"http://kiosk.local"}})
	time.Sleep(5 * time.Millisecond)
	unknown, _ := keys.Generate()
	badSum := good["chat"][:len(good["chat"])-1] + map[bool]string{true: "A", false: "B"}[!strings.HasSuffix(good["chat"], "A")]

	table := a.API.RouteTable()
	seen := map[string]bool{}
	for _, rt := range table {
		seen[rt.Pattern] = true
		rc, ok := routeRequests[rt.Pattern]
		if !ok {
			t.Errorf("route %s (scope %q, public %v) is not in routeRequests: add it with the scope it must require", rt.Pattern, rt.Scope, rt.Public)
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		var ctype []string
		if rc.ctype != "" {
			ctype = []string{"Content-Type", rc.ctype}
		}
		send := func(key string, hdr ...string) resp {
			return do(t, a, method, rc.path, key, rc.body, append(append([]string(nil), ctype...), hdr...)...)
		}
		if rc.scope == "public" {
			if !rt.Public {
				t.Errorf("%s asks for a key (scope %q): it is meant to be public", rt.Pattern, rt.Scope)
			}
			if r := send(""); r.status == 401 || r.status == 403 || r.status >= 500 {
				t.Errorf("%s without a key: %d %s", rt.Pattern, r.status, r.body)
			}
			continue
		}
		if rt.Public || rt.Scope != rc.scope {
			t.Errorf("%s is registered public=%v with scope %q: want a key with scope %q", rt.Pattern, rt.Public, rt.Scope, rc.scope)
		}
		wrong := good["chat"]
		if rc.scope == "chat" {
			wrong = good["metrics"]
		}
		cases := []struct {
			name, key, origin string
			status            int
			code              string
		}{
			{"no key", "", "", 401, httpapi.CodeUnauthorized},
			{"malformed", "not-a-key", "", 401, httpapi.CodeMalformedKey},
			{"bad checksum", badSum, "", 401, httpapi.CodeBadChecksum},
			{"unknown", unknown, "", 401, httpapi.CodeUnknownKey},
			{"revoked", revoked, "", 401, httpapi.CodeRevokedKey},
			{"expired", expired, "", 401, httpapi.CodeExpiredKey},
			{"wrong origin", originBound, "http://evil.example", 403, httpapi.CodeForbiddenOrigin},
		}
		if rc.scope != "" {
			cases = append(cases, struct {
				name, key, origin string
				status            int
				code              string
			}{"wrong scope", wrong, "", 403, httpapi.CodeForbiddenScope})
		}
		for _, c := range cases {
			var hdr []string
			if c.origin != "" {
				hdr = []string{"Origin", c.origin}
			}
			r := send(c.key, hdr...)
			if r.status != c.status || r.code() != c.code {
				t.Errorf("%s, %s: %d %s, want %d %s", rt.Pattern, c.name, r.status, r.code(), c.status, c.code)
			}
		}
		// Through authorization with the right key: whatever the handler then says of the
		// request, but not a refusal, nor a failure (a voice route may say the engines are not
		// built in).
		gotThrough := func(how string, r resp) {
			if r.status == 401 || r.status == 403 || (r.status >= 500 && r.code() != httpapi.CodeVoiceUnavailable) {
				t.Errorf("%s %s: %d %s", rt.Pattern, how, r.status, r.body)
			}
		}
		gotThrough("with the right key", send(good[rc.scope]))
		gotThrough("from the allowed origin", send(originBound, "Origin", "http://kiosk.local"))
		if rt.Pattern == "GET /v1/voice/stream" {
			for _, c := range []struct {
				name, key string
				status    int
			}{{"no key", "", 401}, {"revoked", revoked, 401}, {"wrong scope", wrong, 403}, {"unknown", unknown, 401}} {
				protos := []string{"voicebot.v1"}
				if c.key != "" {
					protos = append(protos, "bearer."+c.key)
				}
				c2, res, err := websocket.Dial(ctx, "ws://"+a.Addr()+rc.path, &websocket.DialOptions{Subprotocols: protos})
				if err == nil {
					c2.CloseNow()
				}
				if res == nil || res.StatusCode != c.status {
					t.Errorf("%s as a WebSocket, %s: %v %v, want %d", rt.Pattern, c.name, res, err, c.status)
				}
			}
		}
	}
	for p := range routeRequests {
		if !seen[p] {
			t.Errorf("routeRequests lists %s, which the server does not register", p)
		}
	}
	if len(table) < len(routeRequests) {
		t.Errorf("the route table has %d routes, routeRequests %d", len(table), len(routeRequests))
	}
}

func TestRateLimitHeaders(t *testing.T) {
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat"}, Rate: "3/m"})
	for i := 0; i < 3; i++ {
		r := do(t, a, "POST", "/v1/chat", k, `{"text":"hello"}`)
		if r.status != 200 || r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != fmt.Sprint(2-i) || r.header.Get("RateLimit-Reset") == "" {
			t.Fatalf("request %d: %d %v", i+1, r.status, r.header)
		}
	}
	r := do(t, a, "POST", "/v1/chat", k, `{"text":"hello"}`)
	if r.status != 429 || r.code() != httpapi.CodeRateLimited || r.header.Get("Retry-After") != "20" {
		t.Fatalf("over the limit: %d %s Retry-After %q", r.status, r.code(), r.header.Get("Retry-After"))
	}
	// the limit is per route: another route of the same key still answers
	if r := do(t, a, "GET", "/v1/openapi.json", k, ""); r.status != 200 {
		t.Errorf("other route: %d", r.status)
	}
}

// TestBadInput: every malformed request gets a 4xx with its code, never a 5xx.
func TestBadInput(t *testing.T) {
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: keys.AllScopes})
	cases := []struct {
		name, body, ctype string
		status            int
		code              string
	}{
		{"wrong content type", `{"text":"hi"}`, "text/plain", 415, httpapi.CodeUnsupportedMedia},
		{"no content type", `{"text":"hi"}`, "-", 415, httpapi.CodeUnsupportedMedia},
		{"too large", `{"text":"` + strings.Repeat("a", httpapi.MaxChatBody) + `"}`, "", 413, httpapi.CodeBodyTooLarge},
		{"invalid json", `{"text":`, "", 400, httpapi.CodeInvalidJSON},
		{"not an object", `["hi"]`, "", 400, httpapi.CodeInvalidJSON},
		{"unknown field", `{"text":"hi","txt":"x"}`, "", 400, httpapi.CodeInvalidJSON},
		{"trailing data", `{"text":"hi"} {}`, "", 400, httpapi.CodeInvalidJSON},
		{"invalid utf-8", "{\"text\":\"caf\xe9\"}", "", 400, httpapi.CodeInvalidUTF8},
		{"empty text", `{"text":"   "}`, "", 400, httpapi.CodeEmptyText},
		{"missing text", `{}`, "", 400, httpapi.CodeEmptyText},
		{"too long text", `{"text":"` + strings.Repeat("word ", 300) + `"}`, "", 400, httpapi.CodeTextTooLong},
		{"bad session id", `{"text":"hi","session_id":"../etc"}`, "", 400, httpapi.CodeInvalidSessionID},
		{"unsupported language", `{"text":"hi","lang":"fr"}`, "", 400, httpapi.CodeUnsupportedLang},
		{"wrong type", `{"text":42}`, "", 400, httpapi.CodeInvalidJSON},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/v1/chat", strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+k)
		switch c.ctype {
		case "":
			req.Header.Set("Content-Type", "application/json")
		case "-":
		default:
			req.Header.Set("Content-Type", c.ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		r := resp{res.StatusCode, res.Header, b}
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: %d %s (%s), want %d %s", c.name, r.status, r.code(), r.body, c.status, c.code)
		}
	}
	for _, c := range []struct{ method, path string }{{"GET", "/v1/sessions?limit=0"}, {"GET", "/v1/sessions?limit=abc"}, {"GET", "/v1/sessions?q=" + strings.Repeat("x", 201)}, {"GET", "/v1/audit?before=-1"}} {
		if r := do(t, a, c.method, c.path, k, ""); r.status != 400 || r.code() != httpapi.CodeInvalidParameter {
			t.Errorf("%s: %d %s", c.path, r.status, r.code())
		}
	}
	if r := do(t, a, "GET", "/v1/nothing", k, ""); r.status != 404 || r.code() != httpapi.CodeNotFound {
		t.Errorf("unknown route: %d %s", r.status, r.code())
	}
	if r := do(t, a, "GET", "/v1/chat", k, ""); r.status != 405 || r.code() != httpapi.CodeMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("wrong method: %d %s Allow %q", r.status, r.code(), r.header.Get("Allow"))
	}
	if r := do(t, a, "PUT", "/v1/sessions/s_x", k, ""); r.status != 405 || r.header.Get("Allow") != "DELETE" {
		t.Errorf("wrong method on a wildcard path: %d %q", r.status, r.header.Get("Allow"))
	}
	if r := do(t, a, "POST", "/v1/keys", k, `{"name":"x","scopes":["root"]}`); r.status != 400 || r.code() != httpapi.CodeInvalidParameter {
		t.Errorf("bad key spec: %d %s", r.status, r.code())
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	r := do(t, a, "GET", "/v1/openapi.json", k, "")
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("document: %v %q", err, doc.OpenAPI)
	}
	for _, route := range a.API.Routes() {
		method, path, _ := strings.Cut(route, " ")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not in the OpenAPI document", route)
		}
	}
	n := 0
	for _, ops := range doc.Paths {
		n += len(ops)
	}
	if n != len(a.API.Routes()) {
		t.Errorf("the document has %d operations, the server %d routes", n, len(a.API.Routes()))
	}
}

func TestChatStreamsAndOpenAICompatible(t *testing.T) {
	a := start(t, Options{})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat", "history"}})
	r := do(t, a, "POST", "/v1/chat", k, `{"text":"what are the opening hours?"}`, "Accept", "text/event-stream")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content type %q", r.header.Get("Content-Type"))
	}
	var events []string
	var done httpapi.ChatReply
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := sc.Text()
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			events = append(events, ev)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && events[len(events)-1] == "done" {
			json.Unmarshal([]byte(data), &done)
		}
	}
	if events[0] != "turn" || events[len(events)-1] != "done" || !slices.Contains(events, "delta") || done.Reply.Intent != "opening_hours" {
		t.Fatalf("events %v, done %+v", events, done)
	}
	// OpenAI form, with history resent: the second turn is a follow-up in the same session
	body := `{"model":"voicebot","messages":[{"role":"user","content":"what are the opening hours"}]}`
	r1 := do(t, a, "POST", "/v1/chat/completions", k, body)
	var c1 struct {
		Object  string
		Choices []struct {
			Message struct{ Role, Content string }
		}
	}
	json.Unmarshal(r1.body, &c1)
	if r1.status != 200 || c1.Object != "chat.completion" || !strings.Contains(c1.Choices[0].Message.Content, "Tuesday") {
		t.Fatalf("completion: %d %s", r1.status, r1.body)
	}
	body2 := `{"model":"voicebot","stream":true,"messages":[{"role":"user","content":"what are the opening hours"},{"role":"assistant","content":"..."},{"role":"user","content":"and on sunday?"}]}`
	r2 := do(t, a, "POST", "/v1/chat/completions", k, body2)
	if !strings.Contains(string(r2.body), "chat.completion.chunk") || !strings.Contains(string(r2.body), "Sundays") || !strings.HasSuffix(strings.TrimSpace(string(r2.body)), "data: [DONE]") {
		t.Fatalf("stream: %s", r2.body)
	}
	if r := do(t, a, "POST", "/v1/chat/completions", k, `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`); r.status != 400 {
		t.Errorf("other model: %d", r.status)
	}
}

// TestRestartKeepsEverything: turns, sessions and keys survive a restart on the same files.
func TestRestartKeepsEverything(t *testing.T) {
	o := Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0"}
	a, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat", "history"}})
	r := do(t, a, "POST", "/v1/chat", k, `{"text":"where is the cafe"}`)
	var first httpapi.ChatReply
	json.Unmarshal(r.body, &first)
	a.Close(context.Background())

	b := start(t, o)
	r2 := do(t, b, "POST", "/v1/chat", k, `{"text":"and the toilets?","session_id":"`+first.SessionID+`"}`)
	var second httpapi.ChatReply
	json.Unmarshal(r2.body, &second)
	if r2.status != 200 || second.Reply.Slots["place"] != "toilets" {
		t.Fatalf("after restart: %d %s", r2.status, r2.body)
	}
	r3 := do(t, b, "GET", "/v1/sessions/"+first.SessionID+"/messages", k, "")
	var msgs struct{ Messages []struct{ Role, Text string } }
	json.Unmarshal(r3.body, &msgs)
	if len(msgs.Messages) != 4 {
		t.Fatalf("messages after restart: %s", r3.body)
	}
	if r := do(t, b, "DELETE", "/v1/sessions/"+first.SessionID, k, ""); r.status != 204 {
		t.Errorf("erase: %d", r.status)
	}
	if r := do(t, b, "GET", "/v1/sessions/"+first.SessionID+"/messages", k, ""); r.status != 404 {
		t.Errorf("after erase: %d", r.status)
	}
}

// TestSettingsFileAppliesLive: a saved settings file changes the rate limit within a second, an
// invalid one changes nothing and is reported with its line, a restart-only change shows on
// /readyz, and each change is audited.
func TestSettingsFileAppliesLive(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	os.WriteFile(cfg, []byte("rate_limit: 100/m\n"), 0o600)
	a := start(t, Options{ConfigFile: cfg})
	k := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	limit := func() string { return do(t, a, "GET", "/v1/openapi.json", k, "").header.Get("RateLimit-Limit") }
	if l := limit(); l != "100" {
		t.Fatalf("initial limit %q", l)
	}
	save := func(body string) {
		tmp := cfg + ".tmp"
		os.WriteFile(tmp, []byte(body), 0o600)
		os.Rename(tmp, cfg)
	}
	waitFor := func(what string, cond func() bool) {
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	save("rate_limit: 250/m\n")
	waitFor("the new limit", func() bool { return limit() == "250" })

	save("rate_limit: 250/m\nretention: soon\n")
	waitFor("the error in the audit log", func() bool {
		log, _ := a.DB.AuditLog(context.Background(), 0, 20)
		for _, e := range log {
			if e.Action == "config.error" && strings.Contains(e.Detail, "voicebot.yaml:2: retention must be a duration") {
				return true
			}
		}
		return false
	})
	if l := limit(); l != "250" {
		t.Errorf("an invalid file changed the limit to %q", l)
	}

	save("rate_limit: 250/m\nlisten: 0.0.0.0:9999\n")
	adm := newKey(t, a, keys.Spec{Scopes: []string{"metrics"}})
	waitFor("restart_pending on /readyz", func() bool {
		return strings.Contains(string(do(t, a, "GET", "/readyz", adm, "").body), `"restart_pending":["listen"]`)
	})
	waitFor("both changes in the audit log", func() bool {
		log, _ := a.DB.AuditLog(context.Background(), 0, 50)
		changes := 0
		for _, e := range log {
			if e.Action == "config.change" {
				changes++
			}
		}
		return changes >= 2
	})
}
