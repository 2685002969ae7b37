// Package dashboard is the operator's view of the appliance at /dashboard: server-rendered with
// a-h/templ (components.templ; the generated components_templ.go is committed and `go tool templ
// generate` rebuilds it), readable without JavaScript. Access is for admin keys only: a sign-in
// with the key starts a session held in an HttpOnly, SameSite=Strict cookie (Secure over TLS);
// every form carries a CSRF token bound to the session; sessions expire.
package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	vbembed "voicebot/embed"
)

// SessionTTL is how long a dashboard sign-in lasts.
const SessionTTL = 12 * time.Hour

const cookieName = "vb_dashboard"

// linkActor is the actor of a session opened by a one-time link (no key behind it).
const linkActor = "link"

// Dashboard serves the pages. Build it with New. Its services are the interfaces of deps.go,
// declared by what the pages use: the appliance passes keys.Service, history.Store, store.DB (the
// audit log), StoreView (the pages' queries), telemetry's Rollup, the engine, its loader and the
// voice service; the handler tests pass in-memory ones.
type Dashboard struct {
	Keys     Keys          // required: sign-in and the Keys page
	Audit    Audit         // required: the audit log
	Data     Queries       // required: what the pages read from the stored data
	History  History       // the Conversations pages
	Loader   ContentStatus // the Overview and Content pages
	Engine   Engine        // the Content, Teach and Settings pages
	Rollup   Rollup        // the Metrics page
	Voice    Voice         // nil: no speech engines shown
	Logs     Logs          // the Logs view beside the audit log; nil: it says the log is not kept
	Settings SettingsService
	Content  ContentService // nil: the content cannot be edited from here
	Screens  Screens        // nil: no screen pairing nor HTTPS details on the Keys page
	Version  string
	// Appliance is this appliance's name in a fleet (marked on the Overview's fleet list).
	Appliance string
	Listen    func() string
	Started   time.Time
	// AddressGate, if set, limits failed sign-ins per remote address with the API's allowance
	// of failed authentications (httpapi.Server.AddressGate).
	AddressGate func(w http.ResponseWriter, r *http.Request, failed bool) bool

	mu       sync.Mutex
	sessions map[string]*signIn        // by SHA-256 of the cookie token
	check    *conversation.CheckReport // the last content check, of its content version
	mux      *http.ServeMux
}

type signIn struct {
	keyID   string // the admin key that signed in, or linkActor
	csrf    string
	expires time.Time
}

// New builds the dashboard's routes. Keys, Audit and Data must be set.
func New(d *Dashboard) *Dashboard {
	if d.Keys == nil || d.Audit == nil || d.Data == nil {
		panic("dashboard.New: Keys, Audit and Data are required")
	}
	d.sessions = map[string]*signIn{}
	if d.Started.IsZero() {
		d.Started = time.Now()
	}
	m := http.NewServeMux()
	static := http.StripPrefix("/dashboard/static/", http.FileServerFS(vbembed.DashboardAssets()))
	m.Handle("GET /dashboard/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		static.ServeHTTP(w, r)
	}))
	m.HandleFunc("GET /dashboard/sign-in", d.signInPage)
	m.HandleFunc("POST /dashboard/sign-in", d.signIn)
	m.HandleFunc("GET /dashboard/link", d.link)
	m.HandleFunc("POST /dashboard/sign-out", d.signed(d.signOut))
	m.HandleFunc("GET /dashboard/{$}", d.signed(d.overview))
	m.HandleFunc("GET /dashboard/conversations", d.signed(d.conversations))
	m.HandleFunc("GET /dashboard/conversations/{id}", d.signed(d.transcript))
	m.HandleFunc("GET /dashboard/conversations/{id}/export.json", d.signed(d.exportJSON))
	m.HandleFunc("GET /dashboard/conversations/{id}/export.csv", d.signed(d.exportCSV))
	m.HandleFunc("POST /dashboard/conversations/{id}/erase", d.signed(d.erase))
	m.HandleFunc("GET /dashboard/audit", d.signed(d.audit))
	m.HandleFunc("GET /dashboard/logs", d.signed(d.logs))
	m.HandleFunc("GET /dashboard/metrics", d.signed(d.metrics))
	m.HandleFunc("GET /dashboard/content", d.signed(d.content))
	m.HandleFunc("POST /dashboard/content/reload", d.signed(d.reload))
	m.HandleFunc("POST /dashboard/content/editable", d.signed(d.makeEditable))
	m.HandleFunc("GET /dashboard/teach", d.signed(d.teachPage))
	m.HandleFunc("POST /dashboard/teach", d.signed(d.teach))
	m.HandleFunc("GET /dashboard/settings", d.signed(d.settings))
	m.HandleFunc("POST /dashboard/settings", d.signed(d.saveSettings))
	m.HandleFunc("GET /dashboard/keys", d.signed(d.keysGet))
	m.HandleFunc("POST /dashboard/keys", d.signed(d.keysCreate))
	m.HandleFunc("POST /dashboard/keys/{id}/revoke", d.signed(d.keysRevoke))
	m.HandleFunc("POST /dashboard/keys/{id}/rotate", d.signed(d.keysRotate))
	m.HandleFunc("POST /dashboard/keys/pair", d.signed(d.keysPair))
	m.HandleFunc("/dashboard/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	})
	d.mux = m
	return d
}

