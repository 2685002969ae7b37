package dashboard

// A dashboard session is only as good as the admin key that opened it: revoking, rotating or
// the expiry of that key ends the session at once (issue 16).

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// signedDashboard serves a dashboard over a real store and returns it with its key service.
func signedDashboard(t *testing.T) (*httptest.Server, *keys.Service) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ks := keys.NewService(db)
	d := New(&Dashboard{Keys: ks, Audit: db, Data: NewStoreView(db)})
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return srv, ks
}

// signInWith signs a fresh browser in with the key and returns it; it fails the test when the
// audit page is not served after the sign-in.
func signInWith(t *testing.T, srv *httptest.Server, key string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.PostForm(srv.URL+"/dashboard/sign-in", url.Values{"key": {key}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/dashboard/" {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if code, loc := getAudit(t, c, srv); code != http.StatusOK {
		t.Fatalf("signed in, the audit page answers %d (%s)", code, loc)
	}
	return c
}

func getAudit(t *testing.T, c *http.Client, srv *httptest.Server) (int, string) {
	t.Helper()
	r, err := c.Get(srv.URL + "/dashboard/audit")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode, r.Header.Get("Location")
}

func TestDashboardSessionEndsWithItsKey(t *testing.T) {
	srv, ks := signedDashboard(t)
	ctx := context.Background()
	ended := func(t *testing.T, c *http.Client, how string) {
		t.Helper()
		if code, loc := getAudit(t, c, srv); code != http.StatusSeeOther || loc != "/dashboard/sign-in" {
			t.Errorf("after the key was %s the session still serves the audit page: %d %q", how, code, loc)
		}
	}

	t.Run("revoked", func(t *testing.T) {
		plain, k, err := ks.Create(ctx, keys.Spec{Name: "op", Scopes: []string{keys.ScopeAdmin}}, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		c := signInWith(t, srv, plain)
		other := signInWith(t, srv, plain) // a second browser on the same key
		if err := ks.Revoke(ctx, k.ID, "test", ""); err != nil {
			t.Fatal(err)
		}
		ended(t, c, "revoked")
		ended(t, other, "revoked")
	})

	t.Run("rotated", func(t *testing.T) {
		plain, k, err := ks.Create(ctx, keys.Spec{Name: "op", Scopes: []string{keys.ScopeAdmin}}, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		c := signInWith(t, srv, plain)
		newPlain, _, err := ks.Rotate(ctx, k.ID, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		ended(t, c, "rotated")
		// the rotated key signs in as usual
		signInWith(t, srv, newPlain)
	})

	t.Run("expired", func(t *testing.T) {
		plain, _, err := ks.Create(ctx, keys.Spec{Name: "op", Scopes: []string{keys.ScopeAdmin}, Expires: 400 * time.Millisecond}, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		c := signInWith(t, srv, plain)
		time.Sleep(500 * time.Millisecond)
		ended(t, c, "expired")
	})

	t.Run("revoked key refuses a POST too", func(t *testing.T) {
		plain, k, err := ks.Create(ctx, keys.Spec{Name: "op", Scopes: []string{keys.ScopeAdmin}}, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		c := signInWith(t, srv, plain)
		if err := ks.Revoke(ctx, k.ID, "test", ""); err != nil {
			t.Fatal(err)
		}
		r, err := c.PostForm(srv.URL+"/dashboard/sign-out", url.Values{"csrf": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST with a revoked key's session: %d, want 401", r.StatusCode)
		}
	})
}

// TestDashboardAuditFailureLogged: a sign-in refused while the store cannot take the audit entry
// is still refused, and the lost entry is logged.
func TestDashboardAuditFailureLogged(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	d := New(&Dashboard{Keys: keys.NewService(db), Audit: db, Data: NewStoreView(db)})
	srv := httptest.NewServer(d)
	defer srv.Close()
	var buf bytes.Buffer
	var mu sync.Mutex
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil)))
	defer slog.SetDefault(prev)
	db.Close()
	r, err := http.PostForm(srv.URL+"/dashboard/sign-in", url.Values{"key": {"vb_nonsense"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(out, "dashboard.sign_in_refused") {
		t.Errorf("refused sign-in with the store closed: %d, log %q", r.StatusCode, out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
