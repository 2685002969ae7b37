//go:build cgo && linux

package appliance

// The readings behind the voice choice, for whoever tunes it: every tuning recording's expected
// sentence, free readings and Forced, with what the engine answers to each reading and to the
// question typed. The choice's settings (conversation/spoken.go) were picked by replaying these
// files; docs/BENCHMARKS.md says which figures came from them.

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/voice"
)

// TestVoiceReadings writes the tuning sets' readings as JSON lines to the file named by
// VOICEBOT_VOICE_READINGS: the visitor tuning set (tuningVisitorSpeakers), then the demo's
// phrasings and knowledge questions spoken by its two extra espeak-ng voices.
func TestVoiceReadings(t *testing.T) {
	out := os.Getenv("VOICEBOT_VOICE_READINGS")
	if out == "" {
		t.Skip("set VOICEBOT_VOICE_READINGS=file to write the tuning sets' readings")
	}
	needSpeechTools(t)
	a := start(t, Options{})
	rec, err := a.Voice.Recognizer("en")
	if err != nil {
		testneeds.Missing(t, "no built-in recognizer in this build: ", err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	answer := func(text string) map[string]any {
		if text == "" {
			return nil
		}
		r, err := a.Engine.Try(text, "en")
		if err != nil {
			t.Fatal(err)
		}
		var src []string
		for _, s := range r.Sources {
			src = append(src, s.Title)
		}
		return map[string]any{"text": text, "answer": answerKey(r.Kind, r.Intent, src), "confidence": r.Confidence}
	}
	in, kn, _ := demoQuestions(t)
	sets := []struct {
		name      string
		questions []string
		offTopic  int // the last offTopic questions are off-topic
		voices    []speaker
	}{
		{"visitors", append(append([]string(nil), tuningVisitorQuestions...), tuningOffTopic...), len(tuningOffTopic), tuningVisitorSpeakers},
		{"phrasings", append(append(append([]string(nil), in...), kn...), tuningKnowledge...), 0, tuningVisitorSpeakers[len(tuningSpeakers):]},
	}
	for _, set := range sets {
		wavs := record(t, set.questions, set.voices)
		for qi, q := range set.questions {
			for si, sp := range set.voices {
				b, err := os.ReadFile(wavs[qi][si])
				if err != nil {
					t.Fatal(err)
				}
				au, err := voice.DecodeWAV(b)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := rec.Transcribe(context.Background(), au, "en")
				if err != nil {
					t.Fatal(err)
				}
				free := []map[string]any{answer(tr.Free)}
				for _, alt := range tr.Alternatives {
					free = append(free, answer(alt))
				}
				_ = enc.Encode(map[string]any{
					"set": set.name, "question": q, "voice": sp.name, "off_topic": qi >= len(set.questions)-set.offTopic,
					"typed": answer(q), "expected": answer(tr.Text), "free": free, "forced": tr.Forced,
				})
			}
		}
	}
}
