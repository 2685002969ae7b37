//go:build cgo && linux

package appliance

// The voice stream over a real WebSocket (github.com/coder/websocket as the client): a spoken
// question is sent as 20 ms frames of 16 kHz PCM at the pace of real speech, followed by
// silence; the server's VAD ends the utterance, the reply and its audio come back; speaking
// during the reply stops it (barge-in).

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/voice"
)

func spokenPCM(t testing.TB, text string) []int16 {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "q.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	b, _ := os.ReadFile(wav)
	a, err := voice.DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	return a.Samples
}

func pcmBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

type wsClient struct {
	c      *websocket.Conn
	events chan map[string]any
	audio  chan int // bytes of each binary frame
}

func dialStream(t testing.TB, a *Appliance, key string) *wsClient {
	t.Helper()
	ctx := context.Background()
	c, res, err := websocket.Dial(ctx, "ws://"+a.Addr()+"/v1/voice/stream?lang=en", &websocket.DialOptions{Subprotocols: []string{"voicebot.v1", "bearer." + key}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{c: c, events: make(chan map[string]any, 100), audio: make(chan int, 1000)}
	go func() {
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				close(w.events)
				return
			}
			if typ == websocket.MessageBinary {
				w.audio <- len(b)
				continue
			}
			var ev map[string]any
			_ = json.Unmarshal(b, &ev)
			w.events <- ev
		}
	}()
	return w
}

