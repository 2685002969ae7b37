package httpapi

// Fuzz targets of the API's inputs (issue 17): JSON bodies of chat, OpenAI-compatible
// completions and keys, the multipart audio upload and the voice stream's messages, each through
// the real handler (ServeHTTP, as on the LAN; ServeVoice, as the WebSocket route and the desktop
// window run it). `make fuzz` runs each for FUZZTIME.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
	"voicebot/backend/voice"
)

// knownCodes are the codes a refusal may carry: every Code... constant of the package's
// sources (errors.go, voice.go, ...), read from them, so that a code added later is known.
var knownCodes = func() map[string]bool {
	out := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`(?m)^\s*Code\w+\s*=\s*"(\w+)"`)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(name)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	return out
}()

var fuzzUnit struct {
	once sync.Once
	u    *unit
}

// fuzzServer is one server per fuzzing process (newStrictUnit: the real engine and handlers over
// in-memory sessions, keys, history and audit), made on the first input.
func fuzzServer(t *testing.T) *unit {
	fuzzUnit.once.Do(func() { fuzzUnit.u = newStrictUnit(t) })
	return fuzzUnit.u
}

// refusal checks that a response that is not a success is a clean refusal: a 4xx (or, for voice,
// 503 voice_unavailable: this build has no speech engines) in JSON with a known code. It returns
// the code ("" for a success).
func refusal(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if len(knownCodes) < 30 {
		t.Fatalf("read %d error codes from the package's sources", len(knownCodes))
	}
	if w.Code < 400 {
		return ""
	}
	var e errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("a %d that is not a JSON error: %q", w.Code, w.Body)
	}
	if !knownCodes[e.Error.Code] || e.Error.Message == "" {
		t.Fatalf("a %d with code %q: %s", w.Code, e.Error.Code, w.Body)
	}
	if w.Code >= 500 && !(w.Code == 503 && e.Error.Code == CodeVoiceUnavailable) {
		t.Fatalf("a %d: %s", w.Code, w.Body)
	}
	return e.Error.Code
}

// jsonShape reads b as encoding/json's tokenizer does, independently of the handler's decoder:
// whether it is one JSON value, whether an object in it repeats a key, and whether an object
// at a path of allowed (object keys joined by ".", arrays skipped) has a key not listed there.
func jsonShape(b []byte, allowed map[string][]string) (valid, dup, unknown bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				if seen[key] {
					dup = true
				}
				seen[key] = true
				if keys, ok := allowed[path]; ok && !slices.Contains(keys, key) {
					unknown = true
				}
				if err := walk(strings.TrimPrefix(path+"."+key, ".")); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(path); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(""); err != nil {
		return false, dup, unknown
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return false, dup, unknown
	}
	return true, dup, unknown
}

// refusedIfLoose: a body that repeats a key or has a key the route does not take was refused.
func refusedIfLoose(t *testing.T, body string, allowed map[string][]string, code string) {
	t.Helper()
	valid, dup, unknown := jsonShape([]byte(body), allowed)
	if !valid || !(dup || unknown) {
		return
	}
	if code == "" {
		t.Fatalf("answered a body with a repeated (%v) or unknown (%v) key: %q", dup, unknown, body)
	}
}

var chatFields = map[string][]string{"": {"session_id", "text", "lang"}}

