// Package config reads the appliance's settings file (YAML) and follows it: settings that are
// safe to change live (rate limit, CORS origins, retention, log level, content folder) apply within
// a second of a save; a change that needs a restart (listen address, data folder) is reported
// as such; an invalid file keeps the running settings and reports the error with file and line.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.yaml.in/yaml/v3"
)

// Settings are the file's values; empty means "not set in the file".
type Settings struct {
	Listen    string // restart
	DataDir   string // restart
	Content   string // live: the content folder ("" = the built-in demo)
	RateLimit string // live
	// RateLimitChat, RateLimitVoice and RateLimitAdmin are the rates per key of the routes of
	// the chat, voice and admin scopes (live; a key's own rate wins; empty: the defaults below,
	// and rate_limit for chat); RateLimitUnauthenticated limits, per remote address, the
	// requests that fail authentication, checked before authentication (live).
	RateLimitChat, RateLimitVoice, RateLimitAdmin, RateLimitUnauthenticated string
	CORSOrigins                                                             []string      // live
	Retention                                                               time.Duration // live
	LogLevel                                                                string        // live: debug, info, warn, error
	// IntentThreshold and KnowledgeMatch override the content's answer thresholds (live; 0
	// keeps the content's: the calibrated intent threshold, bot.yaml's knowledge_match).
	IntentThreshold float64
	KnowledgeMatch  float64
	// Kiosk mode of the desktop window (restart): full screen, no window chrome, no way out
	// for a visitor; the operator leaves with KioskExitKeys and the PIN whose hash is
	// KioskPINHash (bcrypt, written by `voicebot kiosk-pin`).
	Kiosk         bool
	KioskExitKeys string
	KioskPINHash  string
	// VoiceEngines are external speech engines, per language and kind (restart); they win over
	// the built-in ones for their languages.
	VoiceEngines []VoiceEngine
	// NoBuiltinVoice turns the built-in speech engines off (voice_builtin: false; restart):
	// only the external ones serve, or none, and the visitor screen falls back to the
	// browser's own speech where it has one.
	NoBuiltinVoice bool
}

// VoiceEngine is one external speech engine: wyoming://host:port (Home Assistant's Wyoming
// protocol: wyoming-faster-whisper, wyoming-piper) or http(s)://host/v1 (OpenAI-compatible audio
// endpoints: whisper.cpp server, LocalAI, speaches).
type VoiceEngine struct {
	Kind   string   `yaml:"kind"` // stt or tts
	Langs  []string `yaml:"languages"`
	URL    string   `yaml:"url"`
	Model  string   `yaml:"model"`
	Voice  string   `yaml:"voice"`
	APIKey string   `yaml:"api_key"`
}

// Defaults of the route and address limits when the file sets none (rate_limit_chat defaults
// to rate_limit). A voice turn costs a decoder's CPU time and an admin route guards keys and
// content, so both get less than chat's 6000/m; the address limit only counts failures.
const (
	DefaultRateVoice           = "600/m"
	DefaultRateAdmin           = "600/m"
	DefaultRateUnauthenticated = "600/m"
)

// DefaultKioskExitKeys is the key combination that asks for the kiosk PIN.
const DefaultKioskExitKeys = "Ctrl+Alt+Shift+Q"

// RestartKeys are the settings that apply only at start. The content folder is live: the
// appliance switches to the new folder and watches it.
var RestartKeys = []string{"listen", "data_dir", "kiosk", "kiosk_exit_keys", "kiosk_pin_hash", "voice_engines", "voice_builtin"}

var allowed = []string{"listen", "data_dir", "content", "rate_limit", "rate_limit_chat", "rate_limit_voice", "rate_limit_admin", "rate_limit_unauthenticated", "cors_origins", "retention", "log_level", "intent_threshold", "knowledge_match",
	"kiosk", "kiosk_exit_keys", "kiosk_pin_hash", "voice_engines", "voice_builtin"}

