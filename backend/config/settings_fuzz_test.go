package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzLoadSettings: any settings file (the operator's editor, a bad copy-paste, a half-written
// save) loads or is refused with an *Error naming the file (and its line when it has one),
// never a panic; what loads is valid (each rate parses, origins have a scheme, thresholds are
// 0 to 1); and the dashboard's Save of what was loaded, read again, changes none of the
// settings (Save -> Load is a round trip).
func FuzzLoadSettings(f *testing.F) {
	for _, s := range []string{
		"rate_limit: 120/m\ncors_origins: [http://kiosk.local:8080]\nretention: 720h\nlog_level: debug\nlisten: 0.0.0.0:8750\nintent_threshold: 0.3\n",
		"# comment\nrate_limit_chat: 10/s\nrate_limit_voice: 60/m\nrate_limit_admin: 5/m\nrate_limit_unauthenticated: 100/h\nknowledge_match: 0.5\n",
		"kiosk: true\nkiosk_exit_keys: Ctrl+Alt+Shift+Q\nkiosk_pin_hash: $2a$10$abc\nvoice_builtin: false\n",
		"voice_engines:\n  - kind: stt\n    languages: [es]\n    url: wyoming://127.0.0.1:10300\n  - {kind: tts, languages: [en], url: http://x/v1, model: m, voice: v, api_key: k}\n",
		"rate_limit: [1, 2]\n", "unknown: 1\n", "rate_limit: 0/m\n", "retention: -1h\n", "- a\n- b\n", "a: b: c\n",
		"intent_threshold: 1.5\n", "cors_origins: http://x\n", "rate_limit: 60/m\nrate_limit: 61/m\n", "content: ~\n", "\xff\xfe",
		"listen: &a x\ndata_dir: *a\n", "retention: 1e400h\n",
		"wyoming: 127.0.0.1:10700\n", "wyoming: \":10700\"\nwyoming_allow_lan: true\n", "wyoming: 0.0.0.0:10700\n", "wyoming: [a]\nwyoming_allow_lan: 1\n",
	} {
		f.Add(s)
	}
	dir := fastDir(f)
	f.Fuzz(func(t *testing.T, body string) {
		path := filepath.Join(dir, "voicebot.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Load(path)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != path || e.Line < 0 || e.Msg == "" {
				t.Fatalf("an error that does not name the file: %#v", err)
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q does not start with the file", err)
			}
			return
		}
		for _, r := range []string{s.RateLimit, s.RateLimitChat, s.RateLimitVoice, s.RateLimitAdmin, s.RateLimitUnauthenticated} {
			if _, _, err := ParseRate(r); r != "" && err != nil {
				t.Fatalf("loaded a rate that does not parse: %q", r)
			}
		}
		for _, o := range s.CORSOrigins {
			if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				t.Fatalf("loaded origin %q", o)
			}
		}
		if s.IntentThreshold < 0 || s.IntentThreshold > 1 || s.KnowledgeMatch < 0 || s.KnowledgeMatch > 1 || s.Retention < 0 {
			t.Fatalf("loaded out of range: %+v", s)
		}
		if err := Save(path, s); err != nil {
			return // a file Save cannot edit (say, a document of aliases) is refused, not mangled
		}
		again, err := Load(path)
		if err != nil {
			b, _ := os.ReadFile(path)
			t.Fatalf("Save of a loaded file wrote one that does not load: %v\n%s", err, b)
		}
		if ch := Changed(s, again); len(ch) > 0 {
			b, _ := os.ReadFile(path)
			t.Fatalf("Save -> Load changed %v\n%s", ch, b)
		}
	})
}

// fastDir is a folder for the files a fuzz target writes on every run: in /dev/shm (a tmpfs)
// when there is one, since Save syncs the file and its folder, and a sync on a busy disk takes
// seconds; else the test's own temporary folder.
func fastDir(f *testing.F) string {
	if d, err := os.MkdirTemp("/dev/shm", "voicebot-fuzz-"); err == nil {
		f.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return f.TempDir()
}

// FuzzParseRate: a rate is accepted only as N/PERIOD with N from 1 to 9,999,999, and then it
// says N requests per period; written back as N/PERIOD it parses to the same.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"60/m", "5/s", "1000/h", " 7/min ", "0/m", "1/d", "9999999/hour", "10000000/s", "-1/s", "1/", "/m", "１/m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		perSec, burst, err := ParseRate(s)
		if err != nil {
			return
		}
		if burst < 1 || burst > 9999999 || perSec <= 0 || perSec > float64(burst) {
			t.Fatalf("%q: %v/s, burst %d", s, perSec, burst)
		}
		n, period, _ := strings.Cut(strings.TrimSpace(s), "/")
		if strconv.Itoa(burst) != n {
			t.Fatalf("%q: burst %d", s, burst)
		}
		p2, b2, err := ParseRate(strconv.Itoa(burst) + "/" + period)
		if err != nil || p2 != perSec || b2 != burst {
			t.Fatalf("%q written back does not parse the same: %v %v %v", s, p2, b2, err)
		}
	})
}

// FuzzParseKeys: a kiosk exit combination is accepted only with at least two modifiers and one
// key (a letter, a digit or F1-F12); written back in the canonical form it parses the same.
func FuzzParseKeys(f *testing.F) {
	for _, s := range []string{"Ctrl+Alt+Shift+Q", "ctrl + alt + 1", "Meta+Super+F12", "Ctrl+Q", "Ctrl+Alt", "Ctrl+Alt+QQ", "+", "Ctrl+Alt+Shift+Q+W", "Win+Control+f1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeys(s)
		if err != nil {
			return
		}
		mods := 0
		var parts []string
		for _, m := range []struct {
			on   bool
			name string
		}{{k.Ctrl, "Ctrl"}, {k.Alt, "Alt"}, {k.Shift, "Shift"}, {k.Meta, "Meta"}} {
			if m.on {
				mods++
				parts = append(parts, m.name)
			}
		}
		if mods < 2 || k.Code == "" {
			t.Fatalf("%q accepted as %+v", s, k)
		}
		key := strings.TrimPrefix(strings.TrimPrefix(k.Code, "Key"), "Digit")
		k2, err := ParseKeys(strings.Join(append(parts, key), "+"))
		if err != nil || k2 != k {
			t.Fatalf("%q -> %+v, written back -> %+v %v", s, k, k2, err)
		}
	})
}