// FuzzChatJSON: any body of POST /v1/chat is answered as a turn or refused with a 4xx JSON
// error and a known code, never a 5xx or a panic; a body with a repeated or unknown key is
// refused, not half-read; an answer has a session, a turn id and a reply.
func FuzzChatJSON(f *testing.F) {
	for _, s := range []string{`{"text":"what are the opening hours?"}`, `{"text":"¿cuánto cuesta?","lang":"es"}`, `{"text":"hi","session_id":"s_abc"}`,
		`{"text":"hi","text":"ho"}`, `{"Text":"hi"}`, `{"text":"hi","x":1}`, `{"text":42}`, `{"text":"hi"} {}`, `[]`, `null`, `{"text":"` + strings.Repeat("a ", 600) + `"}`,
		`{"text":"hi","session_id":"../x"}`, `{"text":"hi","lang":"xx"}`, `{"text":"\u0000"}`, `{"text":"\ud800"}`, `{"text":"hi","te\u0078t":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		u := fuzzServer(t)
		w := u.do("POST", "/v1/chat", "chat", body)
		code := refusal(t, w)
		refusedIfLoose(t, body, chatFields, code)
		if code != "" {
			return
		}
		var rep ChatReply
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &rep) != nil || rep.SessionID == "" || rep.TurnID == "" || rep.Reply.Text == "" {
			t.Fatalf("an answer %d: %s", w.Code, w.Body)
		}
	})
}

var completionFields = map[string][]string{"": {"model", "messages", "stream", "user", "temperature", "max_tokens", "top_p"}, "messages": {"role", "content"}}

// FuzzCompletionsJSON: the same of POST /v1/chat/completions (OpenAI-compatible); an answer is
// a chat.completion with one assistant message, or a stream ending in [DONE].
func FuzzCompletionsJSON(f *testing.F) {
	for _, s := range []string{`{"model":"voicebot","messages":[{"role":"user","content":"hello"}]}`,
		`{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"tickets?"},{"role":"assistant","content":"12"},{"role":"user","content":"and students?"}],"user":"v1"}`,
		`{"messages":[{"role":"user","content":"hi"}],"stream":true,"temperature":0.2,"max_tokens":5,"top_p":1}`,
		`{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}`, `{"messages":[]}`, `{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`,
		`{"messages":[{"role":"user","role":"user","content":"hi"}]}`, `{"messages":[{"role":"user","content":"hi","name":"x"}]}`, `{"messages":null,"n":2}`,
		`{"messages":[{"role":"user","content":"hi"}],"user":"` + strings.Repeat("u", 300) + `"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		u := fuzzServer(t)
		w := u.do("POST", "/v1/chat/completions", "chat", body)
		code := refusal(t, w)
		refusedIfLoose(t, body, completionFields, code)
		if code != "" {
			return
		}
		if w.Code != 200 || w.Header().Get(SessionHeader) == "" {
			t.Fatalf("an answer %d without a session: %s", w.Code, w.Body)
		}
		if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
			if !strings.HasSuffix(w.Body.String(), "data: [DONE]\n\n") {
				t.Fatalf("a stream that does not end in [DONE]: %q", w.Body)
			}
			return
		}
		var out struct {
			Object  string
			Choices []struct{ Message oaMessage }
		}
		if json.Unmarshal(w.Body.Bytes(), &out) != nil || out.Object != "chat.completion" || len(out.Choices) != 1 || out.Choices[0].Message.Role != "assistant" || out.Choices[0].Message.Content == "" {
			t.Fatalf("an answer that is not a completion: %s", w.Body)
		}
	})
}

// fastDir is a folder in /dev/shm (a tmpfs) when there is one: the store syncs every write,
// and a sync on a busy disk takes long enough to starve a fuzzer.
func fastDir(f *testing.F) string {
	if d, err := os.MkdirTemp("/dev/shm", "voicebot-fuzz-"); err == nil {
		f.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return f.TempDir()
}

var keyFields = map[string][]string{"": {"name", "scopes", "origins", "rate", "expires"}}

// FuzzKeysJSON: any body of POST /v1/keys, against the real key service over a real store, makes
// a key or is refused with a 4xx JSON error and a known code, never a 5xx; a repeated or unknown
// key is refused; a key made verifies, with the name and scopes asked for.
func FuzzKeysJSON(f *testing.F) {
	for _, s := range []string{`{"name":"tablet","scopes":["chat"]}`, `{"name":"ops","scopes":["admin","metrics"],"origins":["http://kiosk.local"],"rate":"60/m","expires":"720h"}`,
		`{"name":"x","scopes":["root"]}`, `{"name":"","scopes":["chat"]}`, `{"name":"x","scopes":[]}`, `{"name":"x","scopes":["chat"],"rate":"0/m"}`,
		`{"name":"x","scopes":["chat"],"expires":"-1h"}`, `{"name":"x","scopes":["chat"],"expires":"9999999999h"}`, `{"name":"x","name":"y","scopes":["chat"]}`,
		`{"name":"x","scopes":["chat"],"origins":["javascript:alert(1)"]}`, `{"name":"` + strings.Repeat("n", 500) + `","scopes":["chat"]}`, `{"name":"x","scopes":"chat"}`} {
		f.Add(s)
	}
	db, err := store.Open(context.Background(), filepath.Join(fastDir(f), "v.db"), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	ks := keys.NewService(db)
	admin, _, err := ks.Create(context.Background(), keys.Spec{Name: "admin", Scopes: []string{keys.ScopeAdmin}}, "test", "")
	if err != nil {
		f.Fatal(err)
	}
	api := New(&Server{Engine: conversation.New(conversation.NewMemorySessions(10, time.Hour)), Keys: ks, DB: db, Metrics: telemetry.New()}, Config{DefaultRate: "1000000/s"})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/v1/keys", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+admin)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		code := refusal(t, w)
		refusedIfLoose(t, body, keyFields, code)
		if code != "" {
			return
		}
		var req createKeyRequest
		_ = json.Unmarshal([]byte(body), &req)
		var out struct {
			Key  string
			Info keys.Key
		}
		if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &out) != nil {
			t.Fatalf("made a key: %d %s", w.Code, w.Body)
		}
		k, err := ks.Verify(context.Background(), out.Key)
		if err != nil && !(errors.Is(err, keys.ErrExpired) && req.Expires != "") {
			t.Fatalf("the key made does not verify: %v", err)
		}
		if err == nil && (k.Name != req.Name || !slices.Equal(k.Scopes, req.Scopes)) {
			t.Fatalf("asked %q %v, made %q %v", req.Name, req.Scopes, k.Name, k.Scopes)
		}
	})
}

