package dashboard

// Handler tests without a store (issue 16): the dashboard built with New over small in-memory
// implementations of the interfaces it consumes (deps.go) and the real engine over in-memory
// sessions with the demo content. The other tests of this package (hardening_session_test.go,
// teach_test.go, metrics_test.go) and backend/appliance are the integration layer over the real
// store; these check the pages' own behaviour: what they pass to the services and show of what
// they are given. TestUnitOpensNoStoreFile proves they open no store file.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"voicebot/backend/config"
	"voicebot/backend/content"
	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
	vbembed "voicebot/embed"
)

// memAudit is the audit log in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []store.AuditEntry
	filters []store.AuditFilter
}

func (a *memAudit) Audit(_ context.Context, e store.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	e.ID = int64(len(a.entries) + 1)
	a.entries = append(a.entries, e)
	return nil
}

func (a *memAudit) AuditSearch(_ context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.filters = append(a.filters, f)
	var out []store.AuditEntry
	for i := len(a.entries) - 1; i >= 0; i-- { // newest first, as the store answers
		e := a.entries[i]
		if (f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || e.Action == f.Action) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (a *memAudit) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.entries {
		out = append(out, e.Actor+" "+e.Action+" "+e.Remote)
	}
	return out
}

// memKeys holds keys by their plain text; like keys.Service, it audits what it changes with the
// actor and remote address it is given.
type memKeys struct {
	mu      sync.Mutex
	audit   *memAudit
	byPlain map[string]*keys.Key
	created []keys.Spec
}

func (m *memKeys) find(id string) *keys.Key {
	for _, k := range m.byPlain {
		if k.ID == id {
			return k
		}
	}
	return nil
}

func (m *memKeys) Active(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch k := m.find(id); {
	case k == nil:
		return keys.ErrUnknown
	case k.Revoked != nil:
		return keys.ErrRevoked
	}
	return nil
}

func (m *memKeys) Verify(_ context.Context, presented string) (*keys.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch k := m.byPlain[presented]; {
	case k == nil:
		return nil, keys.ErrUnknown
	case k.Revoked != nil:
		return nil, keys.ErrRevoked
	default:
		return k, nil
	}
}

func (m *memKeys) List(context.Context) ([]*keys.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*keys.Key
	for _, k := range m.byPlain {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *keys.Key) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memKeys) Create(ctx context.Context, sp keys.Spec, actor, remote string) (string, *keys.Key, error) {
	if sp.Name == "" {
		return "", nil, errors.New("a key needs a name")
	}
	m.mu.Lock()
	m.created = append(m.created, sp)
	plain := fmt.Sprintf("vb_plain%02d", len(m.created))
	k := &keys.Key{ID: fmt.Sprintf("new%02d", len(m.created)), Name: sp.Name, Scopes: sp.Scopes, Rate: sp.Rate, Origins: sp.Origins, Created: time.Now()}
	m.byPlain[plain] = k
	m.mu.Unlock()
	return plain, k, m.audit.Audit(ctx, store.AuditEntry{Actor: actor, Action: "key.create", Target: k.ID, Remote: remote})
}

func (m *memKeys) Revoke(ctx context.Context, id, actor, remote string) error {
	m.mu.Lock()
	k := m.find(id)
	if k == nil {
		m.mu.Unlock()
		return keys.ErrNoKey
	}
	now := time.Now()
	k.Revoked = &now
	m.mu.Unlock()
	return m.audit.Audit(ctx, store.AuditEntry{Actor: actor, Action: "key.revoke", Target: id, Remote: remote})
}

func (m *memKeys) Rotate(ctx context.Context, id, actor, remote string) (string, *keys.Key, error) {
	return "", nil, keys.ErrNoKey
}

// memHistory holds two conversations and records what it was asked.
type memHistory struct {
	mu      sync.Mutex
	queries []history.ListQuery
	erased  []string
	msgs    map[string][]history.Message
}

func (h *memHistory) List(_ context.Context, q history.ListQuery) ([]history.Session, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queries = append(h.queries, q)
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	all := []history.Session{
		{ID: "s_hours", Lang: "en", Turns: 2, Updated: at, Preview: "what are the opening hours <b>now</b>?"},
		{ID: "s_wifi", Lang: "es", Turns: 1, Updated: at, Preview: "¿hay wifi?"},
	}
	var out []history.Session
	for _, s := range all {
		if (q.Lang == "" || s.Lang == q.Lang) && strings.Contains(s.Preview, q.Search) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (h *memHistory) Messages(_ context.Context, id string) ([]history.Message, error) {
	m, ok := h.msgs[id]
	if !ok {
		return nil, history.ErrNoSession
	}
	return m, nil
}

func (h *memHistory) Export(_ context.Context, id, actor, remote string) (*history.Export, error) {
	m, ok := h.msgs[id]
	if !ok {
		return nil, history.ErrNoSession
	}
	return &history.Export{Session: history.Session{ID: id, Lang: "en", Turns: len(m) / 2}, Messages: m}, nil
}

func (h *memHistory) Erase(_ context.Context, id, actor, remote string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.msgs[id]; !ok {
		return history.ErrNoSession
	}
	h.erased = append(h.erased, id+" by "+actor+" from "+remote)
	delete(h.msgs, id)
	return nil
}

// memQueries answers the pages' queries with fixed data and records what was asked.
type memQueries struct {
	mu         sync.Mutex
	totals     Totals
	forecast   telemetry.Forecast
	unanswered []Count
	samples    []Sample
	groups     []TeachGroup
	links      map[string]bool
	asked      []string
	fleet      []Appliance
}

func (q *memQueries) note(s string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.asked = append(q.asked, s)
}

func (q *memQueries) Totals(context.Context, time.Time) (Totals, error) { return q.totals, nil }
func (q *memQueries) Fleet(context.Context) ([]Appliance, error)        { return q.fleet, nil }

func (q *memQueries) StorageForecast(context.Context, time.Time) (telemetry.Forecast, error) {
	return q.forecast, nil
}
func (q *memQueries) Unanswered(_ context.Context, since time.Time) ([]Count, error) {
	return q.unanswered, nil
}
func (q *memQueries) Samples(_ context.Context, since time.Time, names ...string) ([]Sample, error) {
	var out []Sample
	for _, s := range q.samples {
		if !s.At.Before(since) && slices.Contains(names, s.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}
func (q *memQueries) TeachGroups(_ context.Context, since time.Time, below float64) ([]TeachGroup, error) {
	q.note(fmt.Sprintf("teach %.0fh below %.2f", time.Since(since).Hours(), below))
	return q.groups, nil
}
func (q *memQueries) UseLink(_ context.Context, token string) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ok := q.links[token]
	delete(q.links, token) // used up, whatever happens next
	return ok, nil
}

// memSettings is the appliance's settings in memory.
type memSettings struct {
	mu      sync.Mutex
	live    config.Settings
	changes []string
}

func (s *memSettings) LiveSettings() config.Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}
func (s *memSettings) ChangeSettingsIf(check func(config.Settings) error, n config.Settings, actor, remote string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := check(s.live); err != nil {
		return err
	}
	s.live = n
	s.changes = append(s.changes, n.RateLimit+" by "+actor+" from "+remote)
	return nil
}
func (s *memSettings) RestartPending() []string { return nil }

// memContent is an editable content folder that records what it was taught.
type memContent struct {
	mu     sync.Mutex
	taught []string
}

func (c *memContent) ContentDir() string         { return "/srv/content" }
func (c *memContent) ContentEditable() error     { return nil }
func (c *memContent) DefaultEditableDir() string { return "/srv/content" }
func (c *memContent) MakeEditable(context.Context, string, string, string) (string, string, error) {
	return "", "", errors.New("already editable")
}
func (c *memContent) Teach(_ context.Context, t content.Teach, actor, remote string) (conversation.Taught, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.taught = append(c.taught, fmt.Sprintf("%s|%s|%s by %s", t.Text, t.Lang, t.Intent, actor))
	return conversation.Taught{Edit: content.Edit{Text: t.Text, Intent: t.Intent, File: "intents/en.yaml", Line: 12, Changed: true}, Version: 2}, nil
}

// loadedRollup is the real in-memory rollup, its stored history taken as read.
type loadedRollup struct{ *telemetry.Rollup }

func (loadedRollup) Loaded() bool { return true }

var demo struct {
	once   sync.Once
	engine *conversation.Engine
	loader *conversation.Loader
	err    error
}

// demoEngine is the engine over in-memory sessions with the demo content, shared by the tests.
func demoEngine(t *testing.T) (*conversation.Engine, *conversation.Loader) {
	t.Helper()
	demo.once.Do(func() {
		demo.engine = conversation.New(conversation.NewMemorySessions(100, time.Hour))
		demo.loader = conversation.NewLoader(demo.engine, vbembed.DemoContent(), "demo")
		demo.err = demo.loader.Reload()
	})
	if demo.err != nil {
		t.Fatal(demo.err)
	}
	return demo.engine, demo.loader
}

type unit struct {
	t        *testing.T
	d        *Dashboard
	audit    *memAudit
	keys     *memKeys
	history  *memHistory
	data     *memQueries
	settings *memSettings
	content  *memContent
	rollup   loadedRollup
	cookie   *http.Cookie
	csrf     string
}

// The unit's keys: "vb_admin" (admin), "vb_chat" (chat only).
func newUnit(t *testing.T) *unit {
	t.Helper()
	e, l := demoEngine(t)
	u := &unit{t: t, audit: &memAudit{}, data: &memQueries{links: map[string]bool{"good-link": true}},
		settings: &memSettings{live: config.Settings{RateLimit: "60/m", LogLevel: "info"}},
		content:  &memContent{}, rollup: loadedRollup{telemetry.NewRollup()}}
	u.keys = &memKeys{audit: u.audit, byPlain: map[string]*keys.Key{
		"vb_admin": {ID: "kadmin", Name: "operator", Scopes: []string{keys.ScopeAdmin}},
		"vb_chat":  {ID: "kchat", Name: "tablet", Scopes: []string{keys.ScopeChat}},
	}}
	conf := 0.35
	u.history = &memHistory{msgs: map[string][]history.Message{"s_hours": {
		{At: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), Turn: 1, Role: "visitor", Text: "=HYPERLINK(\"x\")", Lang: "en",
			Heard: &conversation.Heard{Transcript: "what are the opening hours", Confidence: 0.82, Alternatives: []string{"what are the hours", "+1 open"}}},
		{At: time.Date(2026, 11, 29, 10, 0, 1, 0, time.UTC), Turn: 1, Role: "bot", Text: "We open at ten.", Lang: "en", Kind: "repair", Intent: "opening_hours", Confidence: &conf, Offer: "what are the opening hours"},
	}}}
	u.d = New(&Dashboard{Keys: u.keys, Audit: u.audit, Data: u.data, History: u.history, Loader: l, Engine: e,
		Rollup: u.rollup, Settings: u.settings, Content: u.content, Version: "v-unit", Listen: func() string { return "192.168.1.20:8750" }})
	return u
}

// do serves one request from 192.0.2.7 with the unit's cookie, if signed in.
func (u *unit) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	u.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.RemoteAddr = "192.0.2.7:41000"
	if u.cookie != nil {
		r.AddCookie(u.cookie)
	}
	w := httptest.NewRecorder()
	u.d.ServeHTTP(w, r)
	return w
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in with the admin key and reads the session's CSRF token off a page.
func (u *unit) signIn() {
	u.t.Helper()
	w := u.do("POST", "/dashboard/sign-in", url.Values{"key": {"vb_admin"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/dashboard/" {
		u.t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			u.cookie = c
		}
	}
	if u.cookie == nil || !u.cookie.HttpOnly || u.cookie.SameSite != http.SameSiteStrictMode || u.cookie.Path != "/dashboard" {
		u.t.Fatalf("session cookie %+v", u.cookie)
	}
	m := csrfField.FindStringSubmatch(u.do("GET", "/dashboard/keys", nil).Body.String())
	if m == nil {
		u.t.Fatal("no CSRF token on the keys page")
	}
	u.csrf = m[1]
}

func (u *unit) post(path string, form url.Values) *httptest.ResponseRecorder {
	u.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", u.csrf)
	return u.do("POST", path, form)
}

// text is a page's body with its HTML entities decoded.
func pageText(w *httptest.ResponseRecorder) string { return html.UnescapeString(w.Body.String()) }

// TestUnitSignInAndSession: a page asks for a sign-in; a wrong key, an unknown one and a key
// without the admin scope are refused (401, audited with the reason); the admin key signs in
// (an HttpOnly, SameSite=Strict cookie); a form without its session's CSRF token, or with
// another, is refused (403) and does nothing; revoking the key ends the session; a one-time link
// signs in once.
func TestUnitSignInAndSession(t *testing.T) {
	u := newUnit(t)
	if w := u.do("GET", "/dashboard/", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/dashboard/sign-in" {
		t.Fatalf("signed out overview: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := u.do("POST", "/dashboard/sign-out", url.Values{}); w.Code != http.StatusUnauthorized {
		t.Errorf("signed out POST: %d", w.Code)
	}
	for key, why := range map[string]string{"vb_wrong": "key is not known", "vb_chat": "no admin scope"} {
		w := u.do("POST", "/dashboard/sign-in", url.Values{"key": {key}})
		if w.Code != http.StatusUnauthorized || !strings.Contains(pageText(w), "That key cannot sign in") || !strings.Contains(pageText(w), why) || len(w.Result().Cookies()) != 0 {
			t.Errorf("sign-in with %s: %d, cookies %v\n%s", key, w.Code, w.Result().Cookies(), w.Body)
		}
	}
	u.signIn()
	if w := u.do("GET", "/dashboard/audit", nil); w.Code != 200 {
		t.Fatalf("signed in, audit page: %d", w.Code)
	}
	want := []string{"dashboard dashboard.sign_in_refused 192.0.2.7", "dashboard dashboard.sign_in_refused 192.0.2.7", "kadmin dashboard.sign_in 192.0.2.7"}
	if got := u.audit.actions(); !slices.Equal(got, want) {
		t.Errorf("audited %q, want %q", got, want)
	}

	// CSRF: none, or another session's token
	for _, tok := range []string{"", "not-" + u.csrf} {
		w := u.do("POST", "/dashboard/keys/kchat/revoke", url.Values{"csrf": {tok}})
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF") {
			t.Errorf("revoke with CSRF %q: %d %s", tok, w.Code, w.Body)
		}
	}
	if err := u.keys.Active(context.Background(), "kchat"); err != nil {
		t.Errorf("a refused form revoked the key: %v", err)
	}

	// the session's key revoked elsewhere: the session ends at once
	if err := u.keys.Revoke(context.Background(), "kadmin", "cli", ""); err != nil {
		t.Fatal(err)
	}
	if w := u.do("GET", "/dashboard/audit", nil); w.Code != http.StatusSeeOther {
		t.Errorf("after its key was revoked, the session still serves: %d", w.Code)
	}

	// a one-time link signs in once
	u.cookie = nil
	if w := u.do("GET", "/dashboard/link?t=good-link", nil); w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		t.Errorf("link: %d %v", w.Code, w.Result().Cookies())
	}
	if w := u.do("GET", "/dashboard/link?t=good-link", nil); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "not valid") {
		t.Errorf("the link used again: %d", w.Code)
	}
}

// TestUnitSignOut: signing out needs the form's token, ends the session and is audited.
func TestUnitSignOut(t *testing.T) {
	u := newUnit(t)
	u.signIn()
	if w := u.post("/dashboard/sign-out", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/dashboard/sign-in" {
		t.Fatalf("sign-out: %d", w.Code)
	}
	if w := u.do("GET", "/dashboard/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("signed out, the old cookie still serves: %d", w.Code)
	}
	if got := u.audit.actions(); got[len(got)-1] != "kadmin dashboard.sign_out 192.0.2.7" {
		t.Errorf("audited %q", got)
	}
}

// TestUnitOverview: the Overview shows the figures it is given: the counts and the storage
// forecast from the queries, the content status from the loader, the address and version.
func TestUnitOverview(t *testing.T) {
	u := newUnit(t)
	u.data.totals = Totals{Sessions: 4321, Messages: 98765, ActiveKeys: 17}
	u.data.forecast = telemetry.Forecast{Stats: store.Stats{DBBytes: 5 << 20, WALBytes: 1 << 20, WALLimit: 64 << 20, VolumeFree: 20 << 30, VolumeSize: 64 << 30},
		Over: 24 * time.Hour, BytesPerDay: 3 << 20, DaysToFull: 6826}
	u.signIn()
	w := u.do("GET", "/dashboard/", nil)
	body := pageText(w)
	if w.Code != 200 {
		t.Fatalf("overview: %d", w.Code)
	}
	for _, want := range []string{"<dd>4321</dd>", "<dd>98765</dd>", "<dd>17</dd>", "5.0 MiB", "20.0 GiB of 64.0 GiB",
		"3.0 MiB a day over the last 24 h; the volume lasts more than 10 years at this rate", "v-unit", "192.168.1.20:8750", "on (keys required)", "serving", "demo"} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview does not show %q", want)
		}
	}
}

