package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrationFailingHalfwayRollsBack: a migration whose second statement fails leaves the
// store as it was (its first statement undone, the version unchanged, the data kept), and the
// store opens and migrates once the cause is gone. Migration 0006 adds messages.heard, then
// messages.offer; a store at version 5 that already has an offer column (an operator's hand
// edit, say) makes the second ALTER fail after the first has run.
func TestMigrationFailingHalfwayRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	key := testKey(23)
	old := openAt(t, path, key, 5)
	if _, err := old.Exec(`INSERT INTO sessions(id, state, created_ms, updated_ms) VALUES ('s1', '{}', 1, 1);
		INSERT INTO messages(session_id, turn, role, text, created_ms) VALUES ('s1', 1, 'visitor', 'kept through a failed migration', 1);
		ALTER TABLE messages ADD COLUMN offer TEXT`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	_, err := Open(context.Background(), path, key)
	if err == nil || !strings.Contains(err.Error(), "0006") {
		t.Fatalf("Open with migration 0006 failing halfway: %v, want its error", err)
	}

	after := openAt(t, path, key, 5) // migrates nothing: the store is at 5
	var version, heard, n int
	var text string
	if err := after.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil || version != 5 {
		t.Errorf("version after the failed migration: %d %v, want 5", version, err)
	}
	if err := after.QueryRow(`SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'heard'`).Scan(&heard); err != nil || heard != 0 {
		t.Errorf("the failed migration's first statement was kept (messages.heard: %d, %v)", heard, err)
	}
	if err := after.QueryRow(`SELECT count(*), max(text) FROM messages`).Scan(&n, &text); err != nil || n != 1 || text != "kept through a failed migration" {
		t.Errorf("data after the failed migration: %d rows, %q, %v", n, text, err)
	}
	if _, err := after.Exec(`ALTER TABLE messages DROP COLUMN offer`); err != nil {
		t.Fatal(err)
	}
	after.Close()

	db := openTest(t, path, key)
	if v, err := db.SchemaVersion(context.Background()); err != nil || v < 6 {
		t.Fatalf("version once the cause is gone: %d %v", v, err)
	}
	if err := db.Read().QueryRow(`SELECT count(*), max(text) FROM messages WHERE heard IS NULL AND offer IS NULL`).Scan(&n, &text); err != nil || n != 1 || text != "kept through a failed migration" {
		t.Errorf("data after migrating: %d rows, %q, %v", n, text, err)
	}
}