// multipartBody is a transcription upload: the file field with data, and the other fields.
func multipartBody(boundary string, file []byte, fields ...string) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary(boundary)
	fw, _ := mw.CreateFormFile("file", "a.wav")
	fw.Write(file)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return b.Bytes()
}

// FuzzTranscriptionsMultipart: any upload to POST /v1/audio/transcriptions is refused with a
// 4xx JSON error and a known code, or reaches the recognizer (503 voice_unavailable in this
// test binary, which has no speech engines) only with a form that holds a file field decoding
// as WAV and a language of the content.
func FuzzTranscriptionsMultipart(f *testing.F) {
	wav := voice.EncodeWAV(voice.Audio{Rate: 16000, Samples: make([]int16, 1600)})
	f.Add("xYz", multipartBody("xYz", wav, "model", "whisper-1", "language", "en"))
	f.Add("b", multipartBody("b", wav, "response_format", "text"))
	f.Add("b", multipartBody("b", []byte("RIFF....WAVE"), "language", "fr"))
	f.Add("b", multipartBody("b", wav[:50]))
	f.Add("b", []byte("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--b--\r\n"))
	f.Add("b", []byte("--b\r\n\r\n"))
	f.Add("", []byte("plain"))
	f.Add("a\"b", []byte("--a\"b--"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		if len(body) > 256<<10 {
			return // larger uploads only take longer to refuse the same way
		}
		u := fuzzServer(t)
		r := httptest.NewRequest("POST", "/v1/audio/transcriptions", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer voice")
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			u.api.ServeHTTP(w, r)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer in 10 s to %d bytes with boundary %q", len(body), boundary)
		}
		code := refusal(t, w)
		if code == "" {
			t.Fatalf("transcribed without a recognizer: %d %s", w.Code, w.Body)
		}
		if code != CodeVoiceUnavailable {
			return
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		form, err := mr.ReadForm(MaxAudioBody)
		if err != nil {
			t.Fatalf("reached the recognizer with a form that does not parse: %v", err)
		}
		defer form.RemoveAll()
		if len(form.File["file"]) == 0 {
			t.Fatal("reached the recognizer without a file")
		}
		fh, _ := form.File["file"][0].Open()
		data, _ := io.ReadAll(fh)
		if _, err := voice.DecodeWAV(data); err != nil {
			t.Fatalf("reached the recognizer with audio that does not decode: %v", err)
		}
	})
}

// memConn is a voice conversation's channel in memory: the frames the client sends, and what
// the server writes back.
type memConn struct {
	in   []frame
	read int
	mu   sync.Mutex
	out  [][]byte // text events
}

type frame struct {
	text bool
	data []byte
}

func (c *memConn) Read(ctx context.Context) (bool, []byte, error) {
	if c.read >= len(c.in) {
		return false, nil, io.EOF
	}
	f := c.in[c.read]
	c.read++
	return f.text, f.data, nil
}

func (c *memConn) Write(_ context.Context, text bool, b []byte) error {
	if text {
		c.mu.Lock()
		c.out = append(c.out, append([]byte(nil), b...))
		c.mu.Unlock()
	}
	return nil
}

// framesOf cuts a fuzz input into frames: a byte of kind (even: binary, odd: text), two bytes
// of length (little-endian), then that many bytes (or what is left); a binary frame of kind 2
// is repeated 50 times, so that the voice detector hears a second of it.
func framesOf(b []byte) []frame {
	var out []frame
	for len(b) >= 3 && len(out) < 400 {
		kind, n := b[0], int(binary.LittleEndian.Uint16(b[1:3]))
		b = b[3:]
		n = min(n, len(b))
		fr := frame{text: kind%2 == 1, data: b[:n]}
		b = b[n:]
		reps := 1
		if kind == 2 {
			reps = 50
		}
		for range reps {
			out = append(out, fr)
		}
	}
	return out
}

func frameBytes(fs ...frame) []byte {
	var b []byte
	for _, f := range fs {
		kind := byte(0)
		if f.text {
			kind = 1
		}
		if !f.text && len(f.data) == 640 {
			kind = 2
		}
		b = append(b, kind, byte(len(f.data)), byte(len(f.data)>>8))
		b = append(b, f.data...)
	}
	return b
}

// FuzzVoiceStream: any sequence of messages on the voice stream (text frames of JSON events,
// binary frames of PCM) is answered with JSON events only, the first "ready"; each text frame
// that is not exactly {"type":"stop"} or {"type":"end"} gets one error event (invalid_json,
// duplicate_key or invalid_parameter), each binary frame of an odd length one invalid_audio;
// and the conversation ends when the client goes, within bounded time.
func FuzzVoiceStream(f *testing.F) {
	loud := make([]byte, 640)
	for i := 0; i < 320; i++ {
		v := int16(12000)
		if (i/8)%2 == 0 {
			v = -12000
		}
		binary.LittleEndian.PutUint16(loud[2*i:], uint16(v))
	}
	f.Add(frameBytes(frame{true, []byte(`{"type":"stop"}`)}, frame{true, []byte(`{"type":"end"}`)}))
	f.Add(frameBytes(frame{true, []byte(`{"type":"stop","type":"end"}`)}, frame{true, []byte(`{"Type":"stop"}`)}, frame{true, []byte(`{"type":"jump"}`)}, frame{true, []byte(`nope`)}))
	f.Add(frameBytes(frame{false, make([]byte, 641)}, frame{false, make([]byte, 640)}, frame{true, []byte(`{"type":"end"}`)}))
	f.Add(frameBytes(frame{false, loud}, frame{true, []byte(`{"type":"end"}`)}))
	f.Add(frameBytes(frame{true, []byte("\xff")}, frame{false, nil}))
	f.Fuzz(func(t *testing.T, b []byte) {
		u := fuzzServer(t)
		c := &memConn{in: framesOf(b)}
		done := make(chan struct{})
		go func() {
			u.api.ServeVoice(context.Background(), c, "en", "", "kvoice")
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the conversation did not end 10 s after the client went (%d frames)", len(c.in))
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		wantErrs := map[string]int{}
		for _, fr := range c.in[:c.read] {
			if fr.text {
				var m struct {
					Type string `json:"type"`
				}
				if code, _ := strictJSON(fr.data, &m); code != "" || (m.Type != "stop" && m.Type != "end") {
					wantErrs["frame"]++
				}
			} else if len(fr.data)%2 != 0 {
				wantErrs[CodeInvalidAudio]++
			}
		}
		gotErrs := map[string]int{}
		for i, ev := range c.out {
			var e map[string]any
			if err := json.Unmarshal(ev, &e); err != nil {
				t.Fatalf("event %d is not JSON: %q", i, ev)
			}
			typ, _ := e["type"].(string)
			if i == 0 && typ != "ready" {
				t.Fatalf("the first event is %q", ev)
			}
			if !slices.Contains([]string{"ready", "error", "speech_start", "partial", "final", "reply", "barge_in", "audio_start", "audio_end"}, typ) {
				t.Fatalf("an event of type %q", typ)
			}
			if typ == "error" {
				code, _ := e["code"].(string)
				if !knownCodes[code] {
					t.Fatalf("an error event with code %q", code)
				}
				switch code {
				case CodeInvalidJSON, CodeDuplicateKey, CodeInvalidParameter:
					gotErrs["frame"]++
				case CodeInvalidAudio:
					gotErrs[CodeInvalidAudio]++
				}
			}
		}
		if gotErrs["frame"] != wantErrs["frame"] || gotErrs[CodeInvalidAudio] != wantErrs[CodeInvalidAudio] {
			t.Fatalf("errors %v for frames that call for %v", gotErrs, wantErrs)
		}
	})
}