// TestUnitConversations: the list passes its filters to the history (search, language, a day
// range in local time) and shows what it gets, escaped; a bad date is 400; a transcript shows its
// messages, an unknown one is 404; erase asks first, then erases with the operator's key.
func TestUnitConversations(t *testing.T) {
	u := newUnit(t)
	u.signIn()
	w := u.do("GET", "/dashboard/conversations?q=hours&lang=en&from=2026-11-01&to=2026-11-02", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "what are the opening hours &lt;b&gt;now&lt;/b&gt;?") || strings.Contains(w.Body.String(), "hay wifi") {
		t.Fatalf("list: %d\n%s", w.Code, w.Body)
	}
	q := u.history.queries[len(u.history.queries)-1]
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local).UnixMilli()
	to := time.Date(2026, 11, 3, 0, 0, 0, 0, time.Local).UnixMilli()
	if q.Search != "hours" || q.Lang != "en" || q.From != from || q.To != to || q.Limit != 100 {
		t.Errorf("list query %+v", q)
	}
	if w := u.do("GET", "/dashboard/conversations?from=yesterday", nil); w.Code != http.StatusBadRequest {
		t.Errorf("a bad date: %d", w.Code)
	}
	w = u.do("GET", "/dashboard/conversations/s_hours", nil)
	if body := pageText(w); w.Code != 200 || !strings.Contains(body, "We open at ten.") || !strings.Contains(body, "what are the hours") {
		t.Errorf("transcript: %d\n%s", w.Code, body)
	}
	if w := u.do("GET", "/dashboard/conversations/s_none", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown transcript: %d", w.Code)
	}
	if w := u.post("/dashboard/conversations/s_hours/erase", nil); w.Code != 200 || len(u.history.erased) != 0 {
		t.Errorf("erase without confirming: %d, erased %v", w.Code, u.history.erased)
	}
	if w := u.post("/dashboard/conversations/s_hours/erase", url.Values{"confirm": {"yes"}}); w.Code != http.StatusSeeOther {
		t.Errorf("erase: %d", w.Code)
	}
	if !slices.Equal(u.history.erased, []string{"s_hours by kadmin from 192.0.2.7"}) {
		t.Errorf("erased %v", u.history.erased)
	}
	if w := u.post("/dashboard/conversations/s_hours/erase", url.Values{"confirm": {"yes"}}); w.Code != http.StatusNotFound {
		t.Errorf("erase again: %d", w.Code)
	}
}

