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
	"strings"
	"testing"

	"voicebot/backend/conversation"
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

// TestVoiceChoiceReplay replays the readings TestVoiceReadings wrote (the file named by
// VOICEBOT_VOICE_READINGS_IN) through the engine's own choice (conversation/spoken.go), each
// recording as a new session's voice turn, and logs how each set ends: the typed question's
// answer, a repair, or a different answer, and for off-topic questions how many are turned
// away. It decodes nothing, so a change to the choice is measured on the tuning set in
// seconds; the figures in docs/BENCHMARKS.md say which came from it.
func TestVoiceChoiceReplay(t *testing.T) {
	in := os.Getenv("VOICEBOT_VOICE_READINGS_IN")
	if in == "" {
		t.Skip("set VOICEBOT_VOICE_READINGS_IN=file (written by TestVoiceReadings) to replay the voice choice")
	}
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{})
	type reading struct {
		Text   string `json:"text"`
		Answer string `json:"answer"`
	}
	type row struct {
		Set      string     `json:"set"`
		OffTopic bool       `json:"off_topic"`
		Typed    *reading   `json:"typed"`
		Expected *reading   `json:"expected"`
		Free     []*reading `json:"free"`
		Forced   float64    `json:"forced"`
	}
	type tally struct{ typed, repair, different, offTopic, away int }
	sets := map[string]*tally{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		sp := conversation.Spoken{Forced: r.Forced}
		if r.Expected != nil {
			sp.Expected = r.Expected.Text
		}
		for _, f := range r.Free {
			if f != nil {
				sp.Free = append(sp.Free, f.Text)
			}
		}
		rep, err := a.Engine.Reply(context.Background(), conversation.Request{Spoken: &sp, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		var src []string
		for _, s := range rep.Sources {
			src = append(src, s.Title)
		}
		got := answerKey(rep.Kind, rep.Intent, src)
		c := sets[r.Set]
		if c == nil {
			c = &tally{}
			sets[r.Set] = c
			order = append(order, r.Set)
		}
		switch {
		case r.OffTopic:
			c.offTopic++
			if got == "repair" || got == "fallback" || got == "handoff" {
				c.away++
			}
		case got == "repair":
			c.repair++
		case r.Typed != nil && got == r.Typed.Answer:
			c.typed++
		default:
			c.different++
		}
	}
	for _, s := range order {
		c := sets[s]
		n := c.typed + c.repair + c.different
		t.Logf("%s: %d answerable: typed %.1f%%, repair %.1f%%, different %.1f%%; off-topic turned away %d of %d",
			s, n, pct(c.typed, n), pct(c.repair, n), pct(c.different, n), c.away, c.offTopic)
	}
}
