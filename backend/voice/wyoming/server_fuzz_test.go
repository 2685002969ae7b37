package wyoming

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"voicebot/backend/voice"
)

// echoBackend stands in for the appliance in the fuzz target below, which exercises the
// server's event loop (parsing, state, limits), not the engines: it answers at once and
// deterministically.
type echoBackend struct{}

func (echoBackend) Info() Info {
	return Info{Asr: []AsrProgram{}, Tts: []TtsProgram{}, Handle: []HandleProgram{}, Intent: []any{}, Wake: []any{}}
}
func (echoBackend) Transcribe(_ context.Context, a voice.Audio, lang string) (string, string, error) {
	if a.Rate != voice.SampleRate || len(a.Samples) == 0 {
		return "", "", errors.New("audio not resampled to 16 kHz, or empty")
	}
	return "heard", lang, nil
}
func (echoBackend) Synthesize(_ context.Context, text, _, _ string) (voice.Audio, error) {
	if text == "fail" {
		return voice.Audio{}, &Refusal{Code: CodeUnavailable, Text: "no voice"}
	}
	return voice.Audio{Rate: 16000, Samples: make([]int16, 100*len(text))}, nil
}
func (echoBackend) Handle(_ context.Context, text, _, _ string) (Handled, error) {
	return Handled{Text: "answer to " + text, Handled: len(text)%2 == 0}, nil
}

// serverSeeds are streams a client may send: Home Assistant's requests (data inline and
// apart), and broken ones.
var serverSeeds = []string{
	`{"type":"describe"}` + "\n",
	`{"type":"transcribe","data":{"language":"en"}}` + "\n" + `{"type":"audio-start","data":{"rate":16000,"width":2,"channels":1}}` + "\n" +
		`{"type":"audio-chunk","data":{"rate":16000,"width":2,"channels":1},"payload_length":4}` + "\n\x01\x00\xff\x7f" + `{"type":"audio-stop"}` + "\n",
	`{"type":"audio-chunk","data":{"rate":22050,"width":2,"channels":2},"payload_length":8}` + "\n\x01\x00\xff\x7f\x01\x00\xff\x7f" + `{"type":"audio-stop"}` + "\n",
	`{"type":"synthesize","version":"1.7.1","data_length":46}` + "\n" + `{"text":"hello","voice":{"language":"en-US"}}  `,
	`{"type":"synthesize","data":{"text":"fail"}}` + "\n",
	`{"type":"transcript","data":{"text":"hi","context":{"conversation_id":"x"}}}` + "\n" + `{"type":"transcript","data":{"text":"hey"}}` + "\n",
	`{"type":"ping","data":{"text":"p"}}` + "\n" + `{"type":"nope"}` + "\n",
	`{"type":"audio-chunk","payload_length":99999999}` + "\n",
	`{"type":"audio-start","data":{"rate":1e9,"width":2,"channels":1}}` + "\n",
	"\x00\xff\n{\n",
	// A chunk without audio-start and of no format was read with a frame of 0 bytes (a division
	// by zero, found by this target).
	`{"type":"audio-chunk","data":{"rate":16000}}` + "\n" + `{"type":"audio-chunk","payload_length":2}` + "\n\x01\x02",
}

// FuzzServe: whatever a client sends, the server's loop answers only with well-formed events of
// the protocol's types, within a bound of events per input event, and ends when the client
// stops sending; never a panic, a hang or an unbounded answer.
func FuzzServe(f *testing.F) {
	for _, s := range serverSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzServeOnce)
}

var answers = []string{"info", "pong", "transcript", "audio-start", "audio-chunk", "audio-stop", "handled", "not-handled", "error"}

func fuzzServeOnce(t *testing.T, in []byte) {
	s := &Server{Backend: echoBackend{}, Limits: Limits{Header: 1024, Data: 1024, Payload: 4096, Audio: time.Second, Text: 200, Idle: 5 * time.Second}}
	c := &memConn{r: bytes.NewReader(in)}
	s.serveConn(c, s.limits())
	r := bufio.NewReaderSize(&c.w, 64<<10)
	n := 0
	for {
		e, err := Read(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the server wrote a broken event after %d: %v", n, err)
		}
		if !slices.Contains(answers, e.Type) {
			t.Fatalf("the server answered with an event of type %q", e.Type)
		}
		n++
	}
	// At most: each input event (at least 2 bytes each) answered by 4 events plus a chunk
	// per 1024 samples of a text of at most 200 characters (100 samples per character).
	if limit := (len(in)/2 + 1) * (4 + 200*100/1024 + 1); n > limit {
		t.Fatalf("%d events answered %d bytes", n, len(in))
	}
}

// memConn is a connection whose client sends in and then nothing (EOF), and reads everything
// the server writes: deterministic, where a pipe's timing decides how much of the server's
// answer a closing client reads.
type memConn struct {
	r *bytes.Reader
	w bytes.Buffer
}

func (c *memConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *memConn) Write(b []byte) (int, error)      { return c.w.Write(b) }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10700} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