// TestUnitExportCSV: the CSV export is the conversation's messages with a voice turn's
// transcript, confidence and alternatives and a repair's offer, a visitor's formula defused.
func TestUnitExportCSV(t *testing.T) {
	u := newUnit(t)
	u.signIn()
	w := u.do("GET", "/dashboard/conversations/s_hours/export.csv", nil)
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		w.Header().Get("Content-Disposition") != `attachment; filename="conversation-s_hours.csv"` {
		t.Fatalf("export: %d %v", w.Code, w.Header())
	}
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"at", "turn", "role", "text", "lang", "kind", "intent", "confidence", "heard", "heard_confidence", "alternatives", "offer"},
		{"2026-11-29T10:00:00Z", "1", "visitor", `'=HYPERLINK("x")`, "en", "", "", "", "what are the opening hours", "0.820", "what are the hours | +1 open", ""},
		{"2026-11-29T10:00:01Z", "1", "bot", "We open at ten.", "en", "repair", "opening_hours", "0.350", "", "", "", "what are the opening hours"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("CSV\n%q\nwant\n%q", rows, want)
	}
	w = u.do("GET", "/dashboard/conversations/s_hours/export.json", nil)
	var x history.Export
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &x) != nil || x.Session.ID != "s_hours" || len(x.Messages) != 2 || x.Messages[1].Offer != "what are the opening hours" {
		t.Errorf("JSON export: %d %s", w.Code, w.Body)
	}
	if w := u.do("GET", "/dashboard/conversations/s_none/export.csv", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown export: %d", w.Code)
	}
}

