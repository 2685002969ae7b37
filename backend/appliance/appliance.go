// Package appliance is the composition root of the core: it opens the store, loads the content,
// starts the engine, the content watcher, the background jobs and the HTTP server. The headless
// `voicebot serve` and the desktop window share it.
package appliance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"voicebot/backend/config"
	"voicebot/backend/conversation"
	"voicebot/backend/dashboard"
	"voicebot/backend/discovery"
	"voicebot/backend/history"
	"voicebot/backend/httpapi"
	"voicebot/backend/keys"
	"voicebot/backend/paths"
	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
	"voicebot/backend/telemetry"
	"voicebot/backend/voice"
	_ "voicebot/backend/voice/espeak" // built-in engines (cgo builds; empty otherwise)
	"voicebot/backend/voice/openai"
	_ "voicebot/backend/voice/sphinx"
	"voicebot/backend/voice/wyoming"
	vbembed "voicebot/embed"
)

// Options configure one appliance.
type Options struct {
	DataDir string // default: paths.DataDir()
	// Store is where the data lives: "" or "sqlite" for the encrypted SQLite file in the data
	// folder, or a postgres://… URL (backend/store/postgres). It may carry a password: it is
	// never logged (Describe names the store without it).
	Store string
	// Appliance is this appliance's name in a fleet sharing a PostgreSQL store (the rows it
	// writes carry it); default config.DefaultAppliance(), the host name.
	Appliance  string
	ConfigDir  string        // default: paths.ConfigDir()
	Listen     string        // default 127.0.0.1:8750
	ContentDir string        // default: the built-in demo
	Retention  time.Duration // purge conversations idle longer than this; 0 keeps them
	RateLimit  string        // default per key and route, e.g. 600/m; "" = DefaultRate
	CORS       []string
	Version    string
	// ConfigFile, if set, is the settings file (YAML): its values apply beneath the options
	// set here (an option given on the command line wins), and it is watched while running.
	ConfigFile string
	// SetLogFormat, if set, switches the process's log to the settings file's log_format
	// ("text" or "json") at start.
	SetLogFormat func(format string)
	// LogLevel is where slog's level lives, so that the settings file can change it live.
	LogLevel *slog.LevelVar
	// NoDiscovery keeps the appliance from advertising itself over mDNS even when it listens
	// beyond loopback (the settings' `discovery: false` does the same; the tests set it).
	NoDiscovery bool
	// Wyoming, if set, is the address of the Wyoming server offering the appliance's speech and
	// conversation to Home Assistant; a non-loopback one needs WyomingAllowLAN (the protocol
	// has no authentication).
	Wyoming         string
	WyomingAllowLAN bool
	// VisitorUI is the visitor screen's files (index.html, assets/), served at / on the LAN;
	// nil serves none.
	VisitorUI fs.FS
	// AddressCheckEvery is how often the machine's addresses are checked, so that the server
	// certificate is re-issued and the mDNS advertisement renewed when they change (default
	// a minute).
	AddressCheckEvery time.Duration
}

// DefaultListen is loopback: the LAN is opt-in.
const DefaultListen = "127.0.0.1:8750"

// DefaultRate applies to keys without a rate of their own.
const DefaultRate = "6000/m"

