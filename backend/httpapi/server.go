// Package httpapi is the LAN API: JSON over HTTP with server-sent events, every route but
// /healthz behind an API key (scopes, origin allowlist, per-key and per-route rate limits with
// the standard RateLimit headers), every refusal a JSON error with a stable code, and an OpenAPI
// 3.1 document at /v1/openapi.json.
package httpapi

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"voicebot/backend/config"
	tracing "voicebot/backend/internal/tracer"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
	"voicebot/backend/voice"
)

// Limits on input: bodies larger than these are refused with 413.
const (
	MaxChatBody  = 64 << 10
	MaxAdminBody = 16 << 10
)

// Config is what the server needs besides its services. Fields marked live can change while the
// server runs (SetConfig).
type Config struct {
	// DefaultRate applies per key and route when a key has no rate of its own (live).
	DefaultRate string
	// ChatRate, VoiceRate and AdminRate, when set, replace DefaultRate on the routes of the
	// chat, voice and admin scopes (live); a key's own rate still wins.
	ChatRate, VoiceRate, AdminRate string
	// AddressRate limits, per remote address, the requests that fail authentication (no key,
	// a malformed, unknown, revoked or expired one); it is checked before authentication, so
	// an address that spent it is refused without its key being looked at (live; "" = none).
	AddressRate string
	// CORSOrigins are the browser origins allowed to call the API at all (live); a key's own
	// origin list narrows it further.
	CORSOrigins []string
	Version     string
}

// Server serves the API.
type Server struct {
	Engine  Engine
	Loader  ContentStatus
	Keys    Keys
	History History
	DB      Audit
	Metrics *telemetry.Metrics
	Voice   Voice // nil: the built-in engines
	Started time.Time
	// RestartPending, if set, lists settings changed that need a restart (shown on /readyz).
	RestartPending func() []string
	// Content, if set, edits the content in service (POST /v1/content/teach).
	Content ContentEditor
	// Pairing, if set, trades the dashboard's pairing codes for screen keys (POST /v1/pair).
	Pairing Pairing
	// SharedRates, if set, holds the per-key rate limits for a whole fleet (the PostgreSQL
	// store several appliances share): a key's bucket is then one for all of them. When it
	// fails (the database away), each appliance falls back to its own bucket.
	SharedRates SharedRates

	paused atomic.Bool
	audio  *ttlcache.Cache[string, []byte] // spoken replies of /v1/voice, by id
	life   life                            // turns under way and open voice streams, for Shutdown

	scrapeMu sync.Mutex
	scrapes  map[string]*scrapes // per key: the audit of its /metrics scrapes

	sharedRateWarn atomic.Bool // the shared buckets' failure was logged

	mu       sync.RWMutex
	cfg      Config
	limiters map[string]*limiter
	mux      *http.ServeMux
	routes   []string
}

// Routes lists the "METHOD /path" patterns the server registers (the OpenAPI test uses it).
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

type limiter struct {
	lim    *rate.Limiter
	burst  int
	perSec float64
	spec   string
	last   time.Time
}