// ServeHTTP implements http.Handler with the pages' security headers.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if !strings.HasPrefix(r.URL.Path, "/dashboard/static/") {
		h.Set("Cache-Control", "no-store")
	}
	d.mux.ServeHTTP(w, r)
}

func token() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return string(h[:])
}

func remote(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// signed lets only signed-in requests through, and checks the CSRF token of every POST.
func (d *Dashboard) signed(next func(http.ResponseWriter, *http.Request, *signIn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		var s *signIn
		if err == nil {
			d.mu.Lock()
			s = d.sessions[hashToken(c.Value)]
			if s != nil && time.Now().After(s.expires) {
				delete(d.sessions, hashToken(c.Value))
				s = nil
			}
			d.mu.Unlock()
		}
		if s != nil && s.keyID != linkActor {
			// The session is only as good as the admin key that opened it: revoked, rotated
			// (which revokes) or expired, the session ends now, not at its own expiry.
			switch err := d.Keys.Active(r.Context(), s.keyID); {
			case errors.Is(err, keys.ErrRevoked), errors.Is(err, keys.ErrExpired), errors.Is(err, keys.ErrUnknown):
				d.mu.Lock()
				delete(d.sessions, hashToken(c.Value))
				d.mu.Unlock()
				s = nil
			case err != nil:
				slog.Error("dashboard: check the session's key", "key", s.keyID, "err", err)
				http.Error(w, "could not check the key of this sign-in; try again", http.StatusServiceUnavailable)
				return
			}
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/dashboard/sign-in", http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			got := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				http.Error(w, "the form's CSRF token is missing or wrong: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		next(w, r, s)
	}
}

// writeAudit appends an audit entry; a failed write is logged, not dropped.
func (d *Dashboard) writeAudit(r *http.Request, e store.AuditEntry) {
	if err := d.Audit.Audit(r.Context(), e); err != nil {
		slog.Error("audit entry not written", "action", e.Action, "actor", e.Actor, "err", err)
	}
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		slog.Error("render dashboard page", "path", r.URL.Path, "err", err)
	}
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, signInForm(""))
}

// signIn checks an admin key and starts a session.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	if d.AddressGate != nil && !d.AddressGate(w, r, false) {
		d.writeAudit(r, store.AuditEntry{Actor: "dashboard", Action: "dashboard.sign_in_refused", Remote: remote(r), Detail: "too many failed sign-ins from this address"})
		d.render(w, r, http.StatusTooManyRequests, signInForm("Too many failed sign-ins from this address: try again in "+w.Header().Get("Retry-After")+" s."))
		return
	}
	presented := strings.TrimSpace(r.PostFormValue("key"))
	k, err := d.Keys.Verify(r.Context(), presented)
	if err == nil && !k.Has(keys.ScopeAdmin) {
		err = errors.New("this key has no admin scope")
	}
	if err != nil {
		if d.AddressGate != nil {
			d.AddressGate(w, r, true)
		}
		d.writeAudit(r, store.AuditEntry{Actor: "dashboard", Action: "dashboard.sign_in_refused", Remote: remote(r), Detail: err.Error()})
		d.render(w, r, http.StatusUnauthorized, signInForm("That key cannot sign in: "+err.Error()))
		return
	}
	d.startSession(w, r, k.ID)
}