// Appliance is a running core.
type Appliance struct {
	Opts Options
	// Store is the open store (SQLite or PostgreSQL); DB is the same store when it is the
	// embedded SQLite one, nil on PostgreSQL (backups, the WAL, the tests' direct reads).
	Store     store.Backend
	DB        *store.DB
	Keys      *keys.Service
	History   *history.Store
	Engine    *conversation.Engine
	Loader    *conversation.Loader
	API       *httpapi.Server
	Dashboard *dashboard.Dashboard
	Metrics   *telemetry.Metrics
	Voice     *voice.Service
	Instance  *Instance // the data folder's instance socket (one appliance per data folder)
	tracing   *telemetry.Tracing
	root      http.Handler
	ln        net.Listener // guarded by mu: SetLAN replaces it
	srv       *http.Server

	stop           context.CancelFunc // ends the watchers and background jobs
	ctx            context.Context    // the appliance's own: ends with Close
	bg             sync.WaitGroup     // the background jobs started by Start, waited for by Close
	lifeMu         sync.RWMutex       // settings changes hold it shared; Close takes it to end them
	closed         bool               // guarded by lifeMu
	closeOnce      sync.Once
	closeErr       error
	teachMu        sync.Mutex         // one teach (edit, reload) at a time
	taughtPrint    atomic.Value       // string: the content folder's folderPrint when a teach reloaded it
	watchStop      context.CancelFunc // ends the content folder's watcher (guarded by mu)
	mu             sync.Mutex
	flags          Options         // the options as given, before the settings file
	file           config.Settings // the settings file as last loaded successfully
	restartPending []string        // settings changed in the file that need a restart
	settingsMu     sync.Mutex      // one settings change (dashboard or watcher) at a time
	conns          *connLimiter    // open connections per remote address, over every listener
	tls            *tlsState       // the CA and the certificates of the LAN's HTTPS (tls.go)
	discoveryMu    sync.Mutex
	advert         *discovery.Advertiser // the mDNS advertisement while on (discovery.go)
	advertIPs      string                // the addresses it carries, sorted, for the change check
	wyoming        *wyoming.Server       // nil when off
	wyomingLn      net.Listener
}