// New builds the server and its routes.
func New(s *Server, cfg Config) *Server {
	s.cfg = cfg
	s.limiters = map[string]*limiter{}
	s.audio = newAudioCache()
	s.life.streams, s.life.endStreams = context.WithCancel(context.Background())
	if s.Voice == nil {
		s.Voice = voice.NewService(true)
	}
	if s.Started.IsZero() {
		s.Started = time.Now()
	}
	s.Metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "voicebot_ready",
		Help: "1 when the appliance takes turns, 0 when /readyz says it does not (no content in service, or the disk full)."},
		func() float64 {
			if reason, _ := s.notReady(); reason != "" {
				return 0
			}
			return 1
		}))
	mux := http.NewServeMux()
	route := func(pattern, name, scope string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(pattern, s.authorize(name, scope, strictQuery(pattern, h))))
		s.routes = append(s.routes, pattern)
		noteRoute(pattern, scope) // RouteTable, routes_list.go
	}
	mux.Handle("GET /healthz", s.instrument("GET /healthz", http.HandlerFunc(s.healthz)))
	s.routes = append(s.routes, "GET /healthz")
	mux.Handle("POST /v1/pair", s.instrument("POST /v1/pair", strictQuery("POST /v1/pair", s.pair)))
	s.routes = append(s.routes, "POST /v1/pair")
	route("GET /readyz", "readyz", "", s.readyz)
	route("GET /metrics", "metrics", keys.ScopeMetrics, promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP)
	route("GET /v1/openapi.json", "openapi", "", s.openapi)
	route("GET /v1/bot", "bot", keys.ScopeChat, s.botInfo)
	route("POST /v1/chat", "chat", keys.ScopeChat, s.chat)
	route("POST /v1/chat/completions", "chat_completions", keys.ScopeChat, s.chatCompletions)
	route("POST /v1/audio/transcriptions", "audio_transcriptions", keys.ScopeVoice, s.transcriptions)
	route("POST /v1/audio/speech", "audio_speech", keys.ScopeVoice, s.speech)
	route("POST /v1/voice", "voice", keys.ScopeVoice, s.voiceTurn)
	route("GET /v1/voice/audio/{id}", "voice_audio", keys.ScopeVoice, s.voiceAudio)
	route("GET /v1/voice/engines", "voice_engines", keys.ScopeVoice, s.voiceEngines)
	route("GET /v1/voice/stream", "voice_stream", keys.ScopeVoice, s.voiceStream)
	route("GET /v1/sessions", "sessions", keys.ScopeHistory, s.listSessions)
	route("GET /v1/sessions/{id}/messages", "session_messages", keys.ScopeHistory, s.sessionMessages)
	route("GET /v1/sessions/{id}/export", "session_export", keys.ScopeHistory, s.exportSession)
	route("DELETE /v1/sessions/{id}", "session_erase", keys.ScopeHistory, s.eraseSession)
	route("GET /v1/keys", "keys_list", keys.ScopeAdmin, s.listKeys)
	route("POST /v1/keys", "keys_create", keys.ScopeAdmin, s.createKey)
	route("DELETE /v1/keys/{id}", "keys_revoke", keys.ScopeAdmin, s.revokeKey)
	route("POST /v1/keys/{id}/rotate", "keys_rotate", keys.ScopeAdmin, s.rotateKey)
	route("GET /v1/audit", "audit", keys.ScopeAdmin, s.auditLog)
	route("GET /v1/content/candidates", "content_candidates", keys.ScopeAdmin, s.candidates)
	route("POST /v1/content/teach", "content_teach", keys.ScopeAdmin, s.teach)
	// A known path with another method gets a JSON 405 with Allow, not the mux's plain text.
	allow := map[string][]string{}
	var paths []string
	for _, rt := range s.routes {
		method, path, _ := strings.Cut(rt, " ")
		if _, seen := allow[path]; !seen {
			paths = append(paths, path)
		}
		allow[path] = append(allow[path], method)
	}
	for _, path := range paths {
		methods := strings.Join(allow[path], ", ")
		mux.Handle(path, s.instrument("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here; use "+methods)
		})))
	}
	mux.Handle("/", s.instrument("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such route: see /v1/openapi.json")
	})))
	s.mux = mux
	return s
}

// life counts the turns under way, so that Shutdown can wait for them, and ends the open voice
// streams.
type life struct {
	mu         sync.Mutex
	turns      int
	closing    bool
	idle       chan struct{} // closed when the last turn ends after Shutdown began
	streams    context.Context
	endStreams context.CancelFunc
}

// beginTurn registers a turn; false once the server is shutting down.
func (s *Server) beginTurn() bool {
	s.life.mu.Lock()
	defer s.life.mu.Unlock()
	if s.life.closing {
		return false
	}
	s.life.turns++
	return true
}

func (s *Server) endTurn() {
	s.life.mu.Lock()
	defer s.life.mu.Unlock()
	s.life.turns--
	if s.life.turns == 0 && s.life.idle != nil {
		close(s.life.idle)
		s.life.idle = nil
	}
}

// Shutdown refuses new turns (503 shutting_down), waits until the turns under way, over HTTP,
// in voice streams and from the desktop window, are answered and saved, or ctx ends, and then
// ends the open voice streams. The HTTP server's own Shutdown stops accepting connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.life.mu.Lock()
	s.life.closing = true
	var idle chan struct{}
	if s.life.turns > 0 {
		if s.life.idle == nil {
			s.life.idle = make(chan struct{})
		}
		idle = s.life.idle
	}
	s.life.mu.Unlock()
	defer s.life.endStreams()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("turns still under way: %w", ctx.Err())
	}
}