// Error is a problem in the settings file, with its line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// Load reads and validates the settings file.
func Load(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, &Error{File: path, Msg: err.Error()}
	}
	if len(b) > 1<<20 {
		return s, &Error{File: path, Msg: "the settings file is larger than 1 MiB"}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			fmt.Sscan(m[1], &line)
			msg = m[2]
		}
		return s, &Error{File: path, Line: line, Msg: "YAML: " + msg}
	}
	if len(doc.Content) == 0 || len(bytes.TrimSpace(b)) == 0 {
		return s, nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return s, &Error{File: path, Line: root.Line, Msg: "expected a mapping of settings, e.g. rate_limit: 600/m"}
	}
	fail := func(n *yaml.Node, format string, args ...any) error {
		return &Error{File: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return s, fail(k, "unknown setting %q (known: %s)", k.Value, strings.Join(allowed, ", "))
		}
		if k.Value == "cors_origins" {
			if err := v.Decode(&s.CORSOrigins); err != nil {
				return s, fail(v, "cors_origins must be a list of origins such as http://kiosk.local:8080")
			}
			for _, o := range s.CORSOrigins {
				if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.HasSuffix(o, "/") {
					return s, fail(v, "origin %q: write scheme://host[:port] with no path", o)
				}
			}
			continue
		}
		if k.Value == "voice_engines" {
			if v.Kind != yaml.SequenceNode {
				return s, fail(v, "voice_engines is a list of {kind, languages, url}")
			}
			for _, n := range v.Content {
				var e VoiceEngine
				if err := n.Decode(&e); err != nil {
					return s, fail(n, "voice engine: %v", strings.TrimPrefix(err.Error(), "yaml: "))
				}
				if e.Kind != "stt" && e.Kind != "tts" {
					return s, fail(n, "voice engine kind must be stt (speech to text) or tts (text to speech)")
				}
				if len(e.Langs) == 0 {
					return s, fail(n, "voice engine: list its languages, e.g. languages: [es]")
				}
				if !strings.HasPrefix(e.URL, "wyoming://") && !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
					return s, fail(n, "voice engine url must be wyoming://host:port or http(s)://host/v1")
				}
				s.VoiceEngines = append(s.VoiceEngines, e)
			}
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return s, fail(v, "%s must be a single value", k.Value)
		}
		val := strings.TrimSpace(v.Value)
		switch k.Value {
		case "listen":
			s.Listen = val
		case "data_dir":
			s.DataDir = val
		case "content":
			s.Content = val
		case "rate_limit":
			if _, _, err := ParseRate(val); err != nil {
				return s, fail(v, "%v", err)
			}
			s.RateLimit = val
		case "rate_limit_chat", "rate_limit_voice", "rate_limit_admin", "rate_limit_unauthenticated":
			if _, _, err := ParseRate(val); err != nil {
				return s, fail(v, "%s: %v", k.Value, err)
			}
			*map[string]*string{"rate_limit_chat": &s.RateLimitChat, "rate_limit_voice": &s.RateLimitVoice,
				"rate_limit_admin": &s.RateLimitAdmin, "rate_limit_unauthenticated": &s.RateLimitUnauthenticated}[k.Value] = val
		case "retention":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return s, fail(v, "retention must be a duration such as 720h (0 keeps conversations)")
			}
			s.Retention = d
		case "log_level":
			if !slices.Contains([]string{"debug", "info", "warn", "error"}, val) {
				return s, fail(v, "log_level must be debug, info, warn or error")
			}
			s.LogLevel = val
		case "voice_builtin":
			var on bool
			if err := v.Decode(&on); err != nil {
				return s, fail(v, "voice_builtin must be true or false")
			}
			s.NoBuiltinVoice = !on
		case "kiosk":
			if err := v.Decode(&s.Kiosk); err != nil {
				return s, fail(v, "kiosk must be true or false")
			}
		case "kiosk_exit_keys":
			if _, err := ParseKeys(val); err != nil {
				return s, fail(v, "%v", err)
			}
			s.KioskExitKeys = val
		case "kiosk_pin_hash":
			if !strings.HasPrefix(val, "$2") {
				return s, fail(v, "kiosk_pin_hash must be a bcrypt hash: set it with voicebot kiosk-pin, never the PIN itself")
			}
			s.KioskPINHash = val
		case "intent_threshold", "knowledge_match":
			var f float64
			if err := v.Decode(&f); err != nil || f < 0 || f > 1 {
				return s, fail(v, "%s must be a number from 0 to 1 (0 keeps the content's own)", k.Value)
			}
			if k.Value == "intent_threshold" {
				s.IntentThreshold = f
			} else {
				s.KnowledgeMatch = f
			}
		}
	}
	return s, nil
}