// Resolve fills in the default folders.
func (o *Options) Resolve() error {
	var err error
	if o.DataDir == "" {
		if o.DataDir, err = paths.DataDir(); err != nil {
			return err
		}
	}
	if o.ConfigDir == "" {
		if o.ConfigDir, err = paths.ConfigDir(); err != nil {
			return err
		}
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.RateLimit == "" {
		o.RateLimit = DefaultRate
	}
	if o.Appliance == "" {
		o.Appliance = config.DefaultAppliance()
	} else if !config.ValidAppliance(o.Appliance) {
		return fmt.Errorf("appliance %q: give a name of 1 to 63 letters a-z, digits and hyphens, e.g. kiosk-lobby", o.Appliance)
	}
	return nil
}

// OpenStore opens the store the options name: the data folder's SQLite file with its key
// (creating both on first use), or the PostgreSQL server of a postgres://… Store.
func OpenStore(ctx context.Context, o Options) (store.Backend, error) {
	switch {
	case postgres.IsDSN(o.Store):
		name := o.Appliance
		if name == "" {
			name = config.DefaultAppliance()
		}
		return postgres.Open(ctx, o.Store, name)
	case o.Store != "" && o.Store != "sqlite":
		return nil, errors.New("store: give sqlite (the default) or a PostgreSQL URL, postgres://user@host:5432/database?sslmode=verify-full")
	}
	storeFile := paths.StoreFile(o.DataDir)
	key, source, err := store.LoadKey(paths.KeyFile(o.ConfigDir, o.DataDir), storeFile)
	if err != nil {
		return nil, err
	}
	slog.Debug("store key", "from", source)
	return store.Open(ctx, storeFile, key)
}

// Start opens everything and starts serving; it returns once the server listens and the content
// is loaded (or has failed to load: the API then answers 503 not_ready until a good version).
func Start(parent context.Context, o Options) (*Appliance, error) {
	// The appliance's own context: its watchers and background jobs end with Close (or with
	// the parent), never outliving the store they write to.
	ctx, cancel := context.WithCancel(parent)
	a, err := startCore(ctx, o)
	if err != nil {
		cancel()
		return nil, err
	}
	a.stop = cancel
	return a, nil
}

func startCore(ctx context.Context, o Options) (*Appliance, error) {
	flags := o
	var file config.Settings
	if o.ConfigFile != "" {
		var err error
		if file, err = config.Load(o.ConfigFile); err != nil {
			return nil, err
		}
		o = merge(flags, file)
	}
	if err := o.Resolve(); err != nil {
		return nil, err
	}
	if file.LogFormat != "" && o.SetLogFormat != nil {
		o.SetLogFormat(file.LogFormat)
	}
	if _, _, err := config.ParseRate(o.RateLimit); err != nil {
		return nil, fmt.Errorf("rate limit: %w", err)
	}
	inst, err := AcquireInstance(o.DataDir)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			inst.Release()
		}
	}()
	db, err := OpenStore(ctx, o)
	if err != nil {
		return nil, err
	}
	slog.Info("store", "at", db.Describe())
	a := &Appliance{Opts: o, Store: db, Instance: inst, Keys: keys.NewService(db), History: history.New(db), Metrics: telemetry.New(), flags: flags, file: file, ctx: ctx}
	a.DB, _ = db.(*store.DB)
	if o.LogLevel != nil && file.LogLevel != "" {
		_ = o.LogLevel.UnmarshalText([]byte(file.LogLevel))
	}
	a.Engine = conversation.New(a.History)
	a.Engine.SetOverrides(conversation.Overrides{IntentThreshold: file.IntentThreshold, KnowledgeMatch: file.KnowledgeMatch})
	var fsys fs.FS
	source := "built-in demo"
	if o.ContentDir != "" {
		if fi, err := os.Stat(o.ContentDir); err != nil || !fi.IsDir() {
			db.Close()
			return nil, fmt.Errorf("content folder %s: not a folder", o.ContentDir)
		}
		fsys, source = os.DirFS(o.ContentDir), o.ContentDir
	} else {
		fsys = vbembed.DemoContent()
	}
	a.Loader = conversation.NewLoader(a.Engine, fsys, source)
	a.Voice = voice.NewService(!file.NoBuiltinVoice)
	for _, e := range file.VoiceEngines {
		r, t := externalEngine(e)
		if e.Kind == "stt" {
			a.Voice.Add(r, nil)
		} else {
			a.Voice.Add(nil, t)
		}
	}
	a.Metrics.SetVersion(o.Version)
	db.SetCommitObserver(a.Metrics.NoteCommit)
	if a.tracing, err = telemetry.SetupTracing(ctx, telemetry.TracingConfig{Endpoint: file.OTLPEndpoint}, o.Version); err != nil {
		db.Close()
		return nil, err
	}
	if a.tracing.Enabled {
		slog.Info("tracing on: spans go out over OTLP", "protocol", a.tracing.Protocol)
	}
	a.Loader.OnReload = func(st conversation.Status) {
		a.Metrics.NoteReload(st.OK, time.Since(st.LastAttempt))
		if snap := a.Engine.Snapshot(); st.OK && snap != nil {
			rep, err := a.Voice.Adapt(snap.Pack)
			if err != nil {
				slog.Error("speech recognition not adapted to the content", "err", err)
			} else if len(rep.Unknown) > 0 {
				slog.Debug("speech: words the pronunciation dictionary lacks", "words", rep.Unknown)
			}
		}
		a.Metrics.ContentVersion.Set(float64(st.Version))
		a.Metrics.ContentErrors.Set(float64(len(st.Errors)))
		detail := fmt.Sprintf("version %d", st.Version)
		if !st.OK {
			detail = fmt.Sprintf("%d errors; version %d keeps serving", len(st.Errors), st.Version)
		}
		a.audit(store.AuditEntry{Actor: "system", Action: "content.reload", Target: st.Source, Detail: detail})
	}
	_ = a.Loader.Reload() // errors are in the status; the API says not_ready until content loads
	if o.ContentDir != "" {
		if err := a.watchContent(o.ContentDir); err != nil {
			db.Close()
			return nil, err
		}
	}
	api := &httpapi.Server{Engine: a.Engine, Loader: a.Loader, Keys: a.Keys, History: a.History, DB: db, Metrics: a.Metrics, Voice: a.Voice, RestartPending: a.RestartPending, Content: a, Pairing: a}
	if pg, ok := db.(*postgres.DB); ok {
		api.SharedRates = pg // one bucket per key for the whole fleet
	}
	a.API = httpapi.New(api, apiConfig(o, file))
	if o.ConfigFile != "" {
		if err := config.Watch(ctx, o.ConfigFile, a.settingsChanged); err != nil {
			db.Close()
			return nil, fmt.Errorf("watch %s: %w", o.ConfigFile, err)
		}
	}
	if err := a.setupTLS(ctx, file.TLSCertFile, file.TLSKeyFile); err != nil {
		db.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	a.tls.plainLAN.Store(file.LANPlainHTTP)
	a.Dashboard = dashboard.New(&dashboard.Dashboard{Keys: a.Keys, History: a.History, Audit: db, Data: dashboard.NewStoreView(db), Loader: a.Loader, Engine: a.Engine, Rollup: a.Metrics.Rollup, Voice: a.Voice, Logs: telemetry.RecentLogs, Settings: a, Content: a, Screens: a, Version: o.Version, Appliance: o.Appliance, Listen: a.Addr, AddressGate: a.API.AddressGate})
	root := http.NewServeMux()
	root.Handle("/dashboard/", a.Dashboard)
	root.Handle("GET /dashboard", http.RedirectHandler("/dashboard/", http.StatusMovedPermanently))
	if o.VisitorUI != nil {
		ui := visitorHandler(o.VisitorUI)
		root.Handle("GET /{$}", ui)
		root.Handle("GET /assets/", ui)
	}
	root.Handle("GET /ca.pem", http.HandlerFunc(a.serveCA))
	root.Handle("/", a.API)
	a.root = root
	a.ln, err = net.Listen("tcp", o.Listen)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	if err := a.startWyoming(o.Wyoming, o.WyomingAllowLAN); err != nil {
		a.ln.Close()
		db.Close()
		return nil, err
	}
	a.srv = &http.Server{Handler: a.lanGate(root), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	started = true
	a.conns = &connLimiter{open: map[string]int{}, max: maxConnsPerAddress}
	go a.serve(a.ln)
	a.updateDiscovery()
	a.goBackground(func() { a.background(ctx) })
	if pg, ok := db.(*postgres.DB); ok {
		// a key revoked or rotated by another appliance of the database is refused here at once
		a.goBackground(func() { pg.Listen(ctx, postgres.KeyChannel, a.Keys.Forget, a.Keys.ForgetAll) })
		a.goBackground(func() { a.heartbeat(ctx, pg) })
	}
	a.goBackground(func() { a.watchAddresses(ctx) })
	a.Metrics.WatchStore(db) // sizes, volume space and checkpoints on /metrics
	a.Metrics.WatchKeyExpiry(a.keyExpiries)
	a.goBackground(func() { a.Metrics.Sample(ctx, db) })
	loadedUntil := time.Now()
	a.goBackground(func() {
		if err := a.Metrics.Rollup.Load(ctx, db, loadedUntil); err != nil && ctx.Err() == nil {
			slog.Warn("metrics rollup: stored history not read", "err", err)
		}
	})
	return a, nil
}

// visitorHandler serves the visitor screen's static files. They hold no data: every call the page
// makes goes to the API with the screen's key.
func visitorHandler(ui fs.FS) http.Handler {
	files := http.FileServerFS(ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable") // hashed names
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

// apiConfig is the API's live configuration from the options in force and the settings file:
// the default rate per key and route, the chat, voice and admin routes' rates, the limit per
// address of failed authentications (each with its default when the file sets none).
func apiConfig(o Options, f config.Settings) httpapi.Config {
	pick := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	return httpapi.Config{DefaultRate: o.RateLimit, ChatRate: f.RateLimitChat,
		VoiceRate: pick(f.RateLimitVoice, config.DefaultRateVoice), AdminRate: pick(f.RateLimitAdmin, config.DefaultRateAdmin),
		AddressRate: pick(f.RateLimitUnauthenticated, config.DefaultRateUnauthenticated), CORSOrigins: o.CORS, Version: o.Version}
}

// merge lays the options given (flags) over the settings file.
func merge(flags Options, f config.Settings) Options {
	o := flags
	pick := func(flag, file string) string {
		if flag != "" {
			return flag
		}
		return file
	}
	o.Listen = pick(flags.Listen, f.Listen)
	o.DataDir = pick(flags.DataDir, f.DataDir)
	o.Store = pick(flags.Store, f.Store)
	o.Appliance = pick(flags.Appliance, f.Appliance)
	o.ContentDir = pick(flags.ContentDir, f.Content)
	o.RateLimit = pick(flags.RateLimit, f.RateLimit)
	if len(flags.CORS) == 0 {
		o.CORS = f.CORSOrigins
	}
	if flags.Retention == 0 {
		o.Retention = f.Retention
	}
	o.Wyoming = pick(flags.Wyoming, f.Wyoming)
	o.WyomingAllowLAN = flags.WyomingAllowLAN || f.WyomingAllowLAN
	return o
}

// settingsChanged applies a saved settings file (the watcher calls it): live settings at once,
// the others noted as needing a restart; an invalid file changes nothing. Every applied change
// is audited.
func (a *Appliance) settingsChanged(f config.Settings, err error) {
	if !a.enter() {
		return // closing: the store is about to close
	}
	defer a.leave()
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	// The watcher read the file before it held the lock: a dashboard change may have saved it
	// since, so what is applied is read again now (else an older state would be applied last).
	a.mu.Lock()
	file := a.Opts.ConfigFile
	a.mu.Unlock()
	if err == nil && file != "" {
		f, err = config.Load(file)
	}
	a.applySettings(f, err)
}

// applySettings does settingsChanged's work; the caller holds settingsMu, so that a change from
// the dashboard (read, save, apply) and one from the watcher never interleave.
func (a *Appliance) applySettings(f config.Settings, err error) {
	if err != nil {
		slog.Error("settings file not applied; the running settings stay", "err", err)
		a.audit(store.AuditEntry{Actor: "system", Action: "config.error", Target: a.Opts.ConfigFile, Detail: err.Error()})
		return
	}
	a.mu.Lock()
	changed := config.Changed(a.file, f)
	a.file = f
	o := merge(a.flags, f)
	if o.RateLimit == "" {
		o.RateLimit = DefaultRate
	}
	var restart []string
	for _, k := range changed {
		if slices.Contains(config.RestartKeys, k) && !slices.Contains(a.restartPending, k) {
			a.restartPending = append(a.restartPending, k)
			restart = append(restart, k)
		}
	}
	a.Opts.RateLimit, a.Opts.CORS, a.Opts.Retention = o.RateLimit, o.CORS, o.Retention
	contentMoved := o.ContentDir != a.Opts.ContentDir
	a.mu.Unlock()
	if len(changed) == 0 {
		return
	}
	if contentMoved {
		if err := a.switchContent(o.ContentDir); err != nil {
			slog.Error("content folder not switched; the current content keeps serving", "err", err)
			a.audit(store.AuditEntry{Actor: "system", Action: "config.error", Target: a.Opts.ConfigFile, Detail: err.Error()})
		}
	}
	a.API.SetConfig(apiConfig(o, f))
	a.tls.plainLAN.Store(f.LANPlainHTTP)
	if slices.Contains(changed, "discovery") {
		a.updateDiscovery()
	}
	if err := a.setOperatorCert(f.TLSCertFile, f.TLSKeyFile); err != nil {
		slog.Error("the operator's certificate not applied; the current certificate stays", "err", err)
		a.audit(store.AuditEntry{Actor: "system", Action: "config.error", Target: a.Opts.ConfigFile, Detail: err.Error()})
	}
	a.Engine.SetOverrides(conversation.Overrides{IntentThreshold: f.IntentThreshold, KnowledgeMatch: f.KnowledgeMatch})
	if a.Opts.LogLevel != nil && f.LogLevel != "" {
		_ = a.Opts.LogLevel.UnmarshalText([]byte(f.LogLevel))
	}
	slog.Info("settings applied", "changed", changed)
	if len(restart) > 0 {
		slog.Warn("settings changed that apply only after a restart", "settings", restart)
	}
	detail := "changed: " + strings.Join(changed, ", ")
	if fixed := a.flagFixed(); len(fixed) > 0 {
		detail += "; the command line's " + strings.Join(fixed, ", ") + " win(s) over the file"
	}
	a.audit(store.AuditEntry{Actor: "system", Action: "config.change", Target: a.Opts.ConfigFile, Detail: detail})
}

// audit appends an audit entry; a failed write is logged (the action it records has happened).
func (a *Appliance) audit(e store.AuditEntry) {
	if err := a.Store.Audit(context.Background(), e); err != nil {
		slog.Error("audit entry not written", "action", e.Action, "actor", e.Actor, "target", e.Target, "err", err)
	}
}

// flagFixed lists the live settings fixed by a command-line flag, which wins over the file.
func (a *Appliance) flagFixed() []string {
	var out []string
	if a.flags.RateLimit != "" {
		out = append(out, "rate_limit")
	}
	if len(a.flags.CORS) > 0 {
		out = append(out, "cors_origins")
	}
	if a.flags.Retention != 0 {
		out = append(out, "retention")
	}
	return out
}

// LiveSettings are the settings in force that can change while running.
func (a *Appliance) LiveSettings() config.Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := config.Settings{RateLimit: a.Opts.RateLimit, CORSOrigins: a.Opts.CORS, Retention: a.Opts.Retention, LogLevel: a.file.LogLevel,
		IntentThreshold: a.file.IntentThreshold, KnowledgeMatch: a.file.KnowledgeMatch, NoDiscovery: a.file.NoDiscovery, LANPlainHTTP: a.file.LANPlainHTTP}
	if s.LogLevel == "" && a.Opts.LogLevel != nil {
		s.LogLevel = strings.ToLower(a.Opts.LogLevel.Level().String())
	}
	return s
}

// ChangeSettings changes the live settings (from the dashboard): validated, applied at once,
// written to the settings file when there is one (so they survive a restart), and audited.
func (a *Appliance) ChangeSettings(live config.Settings, actor, remote string) error {
	return a.ChangeSettingsIf(nil, live, actor, remote)
}

// ChangeSettingsIf is ChangeSettings when check (if not nil) accepts the settings in force, run
// under the same lock as the change: the dashboard refuses a form opened on settings that another
// operator changed since (a lost update otherwise).
func (a *Appliance) ChangeSettingsIf(check func(current config.Settings) error, live config.Settings, actor, remote string) error {
	if live.RateLimit != "" {
		if _, _, err := config.ParseRate(live.RateLimit); err != nil {
			return err
		}
	}
	if live.Retention < 0 {
		return errors.New("retention cannot be negative")
	}
	for _, o := range live.CORSOrigins {
		if err := config.CheckOrigin(o); err != nil {
			return err
		}
	}
	if live.LogLevel != "" && !slices.Contains([]string{"debug", "info", "warn", "error"}, live.LogLevel) {
		return errors.New("log level must be debug, info, warn or error")
	}
	if !(live.IntentThreshold >= 0 && live.IntentThreshold <= 1 && live.KnowledgeMatch >= 0 && live.KnowledgeMatch <= 1) { // NaN too
		return errors.New("thresholds are numbers from 0 to 1 (0 keeps the content's own)")
	}
	// One change at a time, and none while the watcher applies the file: the snapshot, the
	// save and the apply below belong together.
	a.settingsMu.Lock()
	defer a.settingsMu.Unlock()
	cur := a.LiveSettings()
	if check != nil {
		if err := check(cur); err != nil {
			return err
		}
	}
	a.mu.Lock()
	f := a.file
	a.mu.Unlock()
	// A setting given on the command line wins over the file: changing it here would be saved
	// and audited but never applied, so it is refused; sent back unchanged, the file keeps its
	// own value.
	fixed := a.flagFixed()
	for _, name := range fixed {
		var same bool
		switch name {
		case "rate_limit":
			same = live.RateLimit == cur.RateLimit
		case "cors_origins":
			same = slices.Equal(live.CORSOrigins, cur.CORSOrigins)
		case "retention":
			same = live.Retention == cur.Retention
		}
		if !same {
			return fmt.Errorf("%s is set on the command line, which wins over the settings file: change it there (or start without it) to change it here", name)
		}
	}
	if !slices.Contains(fixed, "rate_limit") {
		f.RateLimit = live.RateLimit
	}
	if !slices.Contains(fixed, "cors_origins") {
		f.CORSOrigins = live.CORSOrigins
	}
	if !slices.Contains(fixed, "retention") {
		f.Retention = live.Retention
	}
	f.LogLevel, f.IntentThreshold, f.KnowledgeMatch = live.LogLevel, live.IntentThreshold, live.KnowledgeMatch
	f.NoDiscovery, f.LANPlainHTTP = live.NoDiscovery, live.LANPlainHTTP
	saved := "not saved: the appliance runs without a settings file (--config)"
	if a.Opts.ConfigFile != "" {
		if err := config.Save(a.Opts.ConfigFile, f); err != nil {
			return fmt.Errorf("save %s: %w", a.Opts.ConfigFile, err)
		}
		saved = "saved to " + a.Opts.ConfigFile
		// Apply what the file now says (its other keys included), not the copy it was made from.
		if disk, err := config.Load(a.Opts.ConfigFile); err == nil {
			f = disk
		}
	}
	a.applySettings(f, nil)
	if len(fixed) > 0 {
		saved += "; set on the command line, which wins: " + strings.Join(fixed, ", ")
	}
	return a.Store.Audit(context.Background(), store.AuditEntry{Actor: actor, Action: "settings.change", Remote: remote,
		Detail: fmt.Sprintf("rate_limit=%q retention=%s cors_origins=%v log_level=%q intent_threshold=%g knowledge_match=%g discovery=%v lan_plain_http=%v; %s",
			live.RateLimit, live.Retention, live.CORSOrigins, live.LogLevel, live.IntentThreshold, live.KnowledgeMatch, !live.NoDiscovery, live.LANPlainHTTP, saved)})
}

// RestartPending lists the settings changed in the file that need a restart to apply.
func (a *Appliance) RestartPending() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.restartPending...)
}

