package appliance

// The Wyoming server over TCP on loopback, driven by a Wyoming client written here with the
// protocol package's event codec (Home Assistant's Python client cannot run where the tests
// run): describe/info, the conversation service against the real engine and store, refusals of
// a LAN address without wyoming_allow_lan, and bad input (garbage, oversized events, unknown
// events, too many connections) answered with an error event or a closed connection, never a
// crash. The speech services are in wyoming_voice_test.go (cgo builds).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/voice/wyoming"
)

// wyClient is one connection to the server.
type wyClient struct {
	c net.Conn
	r *bufio.Reader
}

func dialWyoming(t testing.TB, addr string) *wyClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	return &wyClient{c: c, r: bufio.NewReaderSize(c, 1<<20)}
}

func (w *wyClient) send(t *testing.T, events ...wyoming.Event) {
	t.Helper()
	bw := bufio.NewWriter(w.c)
	for _, e := range events {
		if err := wyoming.Write(bw, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// sendRaw writes bytes as they are (a header and data apart, as the Python library writes, or
// garbage).
func (w *wyClient) sendRaw(t *testing.T, b string) {
	t.Helper()
	if _, err := io.WriteString(w.c, b); err != nil {
		t.Fatal(err)
	}
}

func (w *wyClient) read(t *testing.T) wyoming.Event {
	t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(60 * time.Second))
	e, err := wyoming.Read(w.r)
	if err != nil {
		t.Fatalf("reading an event: %v", err)
	}
	return e
}

// closed reports whether the server closed the connection (after any events it sent first,
// which are returned).
func (w *wyClient) closed(t *testing.T) (bool, []wyoming.Event) {
	t.Helper()
	var got []wyoming.Event
	_ = w.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		e, err := wyoming.Read(w.r)
		if err != nil {
			var ne net.Error
			if errorsAs(err, &ne) && ne.Timeout() {
				return false, got
			}
			return true, got
		}
		got = append(got, e)
	}
}

func errorsAs(err error, ne *net.Error) bool {
	v, ok := err.(net.Error)
	if ok {
		*ne = v
	}
	return ok
}

func describe(t *testing.T, addr string) wyoming.Info {
	t.Helper()
	w := dialWyoming(t, addr)
	w.send(t, wyoming.Event{Type: "describe"})
	e := w.read(t)
	if e.Type != "info" {
		t.Fatalf("describe answered with %q %v", e.Type, e.Data)
	}
	var info wyoming.Info
	b, _ := json.Marshal(e.Data)
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"asr", "tts", "handle", "intent", "wake"} {
		if _, ok := e.Data[k].([]any); !ok {
			t.Errorf("info has no list %q (Home Assistant's Info.from_event reads all five): %v", k, e.Data)
		}
	}
	return info
}

func startWyoming(t *testing.T, o Options) *Appliance {
	t.Helper()
	o.Wyoming = "127.0.0.1:0"
	a := start(t, o)
	if a.WyomingAddr() == "" {
		t.Fatal("no Wyoming server with Options.Wyoming set")
	}
	return a
}