// sendPaced sends samples as 20 ms frames; paced at real time when pace is true.
func (w *wsClient) send(t testing.TB, samples []int16, pace bool) {
	for i := 0; i < len(samples); i += voice.FrameSamples {
		frame := samples[i:min(i+voice.FrameSamples, len(samples))]
		if err := w.c.Write(context.Background(), websocket.MessageBinary, pcmBytes(frame)); err != nil {
			t.Fatal(err)
		}
		if pace {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (w *wsClient) waitFor(t testing.TB, typ string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.events:
			if !ok {
				t.Fatalf("connection closed waiting for %s", typ)
			}
			if ev["type"] == typ {
				return ev
			}
			if ev["type"] == "error" {
				t.Fatalf("waiting for %s: %v", typ, ev)
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", typ)
		}
	}
}

func TestVoiceStream(t *testing.T) {
	needSpeechTools(t)
	a := startVoice(t, Options{})
	key := newKey(t, a, keysSpec("voice"))
	// Without the voice scope, or without a key, no upgrade.
	if _, res, err := websocket.Dial(context.Background(), "ws://"+a.Addr()+"/v1/voice/stream", nil); err == nil || res == nil || res.StatusCode != 401 {
		t.Fatalf("stream without a key: %v %v", err, res)
	}
	w := dialStream(t, a, key)
	if ev := w.waitFor(t, "ready"); ev["sample_rate"] != float64(16000) {
		t.Fatalf("ready: %v", ev)
	}
	silence := make([]int16, voice.SampleRate/2)
	w.send(t, silence, false)
	w.send(t, spokenPCM(t, "What are the opening hours?"), true)
	w.send(t, make([]int16, voice.SampleRate), true) // one second of silence ends the utterance
	w.waitFor(t, "speech_start")
	final := w.waitFor(t, "final")
	if final["text"] != "what are the opening hours" {
		t.Fatalf("final: %v", final)
	}
	rep := w.waitFor(t, "reply")
	if r := rep["reply"].(map[string]any); r["intent"] != "opening_hours" {
		t.Fatalf("reply: %v", rep)
	}
	start := w.waitFor(t, "audio_start")
	t.Logf("end of speech to first audio: %v ms (server)", start["eos_to_audio_ms"])
	select {
	case n := <-w.audio:
		if n == 0 {
			t.Fatal("empty audio frame")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply audio")
	}

	// Barge-in: the visitor speaks while the (long) reply is being spoken.
	w.send(t, spokenPCM(t, "Tell me about the current exhibitions"), true)
	w.send(t, make([]int16, voice.SampleRate), true)
	w.waitFor(t, "final")
	w.waitFor(t, "reply")
	w.waitFor(t, "audio_start")
	w.send(t, spokenPCM(t, "How much is a ticket?"), true)
	if ev := w.waitFor(t, "barge_in"); ev["by"] != "speech" {
		t.Fatalf("barge_in: %v", ev)
	}
	w.send(t, make([]int16, voice.SampleRate), true)
	if f := w.waitFor(t, "final"); !strings.Contains(f["text"].(string), "ticket") {
		t.Fatalf("after barge-in: %v", f)
	}
	if r := w.waitFor(t, "reply")["reply"].(map[string]any); r["intent"] != "ticket_prices" {
		t.Fatalf("reply after barge-in: %v", r)
	}
	// A tap stops the reply too.
	w.waitFor(t, "audio_start")
	_ = w.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"stop"}`))
	if ev := w.waitFor(t, "barge_in"); ev["by"] != "stop" {
		t.Fatalf("stop: %v", ev)
	}
	w.c.Close(websocket.StatusNormalClosure, "")
}

// lastVoiced is the index of the last sample of s louder than digital silence (espeak-ng ends
// a clip with about 300 ms of zeros), or -1.
func lastVoiced(s []int16) int {
	const floor = 8 // of 32767: below -72 dBFS, what resampling leaves of zeros
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] > floor || s[i] < -floor {
			return i
		}
	}
	return -1
}

// BenchmarkVoiceStreamLatency: from the real end of a spoken question to the first byte of the
// reply's audio, over the WebSocket. The clip and then a second of silence are sent as 20 ms
// frames on a real-time schedule (frame k at start + k x 20 ms, as a microphone delivers them);
// the clock starts when the frame holding the clip's last voiced sample is sent, so it includes
// the VAD's 400 ms of listening for silence, as a visitor waits them. Reported with the server's
// own end-of-speech decision to first audio (eos_to_audio_ms), which leaves those out, and with
// the clock the benchmark had before (clip_end_to_audio_ms: from the end of the clip, which
// ends in 301 ms of espeak-ng's digital silence).
//
//	go test ./backend/appliance -run '^$' -bench VoiceStreamLatency -benchtime 10x -count 5
func BenchmarkVoiceStreamLatency(b *testing.B) {
	a := startB(b)
	key := newKeyB(b, a)
	question := spokenPCM(b, "What time does the museum open on Sunday?")
	end := lastVoiced(question)
	if end < 0 {
		b.Fatal("the spoken question is silent")
	}
	b.Logf("speech ends %d ms before the end of the clip", (len(question)-1-end)*1000/voice.SampleRate)
	stream := append(append([]int16(nil), question...), make([]int16, voice.SampleRate)...)
	w := dialStream(b, a, key)
	w.waitFor(b, "ready")
	var client, clipEnd, server []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		type mark struct{ speechEnd, clipEnd time.Time }
		marks := make(chan mark, 1)
		go func() {
			var m mark
			t0 := time.Now()
			for k, f := 0, 0; f < len(stream); k, f = k+1, f+voice.FrameSamples {
				time.Sleep(time.Until(t0.Add(time.Duration(k) * 20 * time.Millisecond)))
				frame := stream[f:min(f+voice.FrameSamples, len(stream))]
				if err := w.c.Write(context.Background(), websocket.MessageBinary, pcmBytes(frame)); err != nil {
					break
				}
				now := time.Now()
				if f <= end && end < f+len(frame) {
					m.speechEnd = now
				}
				if f < len(question) && len(question) <= f+len(frame) {
					m.clipEnd = now
				}
			}
			marks <- m
		}()
		ev := w.waitFor(b, "audio_start")
		<-w.audio
		got := time.Now()
		m := <-marks // the silence has been sent: the stream is idle for the next question
		if m.speechEnd.IsZero() || m.clipEnd.IsZero() {
			b.Fatal("the question was not sent")
		}
		client = append(client, float64(got.Sub(m.speechEnd).Milliseconds()))
		clipEnd = append(clipEnd, float64(got.Sub(m.clipEnd).Milliseconds()))
		server = append(server, ev["eos_to_audio_ms"].(float64))
		w.waitFor(b, "audio_end")
		for len(w.audio) > 0 {
			<-w.audio
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.StopTimer()
	sort.Float64s(client)
	sort.Float64s(clipEnd)
	sort.Float64s(server)
	b.ReportMetric(client[len(client)/2], "speech_end_to_audio_ms")
	b.ReportMetric(clipEnd[len(clipEnd)/2], "clip_end_to_audio_ms")
	b.ReportMetric(server[len(server)/2], "eos_to_audio_ms")
}

func startB(b *testing.B) *Appliance {
	b.Helper()
	a, err := Start(context.Background(), Options{DataDir: b.TempDir(), ConfigDir: b.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close(context.Background()) })
	if _, err := a.Voice.Recognizer("en"); err != nil {
		testneeds.Missing(b, "no built-in recognizer: ", err)
	}
	return a
}

func newKeyB(b *testing.B, a *Appliance) string {
	b.Helper()
	key, _, err := a.Keys.Create(context.Background(), keysSpec("voice"), "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	return key
}