func (a *Appliance) serve(ln net.Listener) {
	err := a.srv.Serve(newProtoListener(limitedListener{Listener: ln, l: a.conns}, a.tls.config))
	a.mu.Lock()
	replaced := a.ln != ln
	a.mu.Unlock()
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !replaced {
		slog.Error("http server", "err", err)
	}
}

// Addr is the address the server listens on.
func (a *Appliance) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ln.Addr().String()
}

// background flushes key usage and applies the retention setting.
func (a *Appliance) background(ctx context.Context) {
	flush := time.NewTicker(2 * time.Second)
	purge := time.NewTicker(purgeEvery)
	defer flush.Stop()
	defer purge.Stop()
	a.purge(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			if err := a.Keys.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				slog.Error("flush key usage", "err", err)
			}
		case <-purge.C:
			a.purge(ctx)
		}
	}
}

func (a *Appliance) purge(ctx context.Context) {
	a.mu.Lock()
	retention := a.Opts.Retention
	a.mu.Unlock()
	if retention <= 0 {
		return
	}
	if n, err := a.History.Purge(ctx, time.Now().Add(-retention)); err != nil {
		slog.Error("retention purge", "err", err)
	} else if n > 0 {
		slog.Info("retention purge", "sessions", n)
	}
}

// goBackground runs f as a background job that Close waits for (only from Start, before any
// Close).
func (a *Appliance) goBackground(f func()) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		f()
	}()
}

