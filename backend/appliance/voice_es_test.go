//go:build cgo && linux

package appliance

// Spanish by voice over the real API with the built-in engines: pocketsphinx's English
// acoustic model with Spanish pronunciations from espeak-ng (backend/voice/sphinx/spanish.go).
// Every Spanish demo phrasing and suggested question a speaker can say as written (no digits
// or symbols) is spoken by espeak-ng's Spanish voices and sent to POST /v1/voice?lang=es; the
// answer must be the one the same question gets typed. The recognizer's Spanish settings were
// chosen on the tuning voices (TestSpanishVoiceTuningSet); the test voices are others.

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/text"
	"voicebot/backend/voice"
)

func espeakSpeaker(v string, wpm int) speaker {
	return speaker{fmt.Sprintf("espeak-ng %s %d wpm", v, wpm), func(txt, out string) *exec.Cmd {
		return exec.Command("espeak-ng", "-v", v, "-s", fmt.Sprint(wpm), "-w", out, txt)
	}}
}

// spanishTuningSpeakers choose the settings; spanishTestSpeakers measure them.
var (
	spanishTuningSpeakers = []speaker{espeakSpeaker("es+f3", 170), espeakSpeaker("es-419", 150)}
	spanishTestSpeakers   = []speaker{espeakSpeaker("es", 160), espeakSpeaker("es-419+m3", 140), espeakSpeaker("es+f2", 190)}
)

// spanishQuestions are the demo's Spanish phrasings and suggested questions without digits or
// symbols, each once.
func spanishQuestions(t *testing.T) (qs []string, skipped int) { return spokenPhrasings(t, "es") }

// speakSpanish has every question spoken by every voice and sent through POST
// /v1/voice?lang=es, in a fixed order (a decoder's noise estimate carries over); it returns the
// share answered as typed and the word error rate (folded words), and logs the misses.
func speakSpanish(t *testing.T, a *Appliance, qs []string, voices []speaker) (same, wer float64) {
	t.Helper()
	testneeds.Tools(t, "the test's audio: apt-get install espeak-ng", "espeak-ng")
	if _, err := a.Voice.Recognizer("es"); err != nil {
		testneeds.Missing(t, "no Spanish recognizer in this build: ", err)
	}
	key := newKey(t, a, keysSpec("chat", "voice"))
	wavs := record(t, qs, voices)
	var total, ok, errWords, refWords int
	for qi, q := range qs {
		wantKey := typedAnswer(t, a, q, "es")
		for si, sp := range voices {
			r, got, gotKey := voiceAnswer(t, a, key, "es", wavs[qi][si])
			ref := text.Tokens(q)
			total++
			refWords += len(ref)
			errWords += voice.WordEdits(ref, text.Tokens(got.Transcript))
			if r.status == 200 && gotKey == wantKey {
				ok++
			} else {
				t.Logf("miss: %s: %q heard %q -> %s (typed %s) [%d]", sp.name, q, got.Transcript, gotKey, wantKey, r.status)
			}
		}
	}
	same, wer = pct(ok, total), pct(errWords, refWords)
	t.Logf("%d spoken Spanish questions (%d x %d voices): answered as typed %.1f%%, word error rate %.1f%%", total, len(qs), len(voices), same, wer)
	return same, wer
}

func TestVoiceTurnsOnSpokenSpanishQuestions(t *testing.T) {
	a := start(t, Options{})
	qs, skipped := spanishQuestions(t)
	t.Logf("%d Spanish phrasings and suggestions (%d with digits or symbols left out)", len(qs), skipped)
	same, _ := speakSpanish(t, a, qs, spanishTestSpeakers)
	// Measured 95.2% (2026-11-30, docs/BENCHMARKS.md); the floor leaves room for noise.
	if same < 93 {
		t.Errorf("Spanish by voice answers %.1f%% of the spoken questions as typed, want >= 93%%", same)
	}
}

// TestSpanishVoiceTuningSet is the same on the tuning voices; it asserts nothing and runs only
// when asked (VOICEBOT_VOICE_TUNING=1), for whoever changes the Spanish settings.
func TestSpanishVoiceTuningSet(t *testing.T) {
	if os.Getenv("VOICEBOT_VOICE_TUNING") == "" {
		t.Skip("set VOICEBOT_VOICE_TUNING=1 to measure Spanish recognition on its tuning voices")
	}
	a := start(t, Options{})
	qs, _ := spanishQuestions(t)
	speakSpanish(t, a, qs, spanishTuningSpeakers)
}
