package appliance

// The bad input table (issue 17, part 6): every route of the server's route table with every
// kind of bad credential, then more than fifty malformed bodies, headers, query strings and paths,
// each answered with a clean 4xx JSON error and its stable code, never a 5xx; the appliance is
// still answering at the end. docs/RELIABILITY.md ("Bad input") has the table's figures.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"voicebot/backend/httpapi"
	"voicebot/backend/keys"
	"voicebot/backend/voice"
)

// cleanRefusal checks that r is a 4xx JSON error with the code: JSON content type, a message,
// no 5xx.
func cleanRefusal(t *testing.T, what string, r resp, status int, code string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	err := json.Unmarshal(r.body, &e)
	switch {
	case r.status >= 500:
		t.Errorf("%s: %d (a 5xx): %s", what, r.status, r.body)
	case r.status != status || e.Error.Code != code:
		t.Errorf("%s: %d %q, want %d %q: %.300s", what, r.status, e.Error.Code, status, code, r.body)
	case err != nil || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || e.Error.Message == "":
		t.Errorf("%s: %d is not a JSON error with a message: %q %.300s", what, r.status, r.header.Get("Content-Type"), r.body)
	case status == 401 && r.header.Get("WWW-Authenticate") == "":
		t.Errorf("%s: 401 without WWW-Authenticate", what)
	}
}

