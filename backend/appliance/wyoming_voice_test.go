//go:build cgo && linux

package appliance

// The Wyoming server's speech services with the built-in engines on real audio: a question
// spoken by espeak-ng is transcribed over Wyoming (by the protocol package's own client, the one
// VoiceBot uses for external Wyoming engines), its transcript handled, and the answer
// synthesised back as audio-start, audio-chunk and audio-stop events carrying 16-bit PCM that
// the recogniser hears again (sent at the synthesiser's rate, which the server resamples).

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/keys"
	"voicebot/backend/voice"
	"voicebot/backend/voice/wyoming"
)

// TestWyomingSpeech: describe lists the asr and tts programs with the engines' models and the
// content's languages; asr turns a spoken question into its words; handle answers them as
// /v1/chat does; tts speaks the answer as valid PCM events.
func TestWyomingSpeech(t *testing.T) {
	testneeds.Tools(t, "the test's audio: apt-get install espeak-ng", "espeak-ng")
	a := startVoice(t, Options{Wyoming: "127.0.0.1:0"})
	addr := a.WyomingAddr()

	info := describe(t, addr)
	if len(info.Asr) != 1 || !info.Asr[0].Installed || len(info.Asr[0].Models) == 0 || !slices.Contains(info.Asr[0].Models[0].Languages, "en") || info.Asr[0].Attribution.Name == "" {
		t.Fatalf("info's asr programs: %+v", info.Asr)
	}
	if len(info.Tts) != 1 || !info.Tts[0].Installed || len(info.Tts[0].Voices) == 0 || !slices.Contains(info.Tts[0].Voices[0].Languages, "en") {
		t.Fatalf("info's tts programs: %+v", info.Tts)
	}

	// asr: espeak-ng's question, at 16 kHz as Home Assistant sends it.
	const question = "what are the opening hours"
	wav := filepath.Join(t.TempDir(), "q.wav")
	if out, err := exec.Command("espeak-ng", "-v", "en-us", "-s", "160", "-w", wav, question).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v %s", err, out)
	}
	b, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	audio, err := voice.DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	client := &wyoming.Client{Addr: addr, Langs: []string{"en"}, Timeout: 60 * time.Second}
	tr, err := client.Transcribe(context.Background(), audio, "en")
	if err != nil {
		t.Fatalf("transcribe over Wyoming: %v", err)
	}
	if !strings.Contains(tr.Text, "opening") || !strings.Contains(tr.Text, "hours") {
		t.Fatalf("espeak-ng's %q heard as %q", question, tr.Text)
	}

	// handle: the transcript, answered as /v1/chat answers it.
	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	r := do(t, a, "POST", "/v1/chat", chat, `{"text":"`+tr.Text+`"}`)
	var want struct {
		Reply struct{ Text string } `json:"reply"`
	}
	if err := json.Unmarshal(r.body, &want); err != nil || want.Reply.Text == "" {
		t.Fatalf("/v1/chat: %d %s", r.status, r.body)
	}
	w := dialWyoming(t, addr)
	w.send(t, wyoming.Event{Type: "transcript", Data: map[string]any{"text": tr.Text, "language": "en"}})
	if e := w.read(t); e.Type != "handled" || e.Data["text"] != want.Reply.Text {
		t.Fatalf("the transcript handled as %s %v, want %q", e.Type, e.Data, want.Reply.Text)
	}

	// tts: the question spoken by the appliance, event by event.
	w.send(t, wyoming.Event{Type: "synthesize", Data: map[string]any{"text": question, "voice": map[string]any{"language": "en"}}})
	start := w.read(t)
	rate, _ := start.Data["rate"].(float64)
	if start.Type != "audio-start" || rate < 8000 || rate > 48000 || start.Data["width"] != 2.0 || start.Data["channels"] != 1.0 {
		t.Fatalf("synthesize began with %s %v, want audio-start of 16-bit mono", start.Type, start.Data)
	}
	var spoken voice.Audio
	spoken.Rate = int(rate)
	chunks := 0
	for {
		e := w.read(t)
		if e.Type == "audio-stop" {
			break
		}
		if e.Type != "audio-chunk" || e.Data["rate"] != rate || len(e.Payload) == 0 || len(e.Payload)%2 != 0 {
			t.Fatalf("event %d of the speech: %s %v (%d bytes)", chunks+1, e.Type, e.Data, len(e.Payload))
		}
		for i := 0; i < len(e.Payload); i += 2 {
			spoken.Samples = append(spoken.Samples, int16(binary.LittleEndian.Uint16(e.Payload[i:])))
		}
		chunks++
	}
	var sum float64
	for _, s := range spoken.Samples {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(max(1, len(spoken.Samples))))
	if d := spoken.Duration(); d < 500*time.Millisecond || d > 10*time.Second || rms < 300 {
		t.Fatalf("the speech: %s in %d chunks, RMS %.0f: not speech", d, chunks, rms)
	}
	// Heard again by the recogniser, over Wyoming, at the synthesiser's rate (the server
	// resamples to the recogniser's 16 kHz).
	back, err := client.Transcribe(context.Background(), spoken, "en")
	if err != nil || !strings.Contains(back.Text, "opening") {
		t.Fatalf("the appliance's own speech heard as %q (%v)", back.Text, err)
	}
	t.Logf("asr: %q; tts: %s of speech in %d chunks at %.0f Hz, heard back as %q", tr.Text, spoken.Duration(), chunks, rate, back.Text)

	admin := newKey(t, a, keys.Spec{Scopes: []string{"admin"}})
	m := string(do(t, a, "GET", "/metrics", admin, "").body)
	for _, s := range []string{`voicebot_wyoming_request_duration_seconds_count{outcome="ok",service="asr"} 2`,
		`voicebot_wyoming_request_duration_seconds_count{outcome="ok",service="tts"} 1`} {
		if !strings.Contains(m, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
}