// TestUnitKeys: creating a key passes the form's spec to the keys service with the operator's key
// and address (which it audits), shows the new key once with its QR code; a bad expiry is 400
// and creates nothing; revoking calls through the same way; an unknown key is 404. The audit page
// lists the entries.
func TestUnitKeys(t *testing.T) {
	u := newUnit(t)
	u.signIn()
	w := u.post("/dashboard/keys", url.Values{"name": {"lobby"}, "scopes": {"chat", "voice"}, "rate": {" 30/m "}, "origins": {"http://a.test, http://b.test"}, "expires": {"720h"}})
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), "vb_plain01") || !strings.Contains(w.Body.String(), "data:image/png;base64,") {
		t.Fatalf("create: %d\n%s", w.Code, w.Body)
	}
	sp := u.keys.created[0]
	if sp.Name != "lobby" || !slices.Equal(sp.Scopes, []string{"chat", "voice"}) || sp.Rate != "30/m" || !slices.Equal(sp.Origins, []string{"http://a.test", "http://b.test"}) || sp.Expires != 720*time.Hour {
		t.Errorf("created with %+v", sp)
	}
	if w := u.post("/dashboard/keys", url.Values{"name": {"x"}, "expires": {"soon"}}); w.Code != http.StatusBadRequest || len(u.keys.created) != 1 {
		t.Errorf("bad expiry: %d, %d created", w.Code, len(u.keys.created))
	}
	if w := u.post("/dashboard/keys", url.Values{}); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "a key needs a name") {
		t.Errorf("refused by the service: %d", w.Code)
	}
	if w := u.post("/dashboard/keys/new01/revoke", nil); w.Code != http.StatusSeeOther {
		t.Errorf("revoke: %d %s", w.Code, w.Body)
	}
	if err := u.keys.Active(context.Background(), "new01"); !errors.Is(err, keys.ErrRevoked) {
		t.Errorf("after revoke: %v", err)
	}
	if w := u.post("/dashboard/keys/nobody/revoke", nil); w.Code != http.StatusNotFound {
		t.Errorf("revoke unknown: %d", w.Code)
	}
	got := u.audit.actions()[1:] // after the sign-in
	if want := []string{"kadmin key.create 192.0.2.7", "kadmin key.revoke 192.0.2.7"}; !slices.Equal(got, want) {
		t.Errorf("audited %q, want %q", got, want)
	}
	w = u.do("GET", "/dashboard/audit?action=key.revoke", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "key.revoke") || strings.Contains(w.Body.String(), "key.create") {
		t.Errorf("audit page: %d", w.Code)
	}
	if f := u.audit.filters[len(u.audit.filters)-1]; f.Action != "key.revoke" || f.Limit != auditPage {
		t.Errorf("audit filter %+v", f)
	}
}

