package httpapi

// The recover middleware (issue 16): a panic after the response began aborts the connection
// instead of writing a 500 into the body; http.ErrAbortHandler is passed on to net/http; a panic
// in an in-process (window) request never escapes; 500s from turns are logged.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"voicebot/backend/conversation"
	"voicebot/backend/internal/testlog"
	"voicebot/backend/keys"
)

// captureLog sends slog's default logger into a buffer for the test.
func captureLog(t *testing.T) *testlog.Buffer { return testlog.Capture(t) }

func TestRecoverAfterResponseBegan(t *testing.T) {
	f := newFixture(t, Config{})
	log := captureLog(t)
	f.api.mux.HandleFunc("GET /test/panic-midstream", func(w http.ResponseWriter, r *http.Request) {
		sse := newSSE(w)
		sse.event("delta", map[string]string{"text": "half a"})
		panic("boom midstream")
	})
	f.api.mux.HandleFunc("GET /test/abort", func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	f.api.mux.HandleFunc("GET /test/panic-early", func(w http.ResponseWriter, r *http.Request) {
		panic("boom early")
	})

	// After the first event: the stream is cut, no 500 written into it.
	res, err := f.srv.Client().Get(f.srv.URL + "/test/panic-midstream")
	if err != nil {
		t.Fatal(err)
	}
	body, rerr := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.Contains(string(body), `"code":"internal"`) {
		t.Errorf("panic mid-stream: %d, body %q", res.StatusCode, body)
	}
	if rerr == nil {
		t.Errorf("panic mid-stream: the stream ended as if complete (%q); the connection must be aborted", body)
	}
	if !strings.Contains(log.String(), "boom midstream") {
		t.Errorf("the panic is not logged: %s", log.String())
	}

	// http.ErrAbortHandler goes on to net/http: the connection is aborted, no 500.
	if res, err := f.srv.Client().Get(f.srv.URL + "/test/abort"); err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Errorf("ErrAbortHandler answered %d %q", res.StatusCode, b)
	}

	// Before anything was written: the JSON 500.
	if r := f.do("GET", "/test/panic-early", "", ""); r.status != 500 || r.code() != CodeInternal {
		t.Errorf("panic before the response: %d %s", r.status, r.body)
	}

	// In process (the desktop window): never re-panicked, nothing written after the start.
	rec := httptest.NewRecorder()
	req := Local(httptest.NewRequest("GET", "/test/panic-midstream", nil), &keys.Key{ID: "window", Scopes: []string{"chat"}})
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Errorf("an in-process request's panic escaped: %v", v)
			}
		}()
		f.api.ServeHTTP(rec, req)
	}()
	if strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Errorf("in process: a 500 written into the stream: %q", rec.Body.String())
	}
}

// failingSessions fails every save, as a full disk would.
type failingSessions struct{ conversation.SessionStore }

func (failingSessions) Put(context.Context, *conversation.State, *conversation.Turn) error {
	return errors.New("disk I/O error: database or disk is full")
}

func TestTurn500IsLogged(t *testing.T) {
	f := newFixture(t, Config{})
	e := conversation.New(failingSessions{f.history})
	e.Swap(demoSnapshot(t))
	f.api.Engine = e
	log := captureLog(t)
	k := f.key("", "chat")
	r := f.do("POST", "/v1/chat", k, `{"text":"hello"}`)
	if r.status != 500 || r.code() != CodeInternal {
		t.Fatalf("failed save: %d %s", r.status, r.body)
	}
	if !strings.Contains(log.String(), "database or disk is full") {
		t.Errorf("the failed turn is not logged: %q", log.String())
	}
}