// startSession signs the browser in as actor (a key id, or "link") and lands on the overview.
func (d *Dashboard) startSession(w http.ResponseWriter, r *http.Request, actor string) {
	t := token()
	d.mu.Lock()
	for h, s := range d.sessions { // drop expired sign-ins
		if time.Now().After(s.expires) {
			delete(d.sessions, h)
		}
	}
	d.sessions[hashToken(t)] = &signIn{keyID: actor, csrf: token(), expires: time.Now().Add(SessionTTL)}
	d.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: t, Path: "/dashboard", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(SessionTTL.Seconds())})
	d.writeAudit(r, store.AuditEntry{Actor: actor, Action: "dashboard.sign_in", Remote: remote(r)})
	http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
}

func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request, s *signIn) {
	if c, err := r.Cookie(cookieName); err == nil {
		d.mu.Lock()
		delete(d.sessions, hashToken(c.Value))
		d.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/dashboard", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	d.writeAudit(r, store.AuditEntry{Actor: s.keyID, Action: "dashboard.sign_out", Remote: remote(r)})
	http.Redirect(w, r, "/dashboard/sign-in", http.StatusSeeOther)
}

func (d *Dashboard) page(title, active string, s *signIn) page {
	return page{Title: title, Active: active, CSRF: s.csrf, Signed: true}
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, s *signIn) {
	data, err := d.overviewData(r.Context())
	if err != nil {
		http.Error(w, "could not read the store", http.StatusInternalServerError)
		return
	}
	d.render(w, r, http.StatusOK, overview(d.page("Overview", "Overview", s), data))
}

func (d *Dashboard) overviewData(ctx context.Context) (OverviewData, error) {
	o := OverviewData{Version: d.Version, Uptime: time.Since(d.Started), Content: d.Loader.Status(), Appliance: d.Appliance}
	if d.Listen != nil {
		o.Listen = d.Listen()
		host, _, _ := net.SplitHostPort(o.Listen)
		ip := net.ParseIP(host)
		o.LAN = ip == nil || !ip.IsLoopback()
	}
	now := time.Now()
	storage, err := d.Data.StorageForecast(ctx, now)
	if err != nil {
		return o, err
	}
	o.Storage = storage
	t, err := d.Data.Totals(ctx, now)
	o.Sessions, o.Messages, o.ActiveKeys = t.Sessions, t.Messages, t.ActiveKeys
	if err != nil {
		return o, err
	}
	o.Fleet, err = d.Data.Fleet(ctx)
	o.Now = now
	return o, err
}

func (d *Dashboard) conversations(w http.ResponseWriter, r *http.Request, s *signIn) {
	qv := r.URL.Query()
	f := ConversationFilter{Q: qv.Get("q"), Lang: qv.Get("lang"), Key: qv.Get("key"), Intent: qv.Get("intent"), From: qv.Get("from"), To: qv.Get("to"), Appliance: qv.Get("appliance")}
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	if len(f.Appliance) > 63 {
		http.Error(w, "an appliance name is at most 63 characters", http.StatusBadRequest)
		return
	}
	lq := history.ListQuery{Search: f.Q, Lang: f.Lang, KeyID: f.Key, Intent: f.Intent, Appliance: f.Appliance, Limit: 100}
	for _, x := range []struct {
		v   string
		dst *int64
		add time.Duration
	}{{f.From, &lq.From, 0}, {f.To, &lq.To, 24 * time.Hour}} {
		if x.v == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", x.v, time.Local)
		if err != nil {
			http.Error(w, "dates must be YYYY-MM-DD", http.StatusBadRequest)
			return
		}
		*x.dst = day.Add(x.add).UnixMilli()
	}
	list, err := d.History.List(r.Context(), lq)
	if err != nil {
		http.Error(w, "could not read the conversations", http.StatusInternalServerError)
		return
	}
	if f.Fleet, err = d.fleetNames(r.Context()); err != nil {
		http.Error(w, "could not read the fleet", http.StatusInternalServerError)
		return
	}
	var langs []string
	if snap := d.Engine.Snapshot(); snap != nil {
		langs = snap.Languages()
	}
	d.render(w, r, http.StatusOK, conversations(d.page("Conversations", "Conversations", s), f, langs, list))
}

func (d *Dashboard) transcript(w http.ResponseWriter, r *http.Request, s *signIn) {
	id := r.PathValue("id")
	msgs, err := d.History.Messages(r.Context(), id)
	if errors.Is(err, history.ErrNoSession) {
		http.Error(w, "no such conversation", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "could not read the conversation", http.StatusInternalServerError)
		return
	}
	d.render(w, r, http.StatusOK, transcript(d.page("Conversation", "Conversations", s), id, msgs))
}

// auditPage is how many audit entries a page shows.
const auditPage = 100

func (d *Dashboard) audit(w http.ResponseWriter, r *http.Request, s *signIn) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Appliance: q.Get("appliance"), Limit: auditPage}
	if len(f.Actor) > 64 || len(f.Action) > 32 || len(f.Appliance) > 63 {
		http.Error(w, "filter values are too long", http.StatusBadRequest)
		return
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "before must be an entry number", http.StatusBadRequest)
			return
		}
		f.Before = n
	}
	entries, err := d.Audit.AuditSearch(r.Context(), f)
	if err != nil {
		http.Error(w, "could not read the audit log", http.StatusInternalServerError)
		return
	}
	next := ""
	if len(entries) == auditPage {
		v := url.Values{"before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		if f.Actor != "" {
			v.Set("actor", f.Actor)
		}
		if f.Action != "" {
			v.Set("action", f.Action)
		}
		if f.Appliance != "" {
			v.Set("appliance", f.Appliance)
		}
		next = "/dashboard/audit?" + v.Encode()
	}
	fleet, err := d.fleetNames(r.Context())
	if err != nil {
		http.Error(w, "could not read the fleet", http.StatusInternalServerError)
		return
	}
	d.render(w, r, http.StatusOK, audit(d.page("Audit log", "Audit log", s), f, fleet, entries, next))
}