// TestUnitSettingsConflict: a form opened on settings that someone changed since is refused with
// 409 and changes nothing, showing the settings as they are now; a form of the current settings
// saves with the operator's key and address.
func TestUnitSettingsConflict(t *testing.T) {
	u := newUnit(t)
	u.signIn()
	m := regexp.MustCompile(`name="version" value="([^"]+)"`).FindStringSubmatch(u.do("GET", "/dashboard/settings", nil).Body.String())
	if m == nil {
		t.Fatal("no version on the settings form")
	}
	opened := m[1]
	u.settings.mu.Lock()
	u.settings.live.RateLimit = "90/m" // another operator saved meanwhile
	u.settings.mu.Unlock()
	w := u.post("/dashboard/settings", url.Values{"version": {opened}, "rate_limit": {"30/m"}, "log_level": {"info"}})
	if w.Code != http.StatusConflict || !strings.Contains(pageText(w), "changed by someone else") || !strings.Contains(w.Body.String(), "90/m") {
		t.Errorf("stale form: %d\n%s", w.Code, w.Body)
	}
	if u.settings.LiveSettings().RateLimit != "90/m" || len(u.settings.changes) != 0 {
		t.Errorf("a stale form changed the settings: %v", u.settings.changes)
	}
	if w := u.post("/dashboard/settings", url.Values{"version": {settingsVersion(u.settings.LiveSettings())}, "rate_limit": {"30/m"}, "retention": {"nope"}}); w.Code != http.StatusBadRequest {
		t.Errorf("bad retention: %d", w.Code)
	}
	w = u.post("/dashboard/settings", url.Values{"version": {settingsVersion(u.settings.LiveSettings())}, "rate_limit": {"30/m"}, "log_level": {"info"}, "retention": {"720h"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/dashboard/settings?saved=1" {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	if got := u.settings.LiveSettings(); got.RateLimit != "30/m" || got.Retention != 720*time.Hour || !slices.Equal(u.settings.changes, []string{"30/m by kadmin from 192.0.2.7"}) {
		t.Errorf("saved %+v, changes %v", got, u.settings.changes)
	}
}

// TestUnitTeach: the Teach page lists what the query layer returns, grouped by their folded words
// (two spellings of one question are one, asked 5 times; a voice turn that heard nothing is left
// out), most asked first, each with why it is listed and how the content answers it now; the
// page's threshold is passed to the query. A choice is taught through the content service with
// the operator's key.
func TestUnitTeach(t *testing.T) {
	u := newUnit(t)
	now := time.Now().UnixMilli()
	u.data.groups = []TeachGroup{
		{Text: "can I hire the museum for a wedding", Lang: "en", Kind: "fallback", N: 3, Last: now},
		{Text: "Can I hire the museum, for a wedding?", Lang: "en", Kind: "fallback", N: 2, Last: now - 1000},
		{Text: "when do you open", Lang: "en", Kind: "intent", Intent: "opening_hours", Conf: 0.31, N: 2, Last: now},
		{Text: "where are the toilets", Lang: "en", Kind: "repair", N: 1, Last: now, Spoken: 1, Heard: 0.35, HeardSet: true},
		{Text: "", Lang: "en", Kind: "repair", N: 9, Last: now, Spoken: 9},
	}
	u.signIn()
	w := u.do("GET", "/dashboard/teach?below=0.4", nil)
	body := pageText(w)
	if w.Code != 200 {
		t.Fatalf("teach page: %d", w.Code)
	}
	if got := u.data.asked; !slices.Equal(got, []string{"teach 168h below 0.40"}) {
		t.Errorf("queried %q", got)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`<h2 class="q">([^<]*)</h2>`).FindAllStringSubmatch(body, -1) {
		listed = append(listed, m[1])
	}
	if want := []string{"can I hire the museum for a wedding", "when do you open", "where are the toilets"}; !slices.Equal(listed, want) {
		t.Errorf("listed %q, want %q", listed, want)
	}
	for _, want := range []string{"Asked 5 ×", "not answered", "unsure: intent opening_hours (0.31)", "not heard well enough: asked again", "Now: document Venue Hire", "Now answered: intent opening_hours (1.00)", "Now answered: intent where_is (1.00)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the Teach page does not show %q\n%s", want, body[strings.Index(body, "<main"):])
		}
	}
	w = u.post("/dashboard/teach", url.Values{"action": {"example"}, "text": {"when do you open"}, "lang": {"en"}, "intent": {"opening_hours"}})
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.Contains(loc, "Taught") || strings.Contains(loc, "failed=1") {
		t.Errorf("teach: %d %s", w.Code, loc)
	}
	if want := []string{"when do you open|en|opening_hours by kadmin"}; !slices.Equal(u.content.taught, want) {
		t.Errorf("taught %q", u.content.taught)
	}
	if w := u.post("/dashboard/teach", url.Values{"action": {"new_intent"}, "text": {"x"}, "name": {"y"}}); !strings.Contains(w.Header().Get("Location"), "failed=1") || len(u.content.taught) != 1 {
		t.Errorf("a new intent without a response: %s", w.Header().Get("Location"))
	}
}