// raw sends a request with exactly the headers given (no Content-Type unless given).
func raw(t *testing.T, a *Appliance, method, path string, body []byte, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+a.Addr()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

// wavBytes is a WAV file: format, channels, rate, bits and the data bytes.
func wavBytes(format, channels uint16, rate uint32, bits uint16, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	frame := channels * bits / 8
	for _, v := range []any{uint32(16), format, channels, rate, rate * uint32(frame), frame, bits} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func formWith(field string, data []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile(field, "a.wav")
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// TestBadInputTable: every route x every bad credential kind, and 50+ malformed requests with a
// good key: each a clean 4xx JSON error with its code, never a 5xx; then a good turn succeeds.
func TestBadInputTable(t *testing.T) {
	a := start(t, Options{})
	ctx := context.Background()
	all := newKey(t, a, keys.Spec{Scopes: keys.AllScopes})
	metricsOnly := newKey(t, a, keys.Spec{Scopes: []string{keys.ScopeMetrics}})
	chatOnly := newKey(t, a, keys.Spec{Scopes: []string{keys.ScopeChat}})
	revoked := newKey(t, a, keys.Spec{Scopes: keys.AllScopes})
	id, _ := keys.Parse(revoked)
	if err := a.Keys.Revoke(ctx, id, "test", ""); err != nil {
		t.Fatal(err)
	}
	expired := newKey(t, a, keys.Spec{Scopes: keys.AllScopes, Expires: time.Millisecond})
	originBound := newKey(t, a, keys.Spec{Scopes: keys.AllScopes, Origins: []string{"http://kiosk.local"}})
	time.Sleep(5 * time.Millisecond)
	unknown, _ := keys.Generate()
	last := all[len(all)-1:]
	badSum := all[:len(all)-1] + map[bool]string{true: "B", false: "A"}[last == "A"]

	// 1. Every route of the route table x every bad credential kind.
	type cred struct {
		name   string
		hdr    []string
		status int
		code   string
		scoped bool // only on routes that need a scope
	}
	creds := []cred{
		{"none", nil, 401, httpapi.CodeUnauthorized, false},
		{"malformed", []string{"Authorization", "Bearer not-a-key"}, 401, httpapi.CodeMalformedKey, false},
		{"malformed: Basic", []string{"Authorization", "Basic dXNlcjpwYXNz"}, 401, httpapi.CodeMalformedKey, false},
		{"malformed: lower-case bearer", []string{"Authorization", "bearer " + all}, 401, httpapi.CodeMalformedKey, false},
		{"malformed: 8 KB", []string{"Authorization", "Bearer vb_" + strings.Repeat("x", 8000)}, 401, httpapi.CodeMalformedKey, false},
		{"malformed: not ASCII", []string{"Authorization", "Bearer vb_" + strings.Repeat("é", 19)}, 401, httpapi.CodeMalformedKey, false},
		{"wrong checksum", []string{"Authorization", "Bearer " + badSum}, 401, httpapi.CodeBadChecksum, false},
		{"unknown", []string{"Authorization", "Bearer " + unknown}, 401, httpapi.CodeUnknownKey, false},
		{"revoked", []string{"Authorization", "Bearer " + revoked}, 401, httpapi.CodeRevokedKey, false},
		{"expired", []string{"Authorization", "Bearer " + expired}, 401, httpapi.CodeExpiredKey, false},
		{"wrong origin", []string{"Authorization", "Bearer " + originBound, "Origin", "http://evil.example"}, 403, httpapi.CodeForbiddenOrigin, false},
		{"wrong scope", nil, 403, httpapi.CodeForbiddenScope, true},
	}
	table := a.API.RouteTable()
	credChecks := 0
	for _, rt := range table {
		rc, ok := routeRequests[rt.Pattern]
		if !ok {
			t.Errorf("route %s is not in routeRequests (appliance_test.go)", rt.Pattern)
			continue
		}
		if rt.Public {
			continue
		}
		method, _, _ := strings.Cut(rt.Pattern, " ")
		ctype := rc.ctype
		if ctype == "" && rc.body != "" {
			ctype = "application/json"
		}
		for _, c := range creds {
			hdr := c.hdr
			if c.scoped {
				if rt.Scope == "" {
					continue
				}
				wrong := chatOnly
				if rt.Scope == keys.ScopeChat {
					wrong = metricsOnly
				}
				hdr = []string{"Authorization", "Bearer " + wrong}
			}
			if ctype != "" {
				hdr = append(append([]string(nil), hdr...), "Content-Type", ctype)
			}
			// A malformed body too: the credential is refused before the body is read.
			for _, body := range []string{rc.body, `{"text":`} {
				cleanRefusal(t, rt.Pattern+", "+c.name, raw(t, a, method, rc.path, []byte(body), hdr...), c.status, c.code)
				credChecks++
			}
		}
	}

	// 2. Malformed bodies, headers, query strings and paths, with a key of every scope.
	auth := []string{"Authorization", "Bearer " + all}
	js := append([]string{"Content-Type", "application/json"}, auth...)
	with := func(h ...string) []string { return append(append([]string(nil), auth...), h...) }
	loud := make([]byte, 32000)
	long := make([]byte, 31*16000*2)
	type bad struct {
		name, method, path string
		body               []byte
		hdr                []string
		status             int
		code               string
	}
	s := func(x string) []byte { return []byte(x) }
	cases := []bad{
		// chat bodies
		{"text/plain body", "POST", "/v1/chat", s(`{"text":"hi"}`), with("Content-Type", "text/plain"), 415, httpapi.CodeUnsupportedMedia},
		{"no content type", "POST", "/v1/chat", s(`{"text":"hi"}`), auth, 415, httpapi.CodeUnsupportedMedia},
		{"content type application/jsonx", "POST", "/v1/chat", s(`{"text":"hi"}`), with("Content-Type", "application/jsonx"), 415, httpapi.CodeUnsupportedMedia},
		{"content type that does not parse", "POST", "/v1/chat", s(`{"text":"hi"}`), with("Content-Type", "application/json; ;;="), 415, httpapi.CodeUnsupportedMedia},
		{"body over 64 KB", "POST", "/v1/chat", s(`{"text":"` + strings.Repeat("a", httpapi.MaxChatBody) + `"}`), js, 413, httpapi.CodeBodyTooLarge},
		{"cut short", "POST", "/v1/chat", s(`{"text":`), js, 400, httpapi.CodeInvalidJSON},
		{"empty body", "POST", "/v1/chat", nil, js, 400, httpapi.CodeInvalidJSON},
		{"an array", "POST", "/v1/chat", s(`["hi"]`), js, 400, httpapi.CodeInvalidJSON},
		{"a string", "POST", "/v1/chat", s(`"hi"`), js, 400, httpapi.CodeInvalidJSON},
		{"null", "POST", "/v1/chat", s(`null`), js, 400, httpapi.CodeEmptyText},
		{"unknown field", "POST", "/v1/chat", s(`{"text":"hi","txt":"x"}`), js, 400, httpapi.CodeInvalidJSON},
		{"field in other case", "POST", "/v1/chat", s(`{"Text":"hi"}`), js, 400, httpapi.CodeInvalidJSON},
		{"duplicate key", "POST", "/v1/chat", s(`{"text":"hi","text":"ho"}`), js, 400, httpapi.CodeDuplicateKey},
		{"duplicate key, escaped", "POST", "/v1/chat", s(`{"text":"hi","t\u0065xt":"ho"}`), js, 400, httpapi.CodeDuplicateKey},
		{"trailing data", "POST", "/v1/chat", s(`{"text":"hi"} {}`), js, 400, httpapi.CodeInvalidJSON},
		{"invalid UTF-8", "POST", "/v1/chat", s("{\"text\":\"caf\xe9\"}"), js, 400, httpapi.CodeInvalidUTF8},
		{"lone surrogate escape", "POST", "/v1/chat", s(`{"text":"\ud800"}`), js, 400, httpapi.CodeInvalidJSON},
		{"byte order mark", "POST", "/v1/chat", s("\ufeff{\"text\":\"hi\"}"), js, 400, httpapi.CodeInvalidJSON},
		{"nested 10,000 deep", "POST", "/v1/chat", s(`{"text":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`), js, 400, httpapi.CodeInvalidJSON},
		{"text a number", "POST", "/v1/chat", s(`{"text":42}`), js, 400, httpapi.CodeInvalidJSON},
		{"text blank", "POST", "/v1/chat", s(`{"text":"  \t "}`), js, 400, httpapi.CodeEmptyText},
		{"text too long", "POST", "/v1/chat", s(`{"text":"` + strings.Repeat("word ", 300) + `"}`), js, 400, httpapi.CodeTextTooLong},
		{"session id with a path", "POST", "/v1/chat", s(`{"text":"hi","session_id":"../etc"}`), js, 400, httpapi.CodeInvalidSessionID},
		{"language not the content's", "POST", "/v1/chat", s(`{"text":"hi","lang":"fr"}`), js, 400, httpapi.CodeUnsupportedLang},
		{"query on chat", "POST", "/v1/chat?stream=1", s(`{"text":"hi"}`), js, 400, httpapi.CodeInvalidParameter},
		// OpenAI-compatible
		{"completions: another model", "POST", "/v1/chat/completions", s(`{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`), js, 400, httpapi.CodeInvalidParameter},
		{"completions: no user message", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"system","content":"x"}]}`), js, 400, httpapi.CodeEmptyText},
		{"completions: content parts", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`), js, 400, httpapi.CodeInvalidJSON},
		{"completions: duplicate nested key", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"user","content":"a","content":"b"}]}`), js, 400, httpapi.CodeDuplicateKey},
		{"completions: unknown parameter n", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"user","content":"hi"}],"n":2}`), js, 400, httpapi.CodeInvalidJSON},
		{"completions: stream a string", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}`), js, 400, httpapi.CodeInvalidJSON},
		{"completions: user over 256 bytes", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"user","content":"hi"}],"user":"` + strings.Repeat("u", 300) + `"}`), js, 400, httpapi.CodeInvalidParameter},
		{"completions: session header malformed", "POST", "/v1/chat/completions", s(`{"messages":[{"role":"user","content":"hi"}]}`), append(js, httpapi.SessionHeader, "../x"), 400, httpapi.CodeInvalidSessionID},
		// keys
		{"keys: unknown scope", "POST", "/v1/keys", s(`{"name":"x","scopes":["root"]}`), js, 400, httpapi.CodeInvalidParameter},
		{"keys: negative expiry", "POST", "/v1/keys", s(`{"name":"x","scopes":["chat"],"expires":"-1h"}`), js, 400, httpapi.CodeInvalidParameter},
		{"keys: expiry that does not parse", "POST", "/v1/keys", s(`{"name":"x","scopes":["chat"],"expires":"a month"}`), js, 400, httpapi.CodeInvalidParameter},
		{"keys: rate 0/m", "POST", "/v1/keys", s(`{"name":"x","scopes":["chat"],"rate":"0/m"}`), js, 400, httpapi.CodeInvalidParameter},
		{"keys: scopes a string", "POST", "/v1/keys", s(`{"name":"x","scopes":"chat"}`), js, 400, httpapi.CodeInvalidJSON},
		{"keys: duplicate name", "POST", "/v1/keys", s(`{"name":"x","name":"y","scopes":["chat"]}`), js, 400, httpapi.CodeDuplicateKey},
		{"keys: body over 16 KB", "POST", "/v1/keys", s(`{"name":"` + strings.Repeat("n", httpapi.MaxAdminBody) + `","scopes":["chat"]}`), js, 413, httpapi.CodeBodyTooLarge},
		{"keys: revoke a bad id", "DELETE", "/v1/keys/bad!id", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"keys: revoke an unknown id", "DELETE", "/v1/keys/nonexist", nil, auth, 404, httpapi.CodeNotFound},
		{"keys: rotate an id of 65 characters", "POST", "/v1/keys/" + strings.Repeat("a", 65) + "/rotate", nil, auth, 400, httpapi.CodeInvalidParameter},
		// teaching
		{"teach: empty text", "POST", "/v1/content/teach", s(`{"text":" ","intent":"greeting"}`), js, 400, httpapi.CodeEmptyText},
		{"teach: the built-in demo", "POST", "/v1/content/teach", s(`{"text":"hiya","intent":"greeting"}`), js, 409, httpapi.CodeContentReadOnly},
		{"teach: out_of_scope a string", "POST", "/v1/content/teach", s(`{"text":"x","out_of_scope":"yes"}`), js, 400, httpapi.CodeInvalidJSON},
		{"candidates: no text", "GET", "/v1/content/candidates", nil, auth, 400, httpapi.CodeEmptyText},
		{"candidates: n=0", "GET", "/v1/content/candidates?text=hi&n=0", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"candidates: language not the content's", "GET", "/v1/content/candidates?text=hi&lang=fr", nil, auth, 400, httpapi.CodeUnsupportedLang},
		// speech and voice
		{"speech: mp3", "POST", "/v1/audio/speech", s(`{"input":"hi","response_format":"mp3"}`), js, 400, httpapi.CodeUnsupportedFmt},
		{"speech: empty input", "POST", "/v1/audio/speech", s(`{"input":""}`), js, 400, httpapi.CodeEmptyText},
		{"speech: language not the content's", "POST", "/v1/audio/speech", s(`{"input":"hi","lang":"fr"}`), js, 400, httpapi.CodeUnsupportedLang},
		{"voice: JSON instead of WAV", "POST", "/v1/voice", s(`{"text":"hi"}`), js, 415, httpapi.CodeUnsupportedMedia},
		{"voice: not a WAV", "POST", "/v1/voice", s("hello, this is not audio"), with("Content-Type", "audio/wav"), 400, httpapi.CodeInvalidAudio},
		{"voice: 32-bit float WAV", "POST", "/v1/voice", wavBytes(3, 1, 16000, 32, loud), with("Content-Type", "audio/wav"), 415, httpapi.CodeUnsupportedAudio},
		{"voice: 96 kHz WAV", "POST", "/v1/voice", wavBytes(1, 1, 96000, 16, loud), with("Content-Type", "audio/wav"), 415, httpapi.CodeUnsupportedAudio},
		{"voice: no samples", "POST", "/v1/voice", wavBytes(1, 1, 16000, 16, nil), with("Content-Type", "audio/wav"), 400, httpapi.CodeEmptyAudio},
		{"voice: chunk sizes past the end", "POST", "/v1/voice", append(s("RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\x00"), loud[:100]...), with("Content-Type", "audio/wav"), 400, httpapi.CodeInvalidAudio},
		{"voice: 31 seconds", "POST", "/v1/voice", wavBytes(1, 1, 16000, 16, long), with("Content-Type", "audio/wav"), 413, httpapi.CodeAudioTooLong},
		{"voice: over 8 MB", "POST", "/v1/voice", make([]byte, httpapi.MaxAudioBody+1), with("Content-Type", "audio/wav"), 413, httpapi.CodeBodyTooLarge},
		{"voice: language not the content's", "POST", "/v1/voice?lang=fr", wavBytes(1, 1, 16000, 16, loud), with("Content-Type", "audio/wav"), 400, httpapi.CodeUnsupportedLang},
		{"voice: session_id twice", "POST", "/v1/voice?session_id=a&session_id=b", wavBytes(1, 1, 16000, 16, loud), with("Content-Type", "audio/wav"), 400, httpapi.CodeInvalidParameter},
		{"transcriptions: not multipart", "POST", "/v1/audio/transcriptions", wavBytes(1, 1, 16000, 16, loud), with("Content-Type", "audio/wav"), 415, httpapi.CodeUnsupportedMedia},
		{"transcriptions: multipart, boundary missing", "POST", "/v1/audio/transcriptions", s("--x\r\n\r\n--x--\r\n"), with("Content-Type", "multipart/form-data"), 415, httpapi.CodeUnsupportedMedia},
		{"voice stream: not a WebSocket", "GET", "/v1/voice/stream", nil, auth, 426, httpapi.CodeWebSocketRequired},
		{"voice audio: unknown id", "GET", "/v1/voice/audio/au_nothing", nil, auth, 404, httpapi.CodeNotFound},
		// query strings and paths
		{"no such route", "GET", "/v1/nothing", nil, auth, 404, httpapi.CodeNotFound},
		{"no such route, no key", "GET", "/v1/nothing", nil, nil, 404, httpapi.CodeNotFound},
		{"GET on a POST route", "GET", "/v1/chat", nil, auth, 405, httpapi.CodeMethodNotAllowed},
		{"PUT on keys", "PUT", "/v1/keys", s(`{}`), js, 405, httpapi.CodeMethodNotAllowed},
		{"session id with a space", "GET", "/v1/sessions/bad%20id/messages", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"session id of 65 characters", "GET", "/v1/sessions/" + strings.Repeat("s", 65) + "/export", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"unknown session", "DELETE", "/v1/sessions/s_none", nil, auth, 404, httpapi.CodeNotFound},
		{"limit=0", "GET", "/v1/sessions?limit=0", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"limit=abc", "GET", "/v1/sessions?limit=abc", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"limit past int64", "GET", "/v1/sessions?limit=99999999999999999999", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"before=-1", "GET", "/v1/audit?before=-1", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"q over 200 characters", "GET", "/v1/sessions?q=" + strings.Repeat("x", 201), nil, auth, 400, httpapi.CodeInvalidParameter},
		{"a bad %-escape", "GET", "/v1/sessions?limit=%zz", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"a semicolon", "GET", "/v1/sessions?limit=5;lang=en", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"an unknown parameter", "GET", "/v1/sessions?limt=5", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"a parameter twice", "GET", "/v1/sessions?limit=5&limit=200", nil, auth, 400, httpapi.CodeInvalidParameter},
		{"actor over 64 characters", "GET", "/v1/audit?actor=" + strings.Repeat("a", 65), nil, auth, 400, httpapi.CodeInvalidParameter},
		{"a parameter on a route that takes none", "GET", "/v1/keys?all=1", nil, auth, 400, httpapi.CodeInvalidParameter},
		// headers
		{"preflight from an origin not allowed", "OPTIONS", "/v1/chat", nil, []string{"Origin", "http://evil.example", "Access-Control-Request-Method", "POST"}, 403, httpapi.CodeForbiddenOrigin},
		{"two Authorization headers, the first bad", "GET", "/v1/bot", nil, []string{"Authorization", "Bearer not-a-key", "Authorization", "Bearer " + all}, 401, httpapi.CodeMalformedKey},
		{"Authorization with no key", "GET", "/v1/bot", nil, []string{"Authorization", "Bearer "}, 401, httpapi.CodeMalformedKey},
		{"a chunked body over 64 KB", "POST", "/v1/chat", nil, nil, 413, httpapi.CodeBodyTooLarge},
	}
	for _, c := range cases {
		var r resp
		if c.name == "a chunked body over 64 KB" { // no Content-Length: the limit holds as the body streams
			req, _ := http.NewRequest("POST", "http://"+a.Addr()+c.path, io.MultiReader(strings.NewReader(`{"text":"`), strings.NewReader(strings.Repeat("a", 2*httpapi.MaxChatBody))))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+all)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			r = resp{res.StatusCode, res.Header, b}
		} else {
			r = raw(t, a, c.method, c.path, c.body, c.hdr...)
		}
		cleanRefusal(t, c.name, r, c.status, c.code)
	}
	if len(cases) < 50 {
		t.Errorf("only %d malformed requests", len(cases))
	}

	// 3. Still alive: a good turn, a good voice request's refusal path and health.
	if r := do(t, a, "POST", "/v1/chat", all, `{"text":"what are the opening hours?"}`); r.status != 200 {
		t.Fatalf("a good turn after the table: %d %s", r.status, r.body)
	}
	if r := do(t, a, "GET", "/healthz", "", ""); r.status != 200 {
		t.Fatalf("healthz after the table: %d", r.status)
	}
	ct, body := formWith("nofile", []byte("x"))
	cleanRefusal(t, "transcriptions: no file field", raw(t, a, "POST", "/v1/audio/transcriptions", body, with("Content-Type", ct)...), 400, httpapi.CodeInvalidParameter)
	_ = voice.SampleRate
	t.Logf("%d routes x credential kinds (each with its body and a malformed one): %d requests; %d malformed requests with a good key", len(table), credChecks, len(cases)+1)
}