// SetConfig applies the live settings.
func (s *Server) SetConfig(cfg Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cfg.DefaultRate != s.cfg.DefaultRate || cfg.ChatRate != s.cfg.ChatRate || cfg.VoiceRate != s.cfg.VoiceRate ||
		cfg.AdminRate != s.cfg.AdminRate || cfg.AddressRate != s.cfg.AddressRate {
		s.limiters = map[string]*limiter{} // new limits start with full buckets
	}
	s.cfg = cfg
}

func (s *Server) config() Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}

// ServeHTTP implements http.Handler: security headers, CORS, and panics recovered: logged and
// answered with a JSON 500 when nothing of the response has gone out yet; once it has (headers,
// server-sent events, a WebSocket), a 500 would be written into the body, so the connection is
// aborted instead (http.ErrAbortHandler, which net/http closes quietly and which a handler's own
// ErrAbortHandler also gets). A request served in process (the desktop window, whose server
// does not recover panics) is never re-panicked.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	w = sw
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		_, inProcess := r.Context().Value(localKey{}).(*keys.Key)
		if v == any(http.ErrAbortHandler) {
			if !inProcess {
				panic(v)
			}
			return
		}
		slog.Error("panic in handler", "path", r.URL.Path, "panic", v, "response_begun", sw.status != 0, "stack", string(debug.Stack()))
		switch {
		case sw.status == 0:
			writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
		case !inProcess:
			panic(http.ErrAbortHandler)
		}
	}()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if origin := r.Header.Get("Origin"); origin != "" {
		if !slices.Contains(s.config().CORSOrigins, origin) {
			if r.Method == http.MethodOptions {
				writeError(w, http.StatusForbidden, CodeForbiddenOrigin, "origin "+origin+" is not allowed")
				return
			}
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, "+SessionHeader)
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, "+SessionHeader)
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
	}
	s.mux.ServeHTTP(w, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to the WebSocket of /v1/voice/stream (status 101).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument records each request's duration by method, route pattern and status code. pattern
// is the route as registered ("POST /v1/chat"); "" for the catch-alls (unknown paths and methods),
// which are recorded under the route "other" so that scanners cannot grow the label set.
func (s *Server) instrument(pattern string, h http.Handler) http.Handler {
	method, route, ok := strings.Cut(pattern, " ")
	if !ok {
		method, route = "", "other"
	}
	name := pattern
	if name == "" {
		name = "other"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m := method
		if m == "" {
			m = knownMethod(r.Method)
		}
		// the caller's traceparent, then the request's span (a no-op one, recording nothing,
		// when tracing is off: docs/OPERATIONS.md, Tracing)
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		recording := span.IsRecording() // attributes are built only for a span that keeps them
		if recording {
			span.SetAttributes(attribute.String("http.request.method", m), attribute.String("http.route", route), attribute.String("url.path", r.URL.Path))
		}
		id := requestID(r.Header.Get("X-Request-Id"), trace.SpanContextFromContext(ctx))
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(telemetry.WithRequestID(ctx, id))
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if recording {
			span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		}
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		s.Metrics.NoteRequest(m, route, sw.status, time.Since(start))
	})
}

// tracer makes the API's spans (the global provider's: no-op unless tracing is on).
// It follows the global provider in force (backend/internal/tracer says why).
var spans = tracing.New("voicebot/backend/httpapi")

func tracer() trace.Tracer { return spans.For(otel.GetTracerProvider()) }

// requestID is the X-Request-Id of a response: the caller's when it sent a sensible one (up to
// 128 printable ASCII characters), else the trace's id (the caller's traceparent, or the span
// made here when tracing is on), else 16 random bytes in hex (from the runtime's generator: an id
// to find a request by, not a secret).
func requestID(given string, sc trace.SpanContext) string {
	if given != "" && len(given) <= 128 && strings.IndexFunc(given, func(r rune) bool { return r < 0x21 || r > 0x7e }) < 0 {
		return given
	}
	if sc.HasTraceID() {
		return sc.TraceID().String()
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], mrand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], mrand.Uint64())
	return hex.EncodeToString(b[:])
}

// knownMethod is the request's method when it is one HTTP defines, else "_OTHER" (as OpenTelemetry's
// conventions say), so that a client cannot make up label values.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

type ctxKey struct{}

type localKey struct{}

// Local marks a request as coming from inside the process (the desktop window's own web view,
// whose requests never cross a network): it is served as the principal k without an
// Authorization header. Nothing outside the process can set this.
func Local(r *http.Request, k *keys.Key) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), localKey{}, k))
}