// TestUnitMetrics: the Metrics page adds up the rollup's turns of the range, groups the
// unanswered questions by their words and counts the rate-limit refusals of the range.
func TestUnitMetrics(t *testing.T) {
	u := newUnit(t)
	now := time.Now()
	for i := range 6 {
		kind := "intent"
		if i >= 4 {
			kind = "fallback"
		}
		u.rollup.Add(now.Add(-time.Duration(i)*time.Minute), kind, "wifi", "kchat", 20*time.Millisecond)
	}
	u.rollup.Add(now.Add(-48*time.Hour), "intent", "wifi", "kchat", time.Millisecond) // outside 24h
	u.data.unanswered = []Count{{"Who won the football?", 3}, {"who won the football", 2}, {"do you sell umbrellas", 4}}
	u.data.samples = []Sample{{At: now.Add(-time.Hour), Name: "rate_limited", Value: 7}, {At: now.Add(-time.Minute), Name: "rate_limited", Value: 5},
		{At: now.Add(-time.Hour), Name: "cache_hits", Value: 11}, {At: now.Add(-30 * time.Hour), Name: "rate_limited", Value: 100}}
	md, err := u.d.metricsData(context.Background(), "24h", now)
	if err != nil {
		t.Fatal(err)
	}
	if md.Turns != 6 || md.Fallbacks != 2 || md.RateLimited != 12 || md.CacheHits != 11 || md.Loading {
		t.Errorf("figures %+v", md)
	}
	if want := []Count{{"Who won the football?", 5}, {"do you sell umbrellas", 4}}; !slices.Equal(md.Unanswered, want) {
		t.Errorf("unanswered %v, want %v", md.Unanswered, want)
	}
	u.signIn()
	if w := u.do("GET", "/dashboard/metrics?range=24h", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "<svg") || !strings.Contains(pageText(w), "Who won the football?") {
		t.Errorf("metrics page: %d", w.Code)
	}
}

