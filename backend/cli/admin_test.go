package cli

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/appliance"
	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/paths"
	"voicebot/backend/store"
)

// TestKeysBackupExportErase drives the operator commands on a real store in temporary folders.
func TestKeysBackupExportErase(t *testing.T) {
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	data, conf := t.TempDir(), t.TempDir()
	dirs := []string{"--data-dir", data, "--config-dir", conf}
	out, err := run(t, "", append([]string{"keys", "create", "--name", "lobby tablet", "--scopes", "chat,history", "--rate", "60/m"}, dirs...)...)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Fields(out)[0]
	if !strings.HasPrefix(key, "vb_") {
		t.Fatalf("keys create printed %q", out)
	}
	if _, err := run(t, "", append([]string{"keys", "create", "--name", "x", "--scopes", "root"}, dirs...)...); err == nil {
		t.Error("a bad scope was accepted")
	}
	out, _ = run(t, "", append([]string{"keys", "list", "--json"}, dirs...)...)
	var list []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].Name != "lobby tablet" || strings.Contains(out, key) {
		t.Fatalf("keys list: %s %v", out, err)
	}
	id := list[0].ID
	out, err = run(t, "", append([]string{"keys", "rotate", id}, dirs...)...)
	if err != nil || !strings.HasPrefix(out, "vb_") {
		t.Fatalf("rotate: %q %v", out, err)
	}
	rotated := strings.Fields(out)[0]
	newID := rotated[3:11]
	if _, err := run(t, "", append([]string{"keys", "revoke", newID}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", append([]string{"keys", "revoke", "nokey123"}, dirs...)...); err == nil {
		t.Error("revoking an unknown key succeeded")
	}
	// An operator's admin key, revoked from the command line.
	out, err = run(t, "", append([]string{"keys", "create", "--name", "operator laptop", "--scopes", "admin"}, dirs...)...)
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.Fields(out)[0]
	if _, err := run(t, "", append([]string{"keys", "revoke", admin[3:11]}, dirs...)...); err != nil {
		t.Fatal(err)
	}

	// a conversation to export and erase
	o := appliance.Options{DataDir: data, ConfigDir: conf}
	o.Resolve()
	db, err := appliance.OpenStore(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	e := conversation.New(history.New(db))
	demo, _ := contentSource("")
	if err := conversation.NewLoader(e, demo, "demo").Reload(); err != nil {
		t.Fatal(err)
	}
	r, err := e.Reply(context.Background(), conversation.Request{Text: "where is the cafe"})
	if err != nil {
		t.Fatal(err)
	}
	// The revoked key and the one it was rotated from are refused.
	ks := keys.NewService(db)
	for name, k := range map[string]string{"revoked": rotated, "rotated away": key, "revoked admin": admin} {
		if _, err := ks.Verify(context.Background(), k); !errors.Is(err, keys.ErrRevoked) {
			t.Errorf("the %s key: Verify returned %v, want %v", name, err, keys.ErrRevoked)
		}
	}
	db.Close()

	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := run(t, "", append([]string{"backup", backup}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	// The backup opens with the store's key and holds what the store held.
	storeKey, _, err := store.LoadKey(paths.KeyFile(conf, data), paths.StoreFile(data))
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := store.Open(context.Background(), backup, storeKey)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	var sessions, messages, apiKeys, revoked int
	var text string
	if err := bdb.Read().QueryRow(`SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM api_keys), (SELECT count(*) FROM api_keys WHERE revoked_ms IS NOT NULL),
		(SELECT text FROM messages WHERE session_id = ? AND role = 'visitor')`, r.SessionID).Scan(&sessions, &messages, &apiKeys, &revoked, &text); err != nil {
		t.Fatalf("read the backup: %v", err)
	}
	bdb.Close()
	if sessions != 1 || messages != 2 || apiKeys != 3 || revoked != 3 || text != "where is the cafe" {
		t.Errorf("backup holds %d sessions, %d messages (%q), %d keys of which %d revoked; want 1, 2 (where is the cafe), 3, 3", sessions, messages, text, apiKeys, revoked)
	}
	out, err = run(t, "", append([]string{"export", "--session", r.SessionID}, dirs...)...)
	if err != nil || !strings.Contains(out, "Harbour Café") {
		t.Fatalf("export: %v %s", err, out)
	}
	if _, err := run(t, "", append([]string{"erase", "--session", r.SessionID}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", append([]string{"export", "--session", r.SessionID}, dirs...)...); err == nil {
		t.Error("export after erase succeeded")
	}
}