// enter begins work that writes to the store from outside a request (a settings change from
// the watcher); false once Close has begun. leave ends it.
func (a *Appliance) enter() bool {
	a.lifeMu.RLock()
	if a.closed {
		a.lifeMu.RUnlock()
		return false
	}
	return true
}

func (a *Appliance) leave() { a.lifeMu.RUnlock() }

// Close shuts the appliance down in order, so that nothing in flight loses its write and
// nothing outlives the store:
//
//  1. stop accepting connections and drain: requests in flight finish (http.Server.Shutdown)
//     and the turns under way, also in voice streams and from the desktop window, are answered
//     and saved while new ones are refused (httpapi.Server.Shutdown), both until ctx ends;
//     past it, the connections left are closed;
//  2. stop the background work (watchers, usage flush, retention, metrics sampling) and wait
//     for it, a settings change being applied and a content reload under way included;
//  3. flush the key usage counted in memory, close the store, free the data folder.
//
// Close is safe to call more than once; later calls return the first one's result.
func (a *Appliance) Close(ctx context.Context) error {
	a.closeOnce.Do(func() { a.closeErr = a.close(ctx) })
	return a.closeErr
}

func (a *Appliance) close(ctx context.Context) error {
	var drain sync.WaitGroup
	var srvErr, apiErr error
	drain.Add(2)
	go func() { defer drain.Done(); srvErr = a.srv.Shutdown(ctx) }()
	go func() { defer drain.Done(); apiErr = a.API.Shutdown(ctx) }()
	if a.wyoming != nil {
		_ = a.wyoming.Close() // cancels its requests under way and waits for them
	}
	drain.Wait()
	err := errors.Join(srvErr, apiErr)
	if err != nil {
		slog.Warn("shutdown: requests still under way at the deadline; closing their connections", "err", err)
		_ = a.srv.Close()
	}

	a.stopDiscovery()
	a.stop()
	a.lifeMu.Lock() // waits for a settings change being applied
	a.closed = true
	a.lifeMu.Unlock()
	a.bg.Wait()
	a.Loader.Close() // waits for a reload under way (a watcher's, a teach's); later ones do nothing

	if ferr := a.Keys.FlushUsage(context.Background()); ferr != nil {
		err = errors.Join(err, fmt.Errorf("flush key usage: %w", ferr))
	}
	err = errors.Join(err, a.tracing.Shutdown(ctx), a.Store.Close())
	a.Instance.Release()
	return err
}

