package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"voicebot/backend/appliance"
	"voicebot/backend/conversation"
	"voicebot/backend/history"
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
	newID := strings.Fields(out)[0][3:11]
	if _, err := run(t, "", append([]string{"keys", "revoke", newID}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", append([]string{"keys", "revoke", "nokey123"}, dirs...)...); err == nil {
		t.Error("revoking an unknown key succeeded")
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
	db.Close()

	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := run(t, "", append([]string{"backup", backup}, dirs...)...); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Size() == 0 {
		t.Fatalf("backup file: %v", err)
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
