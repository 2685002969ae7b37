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
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.yaml.in/yaml/v3"

	sy "voicebot/backend/internal/strictyaml"
)

// Settings are the file's values; empty means "not set in the file".
type Settings struct {
	Listen  string // restart
	DataDir string // restart
	// Store is where the data lives (restart): "" or "sqlite" for the encrypted SQLite file in
	// the data folder, or a postgres://… URL for a PostgreSQL server (backend/store/postgres).
	// It may carry a password: it is never logged or shown.
	Store string
	// Appliance is this appliance's name in a fleet (restart): the rows it writes to a shared
	// store carry it, and the dashboard filters by it. Default: DefaultAppliance().
	Appliance string
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
	// OTLPEndpoint is where traces go over OTLP (restart): http(s)://host:4318 for
	// http/protobuf, or with OTEL_EXPORTER_OTLP_PROTOCOL=grpc http(s)://host:4317. The
	// standard OTEL_* environment variables win over it (docs/OPERATIONS.md, Tracing).
	OTLPEndpoint string
	// LogFormat is text (the default) or json: one JSON object per line (restart).
	LogFormat string
	// TLSCertFile and TLSKeyFile are the operator's own certificate (PEM, with its chain) and
	// key, presented on the LAN instead of the one the appliance's CA issues (live; both or
	// neither).
	TLSCertFile, TLSKeyFile string
	// LANPlainHTTP serves the whole API and dashboard over plain HTTP to other machines too
	// (lan_plain_http: true; live); by default only loopback gets plain HTTP and the LAN HTTPS.
	LANPlainHTTP bool
	// NoDiscovery turns the mDNS/DNS-SD advertisement off (discovery: false; live).
	NoDiscovery bool
	// Wyoming is the address (host:port) of the Wyoming server that offers the appliance's
	// speech and conversation to Home Assistant (restart; "" = off). The protocol has no
	// authentication, so an address other than loopback needs WyomingAllowLAN
	// (wyoming_allow_lan: true).
	Wyoming         string
	WyomingAllowLAN bool
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
var RestartKeys = []string{"listen", "data_dir", "store", "appliance", "kiosk", "kiosk_exit_keys", "kiosk_pin_hash", "voice_engines", "voice_builtin", "otlp_endpoint", "log_format", "wyoming", "wyoming_allow_lan"}

var allowed = []string{"listen", "data_dir", "store", "appliance", "content", "rate_limit", "rate_limit_chat", "rate_limit_voice", "rate_limit_admin", "rate_limit_unauthenticated", "cors_origins", "retention", "log_level", "intent_threshold", "knowledge_match",
	"kiosk", "kiosk_exit_keys", "kiosk_pin_hash", "voice_engines", "voice_builtin", "otlp_endpoint", "log_format",
	"tls_cert_file", "tls_key_file", "lan_plain_http", "discovery", "wyoming", "wyoming_allow_lan"}

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

// file is the settings file's shape: decoded strictly (backend/internal/strictyaml), so a
// key not listed here, or a value of another shape, is an error with its line.
type file struct {
	Listen                   single  `yaml:"listen"`
	DataDir                  single  `yaml:"data_dir"`
	Store                    single  `yaml:"store"`
	Appliance                single  `yaml:"appliance"`
	Content                  single  `yaml:"content"`
	RateLimit                single  `yaml:"rate_limit"`
	RateLimitChat            single  `yaml:"rate_limit_chat"`
	RateLimitVoice           single  `yaml:"rate_limit_voice"`
	RateLimitAdmin           single  `yaml:"rate_limit_admin"`
	RateLimitUnauthenticated single  `yaml:"rate_limit_unauthenticated"`
	CORSOrigins              origins `yaml:"cors_origins"`
	Retention                single  `yaml:"retention"`
	LogLevel                 single  `yaml:"log_level"`
	IntentThreshold          single  `yaml:"intent_threshold"`
	KnowledgeMatch           single  `yaml:"knowledge_match"`
	Kiosk                    sy.Flag `yaml:"kiosk"`
	KioskExitKeys            single  `yaml:"kiosk_exit_keys"`
	KioskPINHash             single  `yaml:"kiosk_pin_hash"`
	VoiceEngines             engines `yaml:"voice_engines"`
	VoiceBuiltin             sy.Flag `yaml:"voice_builtin"`
	OTLPEndpoint             single  `yaml:"otlp_endpoint"`
	LogFormat                single  `yaml:"log_format"`
	TLSCertFile              single  `yaml:"tls_cert_file"`
	TLSKeyFile               single  `yaml:"tls_key_file"`
	LANPlainHTTP             sy.Flag `yaml:"lan_plain_http"`
	Discovery                sy.Flag `yaml:"discovery"`
	Wyoming                  single  `yaml:"wyoming"`
	WyomingAllowLAN          sy.Flag `yaml:"wyoming_allow_lan"`
}

// single is a setting's one value, as written, trimmed (a null value leaves the setting unset).
type single struct {
	sy.Text
	node *yaml.Node
}

func (v *single) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return sy.Errorf(n, "must be a single value")
	}
	v.V, v.Line, v.node = strings.TrimSpace(n.Value), n.Line, n
	return nil
}

