package config

import (
	"strings"
	"testing"
)

// TestTypedSettings: the settings file decodes into typed settings: unknown keys are refused in
// a voice engine too (the hand walker ignored them, so a misspelt model: was dropped without a
// word), a mapping where a list belongs is an error, and each error has its line.
func TestTypedSettings(t *testing.T) {
	engine := "voice_engines:\n  - kind: stt\n    languages: [es]\n    url: wyoming://127.0.0.1:10300\n"
	s, err := Load(write(t, engine+"    model: small\nvoice_builtin: false\nkiosk: true\n"))
	if err != nil || len(s.VoiceEngines) != 1 || s.VoiceEngines[0].Model != "small" || s.VoiceEngines[0].Langs[0] != "es" || !s.NoBuiltinVoice || !s.Kiosk {
		t.Fatalf("%+v %v", s, err)
	}
	bad := map[string]string{
		engine + "    modle: small\n": `:5: unknown key "modle" in voice engine (expected one of: kind, languages, url, model, voice, api_key)`,
		"voice_engines:\n  - kind: stt\n    url: http://x/v1\n    languages: {es: yes}\n": ":4: voice_engines[0].languages must be a list of texts",
		"voice_engines: {kind: stt}\n":                   ":1: voice_engines is a list of {kind, languages, url}",
		"cors_origins: {a: http://kiosk.local}\n":        ":1: cors_origins must be a list of origins such as http://kiosk.local:8080",
		"kiosk: sometimes\n":                             ":1: kiosk must be true or false",
		"intent_threshold: 2\n":                          ":1: intent_threshold must be a number from 0 to 1",
		"log_level: debug\nretention: 1h\nlisten: [a]\n": ":3: listen must be a single value",
		"rate_limit: 1/s\nrate_limit: 2/s\n":             `:2: "rate_limit" is defined twice (first at line 1)`,
		"retention: forever\nrate_limit: 60/m\nlog: x\n": ":1: retention must be a duration", // the first error by line
		engine + "  - kind: tts\n    url: http://x/v1\n": ":5: voice engine: list its languages",
	}
	for body, want := range bad {
		if _, err := Load(write(t, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