// externalEngine makes the client of a configured speech engine.
func externalEngine(e config.VoiceEngine) (voice.Recognizer, voice.Synthesizer) {
	if addr, ok := strings.CutPrefix(e.URL, "wyoming://"); ok {
		c := &wyoming.Client{Addr: strings.TrimRight(addr, "/"), Langs: e.Langs, Voice: e.Voice}
		return c, c
	}
	c := &openai.Client{Base: e.URL, Langs: e.Langs, Model: e.Model, Voice: e.Voice, APIKey: e.APIKey}
	return c, c
}

// maxConnsPerAddress bounds the connections one remote address holds open at once (a browser
// opens about 6 per host, the benchmarks 16 to 64 clients; a file descriptor each).
var maxConnsPerAddress = 256

// connLimiter counts the open connections of each remote address over every listener the
// appliance serves (SetLAN's new one too) and refuses one over the bound with a 429 JSON error.
type connLimiter struct {
	mu   sync.Mutex
	open map[string]int
	max  int
}

// tooManyConns is the whole answer to a connection over the bound (it is not read).
var tooManyConns = func() []byte {
	body := `{"error":{"code":"` + httpapi.CodeTooManyConnections + `","message":"too many connections from this address; close some and retry"}}` + "\n"
	return []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

type limitedListener struct {
	net.Listener
	l *connLimiter
}

func (ll limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		ll.l.mu.Lock()
		if ll.l.open[host] >= ll.l.max {
			ll.l.mu.Unlock()
			go func() {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write(tooManyConns)
				_ = c.Close()
			}()
			continue
		}
		ll.l.open[host]++
		ll.l.mu.Unlock()
		return &countedConn{Conn: c, release: func() {
			ll.l.mu.Lock()
			if ll.l.open[host]--; ll.l.open[host] <= 0 {
				delete(ll.l.open, host)
			}
			ll.l.mu.Unlock()
		}}, nil
	}
}

// countedConn gives its address's place back when it closes (also after a WebSocket took it).
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// keyExpiries lists the API keys still usable that have an end date, for /metrics.
func (a *Appliance) keyExpiries(ctx context.Context) ([]telemetry.KeyExpiry, error) {
	list, err := a.Keys.List(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []telemetry.KeyExpiry
	for _, k := range list {
		if k.Expires != nil && k.Revoked == nil && k.Expires.After(now) {
			out = append(out, telemetry.KeyExpiry{ID: k.ID, Name: k.Name, Expires: *k.Expires})
		}
	}
	return out, nil
}
