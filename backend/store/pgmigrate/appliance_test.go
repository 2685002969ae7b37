package pgmigrate_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"voicebot/backend/appliance"
	"voicebot/backend/internal/pgtest"
	"voicebot/backend/keys"
	"voicebot/backend/paths"
	"voicebot/backend/store"
	"voicebot/backend/store/pgmigrate"
	"voicebot/backend/store/postgres"
)

// TestApplianceAfterMigrate is the switch-over as an operator does it: an appliance runs on its
// SQLite store (a key, a conversation over HTTPS from a screen that trusts its CA), stops; its
// store is copied; it starts again on PostgreSQL under its name. The screen's TLS client, with
// only the old CA, still connects and is shown the same server certificate (not a new one), the
// key made before works, and the conversation goes on with its memory.
func TestApplianceAfterMigrate(t *testing.T) {
	srv := pgtest.Start(t)
	key := newKey()
	t.Setenv("VOICEBOT_STORE_KEY", hex.EncodeToString(key))
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	data, conf := t.TempDir(), t.TempDir()
	o := appliance.Options{DataDir: data, ConfigDir: conf, Listen: "127.0.0.1:0", NoDiscovery: true, Appliance: "kiosk-1"}

	a, err := appliance.Start(ctx, o)
	must(t, err)
	plain, _, err := a.Keys.Create(ctx, keys.Spec{Name: "screen", Scopes: []string{"chat"}}, "test", "")
	must(t, err)
	caPool := x509.NewCertPool()
	caPool.AppendCertsFromPEM(a.CACertPEM())
	screen := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool}}}
	first, leaf1 := chat(t, screen, a.Addr(), plain, `{"text":"What are the opening hours?"}`)
	must(t, a.Close(ctx))

	db, err := store.Open(ctx, paths.StoreFile(data), key)
	must(t, err)
	dsn := srv.NewDatabase(t)
	pg, err := postgres.Open(ctx, dsn, "kiosk-1")
	must(t, err)
	res, err := pgmigrate.Run(ctx, pgmigrate.Options{Source: db, Target: pg, Appliance: "kiosk-1"})
	db.Close()
	pg.Close()
	if err != nil || !res.OK() {
		t.Fatalf("migrate: %v %+v", err, res)
	}

	o.Store = dsn
	b, err := appliance.Start(ctx, o)
	must(t, err)
	defer b.Close(ctx)
	second, leaf2 := chat(t, screen, b.Addr(), plain, fmt.Sprintf(`{"text":"and on sunday?","session_id":%q}`, first.SessionID))
	if !bytes.Equal(leaf1.Raw, leaf2.Raw) {
		t.Fatalf("the appliance shows another server certificate after the switch (serial %v, was %v)", leaf2.SerialNumber, leaf1.SerialNumber)
	}
	if second.SessionID != first.SessionID || !strings.Contains(second.Reply.Text, "15:00") {
		t.Fatalf("the conversation did not go on with its memory: %+v", second)
	}
	if !strings.HasPrefix(b.Store.Describe(), "postgres") {
		t.Fatalf("the appliance runs on %s", b.Store.Describe())
	}
}

type chatReply struct {
	SessionID string `json:"session_id"`
	Reply     struct{ Text, Intent string }
}

// chat makes one chat turn over HTTPS and returns the reply and the server's certificate.
func chat(t *testing.T, c *http.Client, addr, key, body string) (chatReply, *x509.Certificate) {
	t.Helper()
	req, _ := http.NewRequest("POST", "https://"+addr+"/v1/chat", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("https chat: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var r chatReply
	if res.StatusCode != 200 || json.Unmarshal(b, &r) != nil {
		t.Fatalf("chat: %d %s", res.StatusCode, b)
	}
	return r, res.TLS.PeerCertificates[0]
}
