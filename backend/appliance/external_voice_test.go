package appliance

// External speech engines from the settings file: Spanish speech to text and text to speech
// through a Wyoming server (wyomingtest's protocol peer: the Python services cannot run here).
// A voice turn in Spanish goes out to it and back, and /v1/voice/engines lists it.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/voice"
	"voicebot/backend/voice/wyoming/wyomingtest"
)

func TestExternalWyomingEngine(t *testing.T) {
	srv, err := wyomingtest.Start(func(int, string) string { return "¿cuánto cuesta la entrada?" })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	os.WriteFile(settings, []byte("voice_engines:\n  - kind: stt\n    languages: [es]\n    url: wyoming://"+srv.Addr+"\n  - kind: tts\n    languages: [es]\n    url: wyoming://"+srv.Addr+"\n"), 0o600)
	a := start(t, Options{ConfigFile: settings})
	key := newKey(t, a, keysSpec("voice"))
	wav := voice.EncodeWAV(voice.Audio{Rate: 16000, Samples: make([]int16, 16000)})
	r := do(t, a, "POST", "/v1/voice?lang=es", key, string(wav), "Content-Type", "audio/wav")
	var got VoiceResult
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.Transcript != "¿cuánto cuesta la entrada?" || got.Reply.Intent != "ticket_prices" {
		t.Fatalf("Spanish voice turn: %d %s", r.status, r.body)
	}
	audio := do(t, a, "GET", got.AudioURL, key, "")
	if spoken, err := voice.DecodeWAV(audio.body); err != nil || spoken.Duration().Seconds() < 1 {
		t.Fatalf("spoken reply: %v", err)
	}
	if n := srv.Requests.Load(); n != 2 {
		t.Errorf("the Wyoming server got %d requests, want 2 (transcribe, synthesize)", n)
	}
	eng := do(t, a, "GET", "/v1/voice/engines", key, "")
	if !strings.Contains(string(eng.body), "wyoming "+srv.Addr) {
		t.Errorf("engines: %s", eng.body)
	}
	// A bad engine entry is refused with its line.
	os.WriteFile(settings, []byte("voice_engines:\n  - kind: stt\n    languages: [es]\n    url: ftp://x\n"), 0o600)
	if _, err := Start(t.Context(), Options{ConfigFile: settings, DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("bad engine url: %v", err)
	}
}

// VoiceResult is the body of /v1/voice as a client reads it.
type VoiceResult struct {
	SessionID  string `json:"session_id"`
	Transcript string `json:"transcript"`
	AudioURL   string `json:"audio_url"`
	Reply      struct {
		Text    string `json:"text"`
		Kind    string `json:"kind"`
		Intent  string `json:"intent"`
		Sources []struct {
			Title string `json:"title"`
		} `json:"sources"`
	} `json:"reply"`
}
