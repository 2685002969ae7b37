package httpapi

// The fixture of the hardening tests (issue 16): the API over a real store in a temporary
// folder, the demo content and a real HTTP server on loopback.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
	vbembed "voicebot/embed"
)

var (
	demoOnce sync.Once
	demoSnap *conversation.Snapshot
	demoErr  error
)

// demoSnapshot builds the demo content's snapshot once per test binary (training takes seconds
// under the race detector); snapshots are immutable and shared by every engine.
func demoSnapshot(t *testing.T) *conversation.Snapshot {
	t.Helper()
	demoOnce.Do(func() {
		e := conversation.New(conversation.NewMemorySessions(10, 0))
		if demoErr = conversation.NewLoader(e, vbembed.DemoContent(), "demo").Reload(); demoErr == nil {
			demoSnap = e.Snapshot()
		}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoSnap
}

type fixture struct {
	t       *testing.T
	api     *Server
	srv     *httptest.Server
	db      *store.DB
	keys    *keys.Service
	history *history.Store
	engine  *conversation.Engine
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, keys: keys.NewService(db), history: history.New(db)}
	f.engine = conversation.New(f.history)
	f.engine.Swap(demoSnapshot(t))
	if cfg.DefaultRate == "" {
		cfg.DefaultRate = "6000/m"
	}
	f.api = New(&Server{Engine: f.engine, Loader: conversation.NewLoader(f.engine, vbembed.DemoContent(), "demo"), Keys: f.keys, History: f.history, DB: db, Metrics: telemetry.New()}, cfg)
	f.srv = httptest.NewServer(f.api)
	t.Cleanup(func() {
		f.srv.Close()
		db.Close()
	})
	return f
}

// key issues a key with the scopes (and rate, if given).
func (f *fixture) key(rate string, scopes ...string) string {
	f.t.Helper()
	plain, _, err := f.keys.Create(context.Background(), keys.Spec{Name: "test", Scopes: scopes, Rate: rate}, "test", "")
	if err != nil {
		f.t.Fatal(err)
	}
	return plain
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) code() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request with the key ("" for none) and header pairs.
func (f *fixture) do(method, path, key, body string, header ...string) response {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// historyListAll lists every session of a test's store.
func historyListAll() history.ListQuery { return history.ListQuery{Limit: 200} }