// SetPaused pauses or resumes the visitor conversation: while paused, chat routes answer 503
// with the code "paused" and GET /v1/bot says so, so that screens can show it.
func (s *Server) SetPaused(p bool) { s.paused.Store(p) }

// Paused reports whether visitor conversation is paused.
func (s *Server) Paused() bool { return s.paused.Load() }

// keyFrom returns the verified key of the request.
func keyFrom(r *http.Request) *keys.Key {
	k, _ := r.Context().Value(ctxKey{}).(*keys.Key)
	return k
}

func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// AddressGate applies the per-address allowance of failed authentications to a sign-in that is
// not an API request (the dashboard's form): with failed false it only checks that the address
// has allowance left (false: refuse it; Retry-After and the RateLimit headers are set), with
// failed true it spends one. With no address rate set it always allows.
func (s *Server) AddressGate(w http.ResponseWriter, r *http.Request, failed bool) bool {
	addrRate := s.config().AddressRate
	if addrRate == "" {
		return true
	}
	n := 0
	if failed {
		n = 1
	}
	return s.take(w, "addr\x00"+remoteAddr(r), addrRate, n)
}

// authorize checks the key, its origin, its scope and the rate limit, in that order, and
// audits the use of the key.
func (s *Server) authorize(route, scope string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, local := r.Context().Value(localKey{}).(*keys.Key)
		addrRate := s.config().AddressRate
		addrBucket := "addr\x00" + remoteAddr(r)
		if !local && addrRate != "" && !s.take(w, addrBucket, addrRate, 0) {
			// This address spent its allowance of failed authentications: refused before its
			// key is looked at, so a flood costs no hashing and no database read.
			s.Metrics.NoteRateLimited(route)
			writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests without a valid key from this address; retry after the Retry-After seconds")
			return
		}
		refuse := func(status int, code, msg string) {
			s.Metrics.AuthFailures.WithLabelValues(code).Inc()
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="voicebot"`)
				if !local && addrRate != "" {
					s.take(w, addrBucket, addrRate, 1)
				}
			}
			writeError(w, status, code, msg)
		}
		auth := r.Header.Get("Authorization")
		if auth == "" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			// Browsers cannot set headers on a WebSocket: the key comes as the subprotocol
			// "bearer.<key>" next to "voicebot.v1" (the one the server selects).
			for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
				if key, ok := strings.CutPrefix(strings.TrimSpace(p), "bearer."); ok {
					auth = "Bearer " + key
				}
			}
		}
		if k, ok := r.Context().Value(localKey{}).(*keys.Key); ok && auth == "" {
			if scope != "" && !k.Has(scope) {
				refuse(http.StatusForbidden, CodeForbiddenScope, fmt.Sprintf("the %s lacks the %q scope", k.Name, scope))
				return
			}
			next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, k)))
			return
		}
		if auth == "" {
			refuse(http.StatusUnauthorized, CodeUnauthorized, "send an API key: Authorization: Bearer vb_...")
			return
		}
		presented, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			refuse(http.StatusUnauthorized, CodeMalformedKey, "the Authorization header must be: Bearer <key>")
			return
		}
		k, err := s.Keys.Verify(r.Context(), strings.TrimSpace(presented))
		switch {
		case errors.Is(err, keys.ErrMalformed):
			refuse(http.StatusUnauthorized, CodeMalformedKey, err.Error())
			return
		case errors.Is(err, keys.ErrChecksum):
			refuse(http.StatusUnauthorized, CodeBadChecksum, err.Error())
			return
		case errors.Is(err, keys.ErrUnknown):
			refuse(http.StatusUnauthorized, CodeUnknownKey, "this key was not issued by this appliance")
			return
		case errors.Is(err, keys.ErrRevoked):
			refuse(http.StatusUnauthorized, CodeRevokedKey, "this key has been revoked")
			return
		case errors.Is(err, keys.ErrExpired):
			refuse(http.StatusUnauthorized, CodeExpiredKey, "this key has expired")
			return
		case err != nil:
			slog.Error("verify key", "err", err)
			writeError(w, http.StatusInternalServerError, CodeInternal, "could not check the key")
			return
		}
		if !k.AllowsOrigin(r.Header.Get("Origin")) {
			refuse(http.StatusForbidden, CodeForbiddenOrigin, "this key may not be used from origin "+r.Header.Get("Origin"))
			return
		}
		if scope != "" && !k.Has(scope) {
			refuse(http.StatusForbidden, CodeForbiddenScope, fmt.Sprintf("this key lacks the %q scope", scope))
			return
		}
		if !s.allow(r.Context(), w, k, route, scope) {
			s.Metrics.NoteRateLimited(route)
			writeError(w, http.StatusTooManyRequests, CodeRateLimited, "rate limit reached for this key on this route; retry after the Retry-After seconds")
			return
		}
		if auditedRoutes[route] {
			// Uses of history and admin routes are audited one by one, scrapes of /metrics once
			// an hour per key (with the count between); chat turns are recorded with their key
			// in the conversation history instead.
			audit, detail := true, ""
			if route == "metrics" {
				var n int
				if audit, n = s.auditScrape(k.ID, time.Now()); audit && n > 0 {
					detail = fmt.Sprintf("%d more scrapes since the last entry", n)
				}
			}
			if audit {
				if err := s.DB.Audit(r.Context(), store.AuditEntry{Actor: k.ID, Action: "use." + route, Target: r.URL.Path, Remote: remoteAddr(r), Detail: detail}); err != nil {
					slog.Error("audit entry not written", "action", "use."+route, "actor", k.ID, "err", err)
				}
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, k)))
	})
}

var auditedRoutes = map[string]bool{
	"metrics": true, "sessions": true, "session_messages": true, "session_export": true, "session_erase": true,
	"keys_list": true, "keys_create": true, "keys_revoke": true, "keys_rotate": true, "audit": true,
	"content_candidates": true, "content_teach": true,
}

// routeRate is the rate per key of a route of the scope, for keys without a rate of their own.
func (s *Server) routeRate(scope string) string {
	cfg := s.config()
	var spec string
	switch scope {
	case keys.ScopeChat:
		spec = cfg.ChatRate
	case keys.ScopeVoice:
		spec = cfg.VoiceRate
	case keys.ScopeAdmin:
		spec = cfg.AdminRate
	}
	if spec == "" {
		spec = cfg.DefaultRate
	}
	return spec
}

// SharedRateTimeout bounds the wait for the fleet's rate bucket; past it the appliance's own
// bucket decides.
const SharedRateTimeout = 250 * time.Millisecond

// SharedRates keeps rate buckets for several appliances at once (postgres.DB.TakeRate): it spends
// n requests from bucket id of perSec a second with burst, and says whether they may go and
// what is left of the burst.
type SharedRates interface {
	TakeRate(ctx context.Context, id string, perSec float64, burst, n int) (ok bool, remaining float64, err error)
}

// allow takes a token from the key's bucket for the route: the key's own rate, else the route's
// (chat, voice, admin), else the default; from the fleet's bucket when the store is shared.
func (s *Server) allow(ctx context.Context, w http.ResponseWriter, k *keys.Key, route, scope string) bool {
	spec := k.Rate
	if spec == "" {
		spec = s.routeRate(scope)
	}
	if spec == "" {
		return true
	}
	id := "key\x00" + k.ID + "\x00" + route
	if s.SharedRates != nil {
		if perSec, burst, err := config.ParseRate(spec); err == nil {
			// bounded: a database that does not answer (a cut cable, a full pool) must not hold
			// every request; the appliance's own bucket then decides
			tctx, cancel := context.WithTimeout(ctx, SharedRateTimeout)
			ok, left, err := s.SharedRates.TakeRate(tctx, id, perSec, burst, 1)
			cancel()
			if err == nil {
				if s.sharedRateWarn.CompareAndSwap(true, false) {
					slog.Info("fleet rate limits: the shared store answers again; the fleet's buckets apply")
				}
				setRateHeaders(w, burst, perSec, left, ok)
				return ok
			}
			if ctx.Err() == nil && s.sharedRateWarn.CompareAndSwap(false, true) {
				slog.Warn("fleet rate limits: the shared store is unreachable; each appliance counts on its own until it is back", "err", err)
			}
		}
	}
	return s.take(w, id, spec, 1)
}

// maxBuckets bounds the token buckets kept in memory.
const maxBuckets = 100000

// take takes n tokens (0: only looks) from the bucket id, of rate spec (N/PERIOD), and sets the
// RateLimit headers (IETF draft: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset in
// seconds, RateLimit-Policy), with Retry-After when refused (a look that passes sets none). It reports whether the request may
// go on: the tokens were there (n > 0), or at least one is (n == 0).
func (s *Server) take(w http.ResponseWriter, id, spec string, n int) bool {
	now := time.Now()
	s.mu.Lock()
	l := s.limiters[id]
	if l == nil || l.spec != spec { // the rate is parsed when a bucket is made, not per request
		perSec, burst, err := config.ParseRate(spec)
		if err != nil {
			s.mu.Unlock()
			return true // validated when set; never reached
		}
		if len(s.limiters) >= maxBuckets { // bound memory: drop idle buckets, or all of them
			for key, v := range s.limiters {
				if now.Sub(v.last) > time.Hour {
					delete(s.limiters, key)
				}
			}
			if len(s.limiters) >= maxBuckets {
				s.limiters = map[string]*limiter{}
			}
		}
		l = &limiter{lim: rate.NewLimiter(rate.Limit(perSec), burst), burst: burst, perSec: perSec, spec: spec}
		s.limiters[id] = l
	}
	perSec, burst := l.perSec, l.burst
	l.last = now
	var ok bool
	if n > 0 {
		ok = l.lim.AllowN(now, n)
	} else {
		ok = l.lim.TokensAt(now) >= 1
	}
	tokens := l.lim.TokensAt(now)
	s.mu.Unlock()
	if n == 0 && ok {
		return true // a look that lets the request on says nothing: the key's bucket will
	}
	setRateHeaders(w, burst, perSec, tokens, ok)
	return ok
}

// setRateHeaders sets the RateLimit headers of a bucket of burst and perSec with tokens left,
// and Retry-After when the request was refused.
func setRateHeaders(w http.ResponseWriter, burst int, perSec, tokens float64, ok bool) {
	h := w.Header()
	h.Set("RateLimit-Limit", strconv.Itoa(burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(0, int(math.Floor(tokens)))))
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil((float64(burst)-tokens)/perSec))))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", burst, int(math.Round(float64(burst)/perSec))))
	if !ok {
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil((1-tokens)/perSec)))))
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := s.Loader.Status()
	body := map[string]any{
		"ready":           s.Engine.Snapshot() != nil,
		"version":         s.config().Version,
		"uptime_seconds":  int(time.Since(s.Started).Seconds()),
		"content":         st,
		"restart_pending": []string{},
	}
	if s.RestartPending != nil {
		if p := s.RestartPending(); len(p) > 0 {
			body["restart_pending"] = p
		}
	}
	reason, detail := s.notReady()
	ready := reason == ""
	body["ready"] = ready
	if reason == CodeStorageFull {
		// the last write failed for want of disk space: turns are refused until space is freed
		body["reason"] = reason
		body["storage_full"] = detail
	}
	if !ready {
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// notReady says why the appliance does not take turns, "" when it does: no_content (none in
// service yet), or storage_full (the last write failed for want of disk space), with the
// detail. /readyz and the voicebot_ready gauge say it.
func (s *Server) notReady() (reason, detail string) {
	if s.Engine.Snapshot() == nil {
		return "no_content", "no content in service"
	}
	if sf, ok := s.DB.(interface{ StorageFull() error }); ok {
		if err := sf.StorageFull(); err != nil {
			return CodeStorageFull, err.Error()
		}
	}
	return "", ""
}

// MetricsAuditEvery is how often a key's /metrics scrapes are audited: a scraper every 15 s would
// otherwise make an audit entry, a durable write, per scrape.
const MetricsAuditEvery = time.Hour

type scrapes struct {
	audited time.Time // when the last entry was written
	since   int       // scrapes since then
}

// auditScrape reports whether this scrape of the key is audited (its first, or the first after
// MetricsAuditEvery) and how many scrapes came between.
func (s *Server) auditScrape(keyID string, now time.Time) (bool, int) {
	s.scrapeMu.Lock()
	defer s.scrapeMu.Unlock()
	if s.scrapes == nil {
		s.scrapes = map[string]*scrapes{}
	}
	sc := s.scrapes[keyID]
	if sc == nil {
		if len(s.scrapes) >= maxBuckets {
			s.scrapes = map[string]*scrapes{}
		}
		sc = &scrapes{}
		s.scrapes[keyID] = sc
	}
	if !sc.audited.IsZero() && now.Sub(sc.audited) < MetricsAuditEvery {
		sc.since++
		return false, 0
	}
	n := sc.since
	sc.audited, sc.since = now, 0
	return true, n
}

// scrapesSinceAudit is how many scrapes of the key came since its last audit entry.
func (s *Server) scrapesSinceAudit(keyID string) int {
	s.scrapeMu.Lock()
	defer s.scrapeMu.Unlock()
	if sc := s.scrapes[keyID]; sc != nil {
		return sc.since
	}
	return 0
}
