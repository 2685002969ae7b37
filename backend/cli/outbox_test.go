package cli

import (
	"context"
	"os"
	"testing"

	"voicebot/backend/appliance"
	"voicebot/backend/paths"
	"voicebot/backend/store"
)

// TestEraseOnAKioskReachesItsOutbox: on a kiosk that forwards to a fleet database (fleet: in the
// settings file of its config folder), `voicebot erase` opens the store with its outbox, so the
// erasure is shipped to the fleet database like one made on the dashboard, and the
// conversation's unshipped turns are dropped from the outbox.
func TestEraseOnAKioskReachesItsOutbox(t *testing.T) {
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	data, conf := t.TempDir(), t.TempDir()
	if err := os.WriteFile(paths.SettingsFile(conf), []byte("fleet:\n  store: postgres://kiosk@127.0.0.1:1/voicebot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sf := storeFlags{dataDir: data, configDir: conf}
	o, err := sf.options()
	if err != nil || o.Fleet.Store == "" {
		t.Fatalf("the commands' options do not carry fleet: %+v %v", o.Fleet, err)
	}
	ctx := context.Background()
	db, err := appliance.OpenStore(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone", "kept"} {
		if err := db.SaveTurn(ctx, store.SessionRow{ID: id, State: []byte(`{}`), Turns: 1, CreatedMs: 1, UpdatedMs: 1}, &store.TurnRow{Visitor: "hello", Text: "hi", AtMs: 1}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, err := run(t, "", "erase", "--session", "gone", "--data-dir", data, "--config-dir", conf); err != nil {
		t.Fatal(err)
	}
	sq, err := appliance.OpenStore(ctx, appliance.Options{DataDir: data, ConfigDir: conf, Fleet: o.Fleet})
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	rows, err := sq.(*store.DB).OutboxPeek(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Kind+":"+r.SessionID)
	}
	want := []string{"turn:kept", "erase:gone", "audit:"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("the kiosk's outbox after voicebot erase: %v, want %v", got, want)
	}
}