// Changed lists the settings that differ between two versions.
func Changed(a, b Settings) []string {
	var out []string
	add := func(name string, diff bool) {
		if diff {
			out = append(out, name)
		}
	}
	add("listen", a.Listen != b.Listen)
	add("data_dir", a.DataDir != b.DataDir)
	add("content", a.Content != b.Content)
	add("rate_limit", a.RateLimit != b.RateLimit)
	add("rate_limit_chat", a.RateLimitChat != b.RateLimitChat)
	add("rate_limit_voice", a.RateLimitVoice != b.RateLimitVoice)
	add("rate_limit_admin", a.RateLimitAdmin != b.RateLimitAdmin)
	add("rate_limit_unauthenticated", a.RateLimitUnauthenticated != b.RateLimitUnauthenticated)
	add("cors_origins", !slices.Equal(a.CORSOrigins, b.CORSOrigins))
	add("retention", a.Retention != b.Retention)
	add("log_level", a.LogLevel != b.LogLevel)
	add("intent_threshold", a.IntentThreshold != b.IntentThreshold)
	add("knowledge_match", a.KnowledgeMatch != b.KnowledgeMatch)
	add("kiosk", a.Kiosk != b.Kiosk)
	add("kiosk_exit_keys", a.KioskExitKeys != b.KioskExitKeys)
	add("kiosk_pin_hash", a.KioskPINHash != b.KioskPINHash)
	add("voice_engines", fmt.Sprint(a.VoiceEngines) != fmt.Sprint(b.VoiceEngines))
	add("voice_builtin", a.NoBuiltinVoice != b.NoBuiltinVoice)
	return out
}

// Watch calls onChange with the newly loaded settings (or the error) after each save of the
// file, debounced; it watches the file's folder so that editors that save by rename work.
func Watch(ctx context.Context, path string, onChange func(Settings, error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return err
	}
	go func() {
		defer w.Close()
		var timer *time.Timer
		fire := make(chan struct{}, 1)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Base(ev.Name) != name || ev.Op == fsnotify.Chmod {
					continue
				}
				if timer != nil {
					timer.Stop()
				}
				timer = time.AfterFunc(100*time.Millisecond, func() {
					select {
					case fire <- struct{}{}:
					default:
					}
				})
			case <-fire:
				s, err := Load(path)
				onChange(s, err)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				if errors.Is(err, fsnotify.ErrEventOverflow) {
					s, err := Load(path)
					onChange(s, err)
				}
			}
		}
	}()
	return nil
}

// Save sets the live settings in the file, keeping its other keys and comments, and replaces the
// file atomically (the watcher then applies it). Empty values remove the key.
func Save(path string, s Settings) error {
	return edit(path, func(set func(string, *yaml.Node)) {
		scalar := func(v string) *yaml.Node {
			if v == "" {
				return nil
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Value: v}
		}
		set("rate_limit", scalar(s.RateLimit))
		ret := ""
		if s.Retention > 0 {
			ret = s.Retention.String()
		}
		set("retention", scalar(ret))
		set("log_level", scalar(s.LogLevel))
		num := func(f float64) string {
			if f <= 0 {
				return ""
			}
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		set("intent_threshold", scalar(num(s.IntentThreshold)))
		set("knowledge_match", scalar(num(s.KnowledgeMatch)))
		if len(s.CORSOrigins) == 0 {
			set("cors_origins", nil)
		} else {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, o := range s.CORSOrigins {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: o})
			}
			set("cors_origins", seq)
		}
	})
}

// SetValue sets one setting in the file (e.g. kiosk_pin_hash), keeping the rest and its
// comments; the file is created when missing.
func SetValue(path, key, value string) error {
	if !slices.Contains(allowed, key) {
		return fmt.Errorf("unknown setting %q", key)
	}
	return edit(path, func(set func(string, *yaml.Node)) {
		set(key, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
	})
}

var editMu sync.Mutex

// edit reads the file's YAML (keeping comments), lets change set keys, and replaces the file
// atomically.
func edit(path string, change func(set func(key string, value *yaml.Node))) error {
	editMu.Lock() // read, change and replace as one, so two edits in this process both land
	defer editMu.Unlock()
	var doc yaml.Node
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return &Error{File: path, Msg: "cannot update: " + err.Error()}
		}
	}
	if len(doc.Content) == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &Error{File: path, Line: root.Line, Msg: "cannot update: not a mapping of settings"}
	}
	change(func(key string, value *yaml.Node) {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == key {
				if value == nil {
					root.Content = append(root.Content[:i], root.Content[i+2:]...)
				} else {
					root.Content[i+1] = value
				}
				return
			}
		}
		if value != nil {
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, value)
		}
	})
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, out)
}

// writeFileAtomic replaces path with data: written to a new temporary file of its own in the
// same folder (never a fixed name, so neither a leftover nor a planted link is written through,
// and two saves never share one), synced, renamed over path, and the folder synced so that the
// rename survives a power cut. The file keeps its mode (0600 when new).
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncDir makes a rename in dir durable (Windows cannot sync a folder; its rename is durable
// with the file's own flush).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