// TestWyomingOffAndLoopbackOnly: off unless set; a non-loopback address is refused unless
// wyoming_allow_lan says so, both as an option and in the settings file (with its line).
func TestWyomingOffAndLoopbackOnly(t *testing.T) {
	if a := start(t, Options{}); a.WyomingAddr() != "" {
		t.Fatalf("a Wyoming server at %s by default", a.WyomingAddr())
	}
	_, err := Start(context.Background(), Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0", Wyoming: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "wyoming_allow_lan") {
		t.Fatalf("0.0.0.0 without wyoming_allow_lan: %v, want a refusal naming wyoming_allow_lan", err)
	}
	cfg := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(cfg, []byte("log_level: info\nwyoming: \":10700\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0", ConfigFile: cfg})
	if err == nil || !strings.Contains(err.Error(), "settings.yaml:2") || !strings.Contains(err.Error(), "no authentication") {
		t.Fatalf("wyoming: :10700 in the file without wyoming_allow_lan: %v, want a refusal at line 2", err)
	}
	// Allowed explicitly: it listens on every interface (the test connects on loopback only).
	if err := os.WriteFile(cfg, []byte("wyoming: \"0.0.0.0:0\"\nwyoming_allow_lan: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{ConfigFile: cfg})
	_, port, _ := net.SplitHostPort(a.WyomingAddr())
	if h, _, _ := net.SplitHostPort(a.WyomingAddr()); h != "::" && h != "0.0.0.0" {
		t.Fatalf("with wyoming_allow_lan the server listens on %s", a.WyomingAddr())
	}
	describe(t, "127.0.0.1:"+port)
}

// TestWyomingHandle: Home Assistant's conversation agent over Wyoming: describe lists the
// handle program with the content's languages; a transcript is answered as /v1/chat answers
// the same text; a follow-up with the same conversation id continues the session; the turns
// are in history under the key id "wyoming"; a question the content cannot answer is
// not-handled; the requests are counted on /metrics by service and outcome.
func TestWyomingHandle(t *testing.T) {
	a := startWyoming(t, Options{})
	info := describe(t, a.WyomingAddr())
	if len(info.Handle) != 1 || !info.Handle[0].Installed || info.Handle[0].Version == "" || len(info.Handle[0].Models) != 1 ||
		!slices.Contains(info.Handle[0].Models[0].Languages, "en") || !info.Handle[0].Models[0].Installed {
		t.Fatalf("info's handle programs: %+v", info.Handle)
	}

	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	r := do(t, a, "POST", "/v1/chat", chat, `{"text":"what are the opening hours?"}`)
	var want struct {
		Reply struct{ Text string } `json:"reply"`
	}
	if err := json.Unmarshal(r.body, &want); err != nil || want.Reply.Text == "" {
		t.Fatalf("/v1/chat: %d %s", r.status, r.body)
	}

	w := dialWyoming(t, a.WyomingAddr())
	conv := "01JDEMOCONVERSATION0000001"
	w.send(t, wyoming.Event{Type: "transcript", Data: map[string]any{"text": "what are the opening hours?", "language": "en", "context": map[string]any{"conversation_id": conv}}})
	e := w.read(t)
	if e.Type != "handled" || e.Data["text"] != want.Reply.Text {
		t.Fatalf("transcript answered with %s %v, want handled %q", e.Type, e.Data, want.Reply.Text)
	}
	if c, _ := e.Data["context"].(map[string]any); c["conversation_id"] != conv {
		t.Errorf("handled's context: %v", e.Data["context"])
	}
	// The follow-up, written as the Python library writes events (data apart from the header).
	data := `{"text": "and on sunday?", "language": "en-GB", "context": {"conversation_id": "` + conv + `"}}`
	w.sendRaw(t, fmt.Sprintf(`{"type": "transcript", "version": "1.7.1", "data_length": %d}`+"\n%s", len(data), data))
	if e := w.read(t); e.Type != "handled" || e.Data["text"] == "" {
		t.Fatalf("the follow-up: %s %v", e.Type, e.Data)
	}
	w.send(t, wyoming.Event{Type: "transcript", Data: map[string]any{"text": "zxqv blorf wibble"}})
	if e := w.read(t); e.Type != "not-handled" || e.Data["text"] == "" {
		t.Fatalf("a question the content cannot answer: %s %v, want not-handled with the fallback's text", e.Type, e.Data)
	}

	sessions, err := a.History.List(context.Background(), history.ListQuery{KeyID: WyomingKeyID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var two bool
	for _, s := range sessions {
		if s.Turns == 2 {
			two = true
			msgs, err := a.History.Messages(context.Background(), s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 4 || msgs[0].KeyID != WyomingKeyID || msgs[2].Text != "and on sunday?" {
				t.Fatalf("the Wyoming conversation in history: %+v", msgs)
			}
		}
	}
	if len(sessions) != 2 || !two {
		t.Fatalf("sessions of key id wyoming: %+v, want the two-turn conversation and the unanswered one", sessions)
	}

	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	m := string(do(t, a, "GET", "/metrics", admin, "").body)
	for _, s := range []string{`voicebot_wyoming_request_duration_seconds_count{outcome="ok",service="handle"} 2`,
		`voicebot_wyoming_request_duration_seconds_count{outcome="not_handled",service="handle"} 1`,
		`voicebot_wyoming_request_duration_seconds_count{outcome="ok",service="describe"} 1`} {
		if !strings.Contains(m, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}

	// Paused by the operator: an error event with the API's code, no turn.
	a.API.SetPaused(true)
	w.send(t, wyoming.Event{Type: "transcript", Data: map[string]any{"text": "what are the opening hours?"}})
	if e := w.read(t); e.Type != "error" || e.Data["code"] != "paused" {
		t.Fatalf("while paused: %s %v", e.Type, e.Data)
	}
}

// TestWyomingBadInput: what a client on the network may send that is not a request the server
// serves. Each is answered with an error event with a code, or the connection is closed; the
// server keeps serving others throughout.
func TestWyomingBadInput(t *testing.T) {
	a := startWyoming(t, Options{})
	addr := a.WyomingAddr()
	lim := wyomingLimitsForTest()
	cases := []struct {
		name      string
		send      string
		code      string // the error event's code
		mustClose bool
	}{
		{"garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "bad_event", true},
		{"not an object", "[1,2,3]\n", "bad_event", true},
		{"header over the limit", `{"type":"describe","data":{"x":"` + strings.Repeat("a", lim.Header) + `"}}` + "\n", "too_large", true},
		{"data over the limit", fmt.Sprintf(`{"type":"transcript","data_length":%d}`+"\n", lim.Data+1), "too_large", true},
		{"payload over the limit", fmt.Sprintf(`{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":%d}`+"\n", lim.Payload+1), "too_large", true},
		{"negative length", `{"type":"audio-chunk","payload_length":-5}` + "\n", "too_large", true},
		{"bad data", `{"type":"transcript","data_length":5}` + "\n[1,2]", "bad_event", true},
		{"unknown event", `{"type":"run-pipeline","data":{}}` + "\n", "unknown_event", false},
		{"transcript without text", `{"type":"transcript","data":{"text":5}}` + "\n", "bad_event", false},
		{"text over the limit", `{"type":"synthesize","data":{"text":"` + strings.Repeat("a ", lim.Text) + `"}}` + "\n", "too_large", false},
		{"audio of 8 bits", `{"type":"audio-start","data":{"rate":16000,"width":1,"channels":1}}` + "\n", "bad_audio", false},
		{"audio-stop without audio", `{"type":"audio-stop"}` + "\n", "no_audio", false},
		{"half a frame", `{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":3}` + "\n\x01\x02\x03", "bad_audio", false},
		{"language the content lacks", `{"type":"transcript","data":{"text":"hola","language":"xx"}}` + "\n", "unavailable", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := dialWyoming(t, addr)
			w.sendRaw(t, c.send)
			if e := w.read(t); e.Type != "error" || e.Data["code"] != c.code || e.Data["text"] == "" {
				t.Fatalf("answered with %+v, want an error event of code %s", e, c.code)
			}
			if c.mustClose {
				if closed, more := w.closed(t); !closed || len(more) > 0 {
					t.Fatalf("after a stream the server cannot follow: closed %v, then %+v", closed, more)
				}
			} else {
				// Still serving this client after a refused event.
				w.send(t, wyoming.Event{Type: "ping", Data: map[string]any{"text": "still there"}})
				if e := w.read(t); e.Type != "pong" || e.Data["text"] != "still there" {
					t.Fatalf("after the refusal, ping answered with %v", e)
				}
			}
		})
	}

	t.Run("audio over the limit", func(t *testing.T) {
		w := dialWyoming(t, addr)
		chunk := make([]byte, 32000) // 1 s at 16 kHz
		f := map[string]any{"rate": 16000, "width": 2, "channels": 1}
		w.send(t, wyoming.Event{Type: "transcribe", Data: map[string]any{"language": "en"}}, wyoming.Event{Type: "audio-start", Data: f})
		var got []wyoming.Event
		closed := false
		for i := 0; i < int(lim.Audio/time.Second)+2 && !closed; i++ {
			if err := wyoming.Write(w.c, wyoming.Event{Type: "audio-chunk", Data: f, Payload: chunk}); err != nil {
				closed = true // the server closed while we wrote
			}
		}
		c, evs := w.closed(t)
		got = append(got, evs...)
		if !c || len(got) != 1 || got[0].Data["code"] != "too_large" {
			t.Fatalf("%s of audio: %+v (closed %v), want a too_large error and the connection closed", lim.Audio+2*time.Second, got, c)
		}
	})

	t.Run("too many bad events", func(t *testing.T) {
		w := dialWyoming(t, addr)
		for range lim.BadLimit + 2 {
			w.sendRaw(t, `{"type":"nope"}`+"\n")
		}
		closed, got := w.closed(t)
		if !closed || len(got) != lim.BadLimit {
			t.Fatalf("%d unknown events: %d answers, closed %v; want %d and closed", lim.BadLimit+2, len(got), closed, lim.BadLimit)
		}
	})

	t.Run("connections per address", func(t *testing.T) {
		var open []*wyClient
		for range lim.PerAddr {
			w := dialWyoming(t, addr)
			w.send(t, wyoming.Event{Type: "ping"})
			if e := w.read(t); e.Type != "pong" {
				t.Fatalf("ping: %v", e)
			}
			open = append(open, w)
		}
		extra := dialWyoming(t, addr)
		closed, got := extra.closed(t)
		if !closed || len(got) != 1 || got[0].Data["code"] != "too_many_connections" {
			t.Fatalf("connection %d from one address: %+v closed %v", lim.PerAddr+1, got, closed)
		}
		open[0].c.Close()
		time.Sleep(100 * time.Millisecond)
		describe(t, addr)
	})

	// And the server still serves (once it has seen the subtests' connections close).
	time.Sleep(200 * time.Millisecond)
	if info := describe(t, addr); len(info.Handle) != 1 {
		t.Fatalf("after the bad input: %+v", info)
	}
}

func wyomingLimitsForTest() wyoming.Limits { return wyoming.DefaultLimits }

// TestWyomingBinary: `voicebot serve --wyoming ADDR` in a process of its own serves Home
// Assistant's conversation on the address it prints, and refuses a non-loopback address without
// --wyoming-allow-lan, saying why.
func TestWyomingBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	bin := voicebotBinary(t)
	refused := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--config-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--wyoming", "0.0.0.0:0")
	refused.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	if out, err := refused.CombinedOutput(); err == nil || !strings.Contains(string(out), "wyoming_allow_lan: true (--wyoming-allow-lan)") {
		t.Fatalf("serve --wyoming 0.0.0.0:0: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--config-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--wyoming", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	lines := bufio.NewScanner(stdout)
	var addr string
	for addr == "" && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "Wyoming server for Home Assistant on "); ok {
			addr, _, _ = strings.Cut(rest, " ")
		}
	}
	if addr == "" {
		t.Fatal("serve --wyoming printed no Wyoming address")
	}
	go func() {
		for lines.Scan() {
		}
		exited <- cmd.Wait()
	}()
	w := dialWyoming(t, addr)
	w.send(t, wyoming.Event{Type: "transcript", Data: map[string]any{"text": "what are the opening hours?"}})
	if e := w.read(t); e.Type != "handled" || !strings.Contains(fmt.Sprint(e.Data["text"]), "open") {
		t.Fatalf("the binary's Wyoming server: %s %v", e.Type, e.Data)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30 s of SIGTERM with a Wyoming client connected")
	}
}
