package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "voicebot.yaml")
	os.WriteFile(p, []byte(body), 0o600)
	return p
}

func TestLoad(t *testing.T) {
	s, err := Load(write(t, "rate_limit: 120/m\ncors_origins: [http://kiosk.local:8080]\nretention: 720h\nlog_level: debug\nlisten: 0.0.0.0:8750\nintent_threshold: 0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.RateLimit != "120/m" || s.CORSOrigins[0] != "http://kiosk.local:8080" || s.Retention != 720*time.Hour || s.LogLevel != "debug" || s.Listen != "0.0.0.0:8750" || s.IntentThreshold != 0.3 {
		t.Errorf("%+v", s)
	}
	if s, err := Load(write(t, "")); err != nil || s.RateLimit != "" {
		t.Errorf("empty file: %+v %v", s, err)
	}
	bad := map[string]string{
		"rate_limit: 60/m\nrate_limt: 5/s\n":  ":2: unknown setting \"rate_limt\"",
		"rate_limit: fast\n":                  ":1: rate \"fast\"",
		"retention: forever\n":                ":1: retention must be a duration",
		"log_level: loud\n":                   ":1: log_level must be",
		"cors_origins: [kiosk.local]\n":       ":1: origin \"kiosk.local\"",
		"rate_limit: [1, 2]\n":                ":1: rate_limit must be a single value",
		"rate_limit: 60/m\n  bad indent: x\n": ":2: YAML",
		"- a list\n":                          ":1: expected a mapping",
	}
	for body, want := range bad {
		_, err := Load(write(t, body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestChanged(t *testing.T) {
	a := Settings{RateLimit: "1/s", CORSOrigins: []string{"http://a"}}
	b := Settings{RateLimit: "2/s", CORSOrigins: []string{"http://a"}, Listen: "x"}
	if got := Changed(a, b); strings.Join(got, ",") != "listen,rate_limit" {
		t.Errorf("%v", got)
	}
}

func TestKioskSettings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code string
		err  string
	}{
		{"Ctrl+Alt+Shift+Q", "KeyQ", ""},
		{"ctrl+alt+F12", "F12", ""},
		{"Control + Shift + 9", "Digit9", ""},
		{"Ctrl+Q", "", "at least two modifiers"},
		{"Ctrl+Alt+Hyper+Q", "", "not a modifier"},
		{"Ctrl+Alt+Enter", "", "letter, a digit or F1-F12"},
		{"Ctrl+Alt", "", "no key"},
	} {
		k, err := ParseKeys(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseKeys(%q) = %v, want error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || k.Code != tc.code {
			t.Errorf("ParseKeys(%q) = %+v, %v", tc.in, k, err)
		}
	}
	path := filepath.Join(t.TempDir(), "settings.yaml")
	os.WriteFile(path, []byte("# kiosk box\nkiosk: true\nkiosk_exit_keys: Ctrl+Alt+K\n"), 0o600)
	if err := SetValue(path, "kiosk_pin_hash", "$2a$10$abcdefghijklmnopqrstuv"); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil || !s.Kiosk || s.KioskExitKeys != "Ctrl+Alt+K" || !strings.HasPrefix(s.KioskPINHash, "$2a$") {
		t.Fatalf("kiosk settings: %+v %v", s, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "# kiosk box") {
		t.Errorf("SetValue dropped the comment:\n%s", b)
	}
	os.WriteFile(path, []byte("kiosk_pin_hash: 1234\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), ":1:") || !strings.Contains(err.Error(), "kiosk-pin") {
		t.Errorf("a plain PIN in the file: %v", err)
	}
}

// TestCheckOrigin: an origin is what a browser's Origin header carries (scheme, host, port), in
// printable ASCII; anything else is refused, so that what the dashboard accepts the settings file
// writes back and loads unchanged (FuzzChangeSettings found "http://\x92" taken, written as
// !!binary, and the file then refused).
func TestCheckOrigin(t *testing.T) {
	for _, o := range []string{"http://kiosk.local", "https://kiosk.local:8443", "http://192.168.1.20:8750", "http://[::1]:8080", "https://xn--bcher-kva.example"} {
		if err := CheckOrigin(o); err != nil {
			t.Errorf("%q refused: %v", o, err)
		}
	}
	for _, o := range []string{"", "kiosk.local", "http://", "http://\x92", "https://bücher.example", "http://kiosk.local/", "http://kiosk.local/path",
		"http://kiosk.local?x", "http://kiosk.local#f", "http://user@kiosk.local", "ftp://kiosk.local", "HTTP://kiosk.local", "http://kiosk local",
		"http://kiosk.local:port", "http://:8080", "*", "null"} {
		if err := CheckOrigin(o); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
}

// TestWyomingSetting: the Wyoming server's address must be host:port, and loopback unless
// wyoming_allow_lan is true (the protocol has no authentication); both need a restart.
func TestWyomingSetting(t *testing.T) {
	for _, ok := range []string{"wyoming: 127.0.0.1:10700\n", "wyoming: \"[::1]:10700\"\n", "wyoming: localhost:10700\n",
		"wyoming: 0.0.0.0:10700\nwyoming_allow_lan: true\n", "wyoming_allow_lan: true\nwyoming: \":10700\"\n", "wyoming_allow_lan: true\nwyoming: 198.18.0.1:10700\n"} {
		s, err := Load(write(t, ok))
		if err != nil || s.Wyoming == "" {
			t.Errorf("%q: %+v %v", ok, s, err)
		}
	}
	for body, want := range map[string]string{
		"wyoming: 0.0.0.0:10700\n":                           ":1: wyoming: 0.0.0.0:10700 is not a loopback address",
		"log_level: info\nwyoming: \":10700\"\n":             ":2: wyoming: :10700 is not a loopback address",
		"wyoming: 198.18.0.1:10700\nwyoming_allow_lan: no\n": "set wyoming_allow_lan: true",
		"wyoming: 10700\n":                                   "wyoming must be an address host:port",
		"wyoming: 127.0.0.1:http\n":                          "is not a port number",
		"wyoming_allow_lan: maybe\n":                         ":1:",
	} {
		if _, err := Load(write(t, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	if c := Changed(Settings{}, Settings{Wyoming: "127.0.0.1:10700", WyomingAllowLAN: true}); len(c) != 2 || c[0] != "wyoming" || c[1] != "wyoming_allow_lan" {
		t.Errorf("Changed: %v", c)
	}
}
