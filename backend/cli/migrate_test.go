package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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

	out, err = run(t, "", append([]string{"migrate", "--to", dsn, "--appliance", "kiosk-9"}, dirs...)...)
	if err != nil || !strings.Contains(out, "copied already") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	// the same store under another name is another copy, refused beside this one without --merge
	if _, err = run(t, "", append([]string{"migrate", "--to", dsn, "--appliance", "kiosk-10"}, dirs...)...); err == nil || !strings.Contains(err.Error(), `as "kiosk-9"`) {
		t.Fatalf("the same store under another name: %v", err)
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

// TestMain lets a test run the command line in a process of its own (VOICEBOT_CLI_ARGS, one
// argument a line), to kill it.
func TestMain(m *testing.M) {
	if args := os.Getenv("VOICEBOT_CLI_ARGS"); args != "" {
		root := Root()
		root.SetArgs(strings.Split(args, "\n"))
		if err := root.Execute(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMigrateKilled: `voicebot migrate --batch 1` in a process of its own, killed with SIGKILL
// while it copies the messages (it leaves its instance socket behind), then run again: it takes
// the data folder back, goes on from the last committed row, says so, and the database holds
// every message once.
func TestMigrateKilled(t *testing.T) {
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	srv := pgtest.Start(t)
	data, conf := t.TempDir(), t.TempDir()
	dirs := []string{"--data-dir", data, "--config-dir", conf}
	if _, err := run(t, "", append([]string{"keys", "create", "--name", "x", "--scopes", "chat"}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	db, err := appliance.OpenStore(context.Background(), appliance.Options{DataDir: data, ConfigDir: conf})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if err := db.SaveTurn(context.Background(), store.SessionRow{ID: fmt.Sprintf("s%03d", i), Lang: "en", State: []byte(`{}`), Turns: 1, CreatedMs: int64(i + 1), UpdatedMs: int64(i + 1)},
			&store.TurnRow{Visitor: "hello", Text: "Hello!", Lang: "en", Kind: "intent", AtMs: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	dsn := srv.NewDatabase(t)
	args := append([]string{"migrate", "--to", dsn, "--batch", "1", "--appliance", "kiosk-1"}, dirs...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VOICEBOT_CLI_ARGS="+strings.Join(args, "\n"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pg, err := postgres.Open(context.Background(), dsn, "kiosk-1")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var copied int64
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		err := pg.Pool().QueryRow(context.Background(), `SELECT copied FROM voicebot_migration WHERE tbl = 'messages'`).Scan(&copied)
		if err == nil && copied >= 50 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the copy did not reach the messages: %v\n%s", err, stderr.String())
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := pg.Pool().QueryRow(context.Background(), `SELECT copied FROM voicebot_migration WHERE tbl = 'messages'`).Scan(&copied); err != nil || copied >= 600 {
		t.Fatalf("killed after the copy was done (%d of 600): %v", copied, err)
	}
	out, err := run(t, "", append([]string{"migrate", "--to", dsn, "--appliance", "kiosk-1"}, dirs...)...)
	if err != nil || !strings.Contains(out, "begun earlier is complete") || !strings.Contains(out, "of them by an earlier run") {
		t.Fatalf("the rerun after kill -9 at %d of 600 messages: %v\n%s", copied, err, out)
	}
	var n, distinct int
	pg.Pool().QueryRow(context.Background(), `SELECT count(*), count(DISTINCT (session_id, role)) FROM messages`).Scan(&n, &distinct)
	if n != 600 || distinct != 600 {
		t.Fatalf("%d messages, %d distinct, want 600 once each", n, distinct)
	}
	t.Logf("killed at %d of 600 messages; the rerun:\n%s", copied, out)
}