// fleetNames are the names of the appliances sharing the store, for the filters (none on a
// store of one appliance's own).
func (d *Dashboard) fleetNames(ctx context.Context) ([]string, error) {
	fleet, err := d.Data.Fleet(ctx)
	var names []string
	for _, a := range fleet {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	return names, err
}

// fleetLive says whether an appliance of the fleet has heartbeat lately (three beats).
func fleetLive(now time.Time, a Appliance) bool {
	return now.Sub(time.UnixMilli(a.LastSeenMs)) < 3*FleetHeartbeat
}

// FleetHeartbeat is how often the appliances of a fleet heartbeat (appliance.HeartbeatEvery).
const FleetHeartbeat = 15 * time.Second

// seenAgo says how long ago a time in Unix ms was, roughly.
func seenAgo(now time.Time, ms int64) string {
	d := now.Sub(time.UnixMilli(ms))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h ago", d.Hours())
	}
	return time.UnixMilli(ms).Format("2006-01-02 15:04")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func share(n, of int) string {
	if of == 0 {
		return "0 %"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

func searchSuffix(q string) string {
	if q == "" {
		return ""
	}
	return fmt.Sprintf(" with %q", q)
}

// percent shows a 0..1 confidence as a whole percentage.
func percent(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) }

func roleLabel(role string) string {
	if role == "bot" {
		return "Bot"
	}
	return "Visitor"
}