// TestUnitOpensNoStoreFile: the handler tests above, run again in a child process under strace
// (every open and mkdir the process and its threads make, logged by the kernel's account of
// them), open no store file and make no folder: the only files opened are the test binary, the
// C library, and the system's own under /etc, /proc, /sys and /dev (the demo content is
// embedded).
func TestUnitOpensNoStoreFile(t *testing.T) {
	if os.Getenv("VOICEBOT_UNIT_CHILD") != "" {
		t.Skip("the child run")
	}
	testneeds.Tools(t, "Debian: apt-get install strace; make test installs it", "strace")
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "strace.log")
	cmd := exec.Command("strace", "-f", "-qq", "-e", "trace=open,openat,openat2,creat,mkdir,mkdirat", "-e", "status=successful", "-e", "signal=none", "-o", trace,
		bin, "-test.run", "^TestUnit", "-test.skip", "^TestUnitOpensNoStoreFile$", "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), "VOICEBOT_UNIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the handler tests under strace: %v\n%s", err, out)
	}
	// the child ran the handler tests, each passing
	ran := regexp.MustCompile(`(?m)^--- PASS: (TestUnit\w+)`).FindAllSubmatch(out, -1)
	if len(ran) < 8 {
		t.Fatalf("the child ran %d handler tests:\n%s", len(ran), out)
	}
	log, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	path := regexp.MustCompile(`^\d+\s+(\w+)\((?:AT_FDCWD|-?\d+), "([^"]*)"`)
	opened := 0
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		m := path.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		call, p := m[1], m[2]
		opened++
		system := p == bin || slices.ContainsFunc([]string{"/etc/", "/proc/", "/sys/", "/dev/", "/lib/", "/lib64/", "/usr/lib/"}, func(dir string) bool { return strings.HasPrefix(p, dir) })
		store := slices.ContainsFunc([]string{".db", "-wal", "-shm", "-journal"}, func(s string) bool { return strings.HasSuffix(p, s) })
		if strings.HasPrefix(call, "mkdir") || store || !system {
			t.Errorf("the handler tests %s %s", call, p)
		}
	}
	if opened == 0 {
		t.Fatalf("strace logged no open: the check cannot see the child\n%s", log)
	}
	if !t.Failed() {
		t.Logf("%d handler tests, %d files opened, none a store's", len(ran), opened)
	}
}

