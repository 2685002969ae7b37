package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"testing"

	"voicebot/backend/appliance"
	"voicebot/backend/internal/pgtest"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
)

// TestMigrateCommand drives `voicebot migrate` as an operator would: a store made with the
// command line (a key) and a turn, copied into a real PostgreSQL server (backend/internal/pgtest);
// the output verifies the counts and says how to switch over without printing the password; the
// key then works against PostgreSQL through `keys list --store` and the keys service; a second
// run says the copy is complete.
func TestMigrateCommand(t *testing.T) {
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	srv := pgtest.Start(t)
	data, conf := t.TempDir(), t.TempDir()
	dirs := []string{"--data-dir", data, "--config-dir", conf}
	out, err := run(t, "", append([]string{"keys", "create", "--name", "lobby tablet", "--scopes", "chat"}, dirs...)...)
	if err != nil {
		t.Fatal(err)
	}
	plain := strings.Fields(out)[0]
	o := appliance.Options{DataDir: data, ConfigDir: conf}
	db, err := appliance.OpenStore(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"sess-a", "sess-b"} {
		if err := db.SaveTurn(context.Background(), store.SessionRow{ID: id, Lang: "en", State: []byte(`{"n":1}`), Turns: 1, CreatedMs: int64(i + 1), UpdatedMs: int64(i + 1)},
			&store.TurnRow{Visitor: "when do you open", Heard: []byte(`{"transcript":"when do you open","confidence":0.8}`), Text: "At nine.", Lang: "en", Kind: "intent", AtMs: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	dsn := srv.NewDatabase(t)
	out, err = run(t, "", append([]string{"migrate", "--to", dsn, "--batch", "1", "--appliance", "kiosk-9"}, dirs...)...)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	t.Logf("voicebot migrate:\n%s", out)
	for _, want := range []string{"Counts:", "sessions", "messages", "api_keys", " ok", "store: postgres://" + srv.User + "@127.0.0.1:", "xxxxx", "appliance: kiosk-9", "voicebot.db", "pg_dump"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "DIFFERENT") || strings.Contains(out, srv.Password) {
		t.Fatalf("counts differ or the password is printed:\n%s", out)
	}

	out, err = run(t, "", append([]string{"keys", "list", "--json", "--store", dsn}, dirs...)...)
	var list []struct{ Name string }
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Name != "lobby tablet" {
		t.Fatalf("keys list on PostgreSQL: %v %s", err, out)
	}
	pg, err := postgres.Open(context.Background(), dsn, "kiosk-9")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if _, err := keys.NewService(pg).Verify(context.Background(), plain); err != nil {
		t.Fatalf("the key made before the copy does not authenticate against PostgreSQL: %v", err)
	}
	if ms, err := pg.SessionMessages(context.Background(), "sess-b"); err != nil || len(ms) != 2 || ms[0].Heard == nil {
		t.Fatalf("sess-b on PostgreSQL: %v %+v", err, ms)
	}

	out, err = run(t, "", append([]string{"migrate", "--to", dsn}, dirs...)...)
	if err != nil || !strings.Contains(out, "copied already") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
}

// TestMigrateRefuses: the appliance running on the data folder, no --to, a URL that is not
// PostgreSQL, a data folder with no store, a server that does not answer (the error is clear
// and holds no password).
func TestMigrateRefuses(t *testing.T) {
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	data, conf := t.TempDir(), t.TempDir()
	dirs := []string{"--data-dir", data, "--config-dir", conf}

	if out, err := run(t, "", append([]string{"migrate", "--to", "postgres://u@127.0.0.1:1/db"}, dirs...)...); err == nil || !strings.Contains(err.Error(), "no SQLite store") {
		t.Fatalf("no store: %v %s", err, out)
	}
	if _, err := run(t, "", append([]string{"keys", "create", "--name", "x", "--scopes", "chat"}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", append([]string{"migrate"}, dirs...)...); err == nil || !strings.Contains(err.Error(), "--to is required") {
		t.Fatalf("no --to: %v", err)
	}
	if _, err := run(t, "", append([]string{"migrate", "--to", "mysql://u:pw@db/x"}, dirs...)...); err == nil || !strings.Contains(err.Error(), "PostgreSQL URL") {
		t.Fatalf("a MySQL URL: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	secret := "s3cret-Pass"
	to := (&url.URL{Scheme: "postgres", User: url.UserPassword("voicebot", secret), Host: closed, Path: "/fleet", RawQuery: "sslmode=disable"}).String()
	out, err := run(t, "", append([]string{"migrate", "--to", to}, dirs...)...)
	if err == nil || !strings.Contains(err.Error(), "cannot use the database") || strings.Contains(err.Error()+out, secret) {
		t.Fatalf("an unreachable server: %v\n%s", err, out)
	}

	inst, err := appliance.AcquireInstance(data) // the appliance, running
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Release()
	_, err = run(t, "", append([]string{"migrate", "--to", to}, dirs...)...)
	if err == nil || !strings.Contains(err.Error(), "already running") || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("while the appliance runs: %v", err)
	}
}