type origins struct{ sy.Texts }

func (o *origins) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || o.Texts.UnmarshalYAML(n) != nil {
		return sy.Errorf(n, "must be a list of origins such as http://kiosk.local:8080")
	}
	return nil
}

type engines struct{ sy.List[sy.Mapping[engine]] }

func (e *engines) UnmarshalYAML(unmarshal func(any) error) error {
	n, err := sy.NodeOf(unmarshal)
	if err != nil {
		return err
	}
	if n.Kind != yaml.SequenceNode {
		return sy.Errorf(n, "is a list of {kind, languages, url}")
	}
	return unmarshal(&e.List)
}

// engine is a VoiceEngine as the file gives it.
type engine struct {
	Kind   sy.Text  `yaml:"kind"`
	Langs  sy.Texts `yaml:"languages"`
	URL    sy.Text  `yaml:"url"`
	Model  sy.Text  `yaml:"model"`
	Voice  sy.Text  `yaml:"voice"`
	APIKey sy.Text  `yaml:"api_key"`
}

const settingsName = "the settings"

var names = sy.Names{reflect.TypeFor[file](): settingsName, reflect.TypeFor[engine](): "voice engine"}

// Load reads and validates the settings file. Of several problems it reports the first (by line),
// with the zero Settings. A key with no value (null) is not set.
func Load(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, &Error{File: path, Msg: err.Error()}
	}
	if len(b) > 1<<20 {
		return s, &Error{File: path, Msg: "the settings file is larger than 1 MiB"}
	}
	var f file
	root, errs := sy.Decode(b, &f, names, 1)
	var first *Error
	fail := func(line int, format string, args ...any) {
		if first == nil || line < first.Line {
			first = &Error{File: path, Line: line, Msg: fmt.Sprintf(format, args...)}
		}
	}
	for _, e := range errs {
		switch {
		case e.Kind == sy.Syntax:
			return s, &Error{File: path, Line: e.Line, Msg: "YAML: " + e.Msg}
		case e.Kind == sy.NotMapping:
			return s, &Error{File: path, Line: e.Line, Msg: "expected a mapping of settings, e.g. rate_limit: 600/m"}
		case e.Kind == sy.UnknownKey && e.In == settingsName:
			fail(e.Line, "unknown setting %q (known: %s)", e.Key, strings.Join(allowed, ", "))
		default:
			fail(e.Line, "%s", e.Msg)
		}
	}
	if root == nil {
		return s, nil // an empty file sets nothing
	}
	s.Listen, s.DataDir, s.Content = f.Listen.V, f.DataDir.V, f.Content.V
	if v := f.Store.V; v != "" && v != "sqlite" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
		fail(f.Store.Line, "store: give sqlite (the default) or a PostgreSQL URL, postgres://user@host:5432/database?sslmode=verify-full")
	} else {
		s.Store = v
	}
	if v := f.Appliance.V; v != "" && !ValidAppliance(v) {
		fail(f.Appliance.Line, "appliance: give a name of 1 to 63 letters a-z, digits and hyphens, e.g. kiosk-lobby")
	} else {
		s.Appliance = v
	}
	for _, r := range []struct {
		name string
		v    single
		to   *string
	}{
		{"rate_limit", f.RateLimit, &s.RateLimit},
		{"rate_limit_chat", f.RateLimitChat, &s.RateLimitChat},
		{"rate_limit_voice", f.RateLimitVoice, &s.RateLimitVoice},
		{"rate_limit_admin", f.RateLimitAdmin, &s.RateLimitAdmin},
		{"rate_limit_unauthenticated", f.RateLimitUnauthenticated, &s.RateLimitUnauthenticated},
	} {
		if r.v.Line == 0 {
			continue
		}
		if _, _, err := ParseRate(r.v.V); err != nil {
			if r.name == "rate_limit" {
				fail(r.v.Line, "%v", err)
			} else {
				fail(r.v.Line, "%s: %v", r.name, err)
			}
			continue
		}
		*r.to = r.v.V
	}
	s.CORSOrigins = f.CORSOrigins.V
	for i, o := range s.CORSOrigins {
		if err := CheckOrigin(o); err != nil {
			fail(f.CORSOrigins.Lines[i], "%v", err)
		}
	}
	if v := f.Retention; v.Line > 0 {
		d, err := time.ParseDuration(v.V)
		if err != nil || d < 0 {
			fail(v.Line, "retention must be a duration such as 720h (0 keeps conversations)")
		}
		s.Retention = d
	}
	if v := f.LogLevel; v.Line > 0 {
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, v.V) {
			fail(v.Line, "log_level must be debug, info, warn or error")
		}
		s.LogLevel = v.V
	}
	for _, t := range []struct {
		name string
		v    single
		to   *float64
	}{{"intent_threshold", f.IntentThreshold, &s.IntentThreshold}, {"knowledge_match", f.KnowledgeMatch, &s.KnowledgeMatch}} {
		if t.v.Line == 0 {
			continue
		}
		if err := t.v.node.Decode(t.to); err != nil || *t.to < 0 || *t.to > 1 {
			fail(t.v.Line, "%s must be a number from 0 to 1 (0 keeps the content's own)", t.name)
		}
	}
	s.Kiosk = f.Kiosk.V
	s.NoBuiltinVoice = f.VoiceBuiltin.Line > 0 && !f.VoiceBuiltin.V
	if v := f.KioskExitKeys; v.Line > 0 {
		if _, err := ParseKeys(v.V); err != nil {
			fail(v.Line, "%v", err)
		}
		s.KioskExitKeys = v.V
	}
	if v := f.KioskPINHash; v.Line > 0 {
		if !strings.HasPrefix(v.V, "$2") {
			fail(v.Line, "kiosk_pin_hash must be a bcrypt hash: set it with voicebot kiosk-pin, never the PIN itself")
		}
		s.KioskPINHash = v.V
	}
	if v := f.OTLPEndpoint; v.Line > 0 {
		if u, err := url.Parse(v.V); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail(v.Line, "otlp_endpoint must be an http(s)://host:port URL, e.g. http://127.0.0.1:4318")
		}
		s.OTLPEndpoint = v.V
	}
	if v := f.LogFormat; v.Line > 0 {
		if v.V != "text" && v.V != "json" {
			fail(v.Line, "log_format must be text or json")
		}
		s.LogFormat = v.V
	}
	s.TLSCertFile, s.TLSKeyFile = f.TLSCertFile.V, f.TLSKeyFile.V
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		line := max(f.TLSCertFile.Line, f.TLSKeyFile.Line)
		fail(line, "tls_cert_file and tls_key_file go together: set both (PEM files) or neither")
	}
	s.LANPlainHTTP = f.LANPlainHTTP.V
	s.NoDiscovery = f.Discovery.Line > 0 && !f.Discovery.V
	s.WyomingAllowLAN = f.WyomingAllowLAN.V
	if v := f.Wyoming; v.Line > 0 {
		if err := CheckWyoming(v.V, s.WyomingAllowLAN); err != nil {
			fail(v.Line, "%v", err)
		}
		s.Wyoming = v.V
	}
	for i, m := range f.VoiceEngines.V {
		e, line := m.V, f.VoiceEngines.LineOf(i)
		switch {
		case m.Failed: // reported
		case e.Kind.V != "stt" && e.Kind.V != "tts":
			fail(line, "voice engine kind must be stt (speech to text) or tts (text to speech)")
		case len(e.Langs.V) == 0:
			fail(line, "voice engine: list its languages, e.g. languages: [es]")
		case !strings.HasPrefix(e.URL.V, "wyoming://") && !strings.HasPrefix(e.URL.V, "http://") && !strings.HasPrefix(e.URL.V, "https://"):
			fail(line, "voice engine url must be wyoming://host:port or http(s)://host/v1")
		}
		s.VoiceEngines = append(s.VoiceEngines, VoiceEngine{Kind: e.Kind.V, Langs: e.Langs.V, URL: e.URL.V, Model: e.Model.V, Voice: e.Voice.V, APIKey: e.APIKey.V})
	}
	if first != nil {
		return Settings{}, first
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
	add("store", a.Store != b.Store)
	add("appliance", a.Appliance != b.Appliance)
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
	add("otlp_endpoint", a.OTLPEndpoint != b.OTLPEndpoint)
	add("log_format", a.LogFormat != b.LogFormat)
	add("tls_cert_file", a.TLSCertFile != b.TLSCertFile)
	add("tls_key_file", a.TLSKeyFile != b.TLSKeyFile)
	add("lan_plain_http", a.LANPlainHTTP != b.LANPlainHTTP)
	add("discovery", a.NoDiscovery != b.NoDiscovery)
	add("wyoming", a.Wyoming != b.Wyoming)
	add("wyoming_allow_lan", a.WyomingAllowLAN != b.WyomingAllowLAN)
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
		flag := func(on bool, v string) *yaml.Node { // written only when not the default
			if !on {
				return nil
			}
			return scalar(v)
		}
		set("discovery", flag(s.NoDiscovery, "false"))
		set("lan_plain_http", flag(s.LANPlainHTTP, "true"))
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

// CheckOrigin says whether o is a browser origin as the Origin header carries it: http or https,
// a host (an IDN in its ASCII form) and an optional port, nothing else; printable ASCII only, so
// that the settings file writes it back as the same plain string.
func CheckOrigin(o string) error {
	bad := fmt.Errorf("origin %q: write scheme://host[:port] with no path, in ASCII (an international name in its xn-- form)", o)
	for i := 0; i < len(o); i++ {
		if o[i] <= ' ' || o[i] >= 0x7f {
			return bad
		}
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || o != u.Scheme+"://"+u.Host {
		return bad
	}
	return nil
}

// CheckWyoming checks the Wyoming server's address: host:port with a port, and, since the
// protocol has no authentication, a loopback host (127.0.0.0/8, ::1, localhost) unless allowLAN
// says the operator means to offer it on the network (an empty host or 0.0.0.0 listens on every
// interface).
func CheckWyoming(addr string, allowLAN bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("wyoming must be an address host:port, e.g. 127.0.0.1:10700")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("wyoming: port %q is not a port number", port)
	}
	if allowLAN || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("wyoming: %s is not a loopback address, and the Wyoming protocol has no authentication: anyone who reaches the port can use the speech engines and the assistant; to offer it on the network anyway set wyoming_allow_lan: true (--wyoming-allow-lan), see docs/OPERATIONS.md", addr)
}

// ValidAppliance reports whether name is a valid appliance name: 1 to 63 of a-z, 0-9 and '-',
// not starting or ending with '-' (a DNS label, as a host name's first part is).
func ValidAppliance(name string) bool {
	if name == "" || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// DefaultAppliance is the appliance's name when the settings give none: the host name's first
// label, folded to a-z, 0-9 and '-' ("appliance" when nothing is left).
func DefaultAppliance() string {
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	var b strings.Builder
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	if name == "" {
		return "appliance"
	}
	return name
}