// TestUnitLogs: the Logs view beside the audit log shows the warnings and errors logged through
// a ring (newest first, escaped, with request and trace ids), filters to errors, refuses an
// unknown level, is reached from the audit page's tabs, needs a sign-in, and says so when the
// dashboard has no log kept.
func TestUnitLogs(t *testing.T) {
	u := newUnit(t)
	ring := telemetry.NewLogRing(50)
	u.d.Logs = ring
	log := slog.New(telemetry.LogHandler{Handler: ring.Wrap(slog.NewTextHandler(io.Discard, nil))})
	ctx := telemetry.WithRequestID(context.Background(), "req-42")
	log.WarnContext(ctx, "content reload failed, the previous content stays in service", "file", "bot.yaml", "err", "<line 3>")
	log.Error("store write failed", "err", "disk full")
	log.Info("not kept")

	if w := u.do("GET", "/dashboard/logs", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("logs without a sign-in: %d", w.Code)
	}
	u.signIn()
	w := u.do("GET", "/dashboard/logs", nil)
	body := pageText(w)
	if w.Code != 200 {
		t.Fatalf("logs: %d %s", w.Code, body)
	}
	for _, want := range []string{"content reload failed, the previous content stays in service", `file=bot.yaml err="<line 3>"`, "req-42", "store write failed", "WARN", "ERROR", "(2 since it started)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the logs view does not show %q", want)
		}
	}
	if strings.Contains(body, "not kept") || strings.Contains(w.Body.String(), "<line 3>") {
		t.Errorf("the view shows an info line or an unescaped attribute:\n%s", w.Body)
	}
	if i, j := strings.Index(body, "store write failed"), strings.Index(body, "content reload failed"); i > j {
		t.Error("not newest first")
	}
	body = pageText(u.do("GET", "/dashboard/logs?level=error", nil))
	if !strings.Contains(body, "store write failed") || strings.Contains(body, "content reload failed") {
		t.Error("level=error shows warnings")
	}
	if w := u.do("GET", "/dashboard/logs?level=debug", nil); w.Code != http.StatusBadRequest {
		t.Errorf("level=debug: %d", w.Code)
	}
	if body := u.do("GET", "/dashboard/audit", nil).Body.String(); !strings.Contains(body, `href="/dashboard/logs"`) {
		t.Error("the audit page has no Logs tab")
	}
	u.d.Logs = nil
	if body := pageText(u.do("GET", "/dashboard/logs", nil)); !strings.Contains(body, "without the log kept in memory") {
		t.Error("no word when there is no log kept")
	}
}
