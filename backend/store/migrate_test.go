package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
)

// openAt opens a store file migrated only up to version upTo, as an older program left it.
func openAt(t *testing.T, path string, key []byte, upTo int) *sql.DB {
	t.Helper()
	db, err := driver.Open("file:"+filepath.ToSlash(path)+"?vfs=adiantum", func(c *sqlite3.Conn) error {
		return c.Exec("PRAGMA hexkey='" + hex.EncodeToString(key) + "'")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), db, upTo); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMigrateFromThePreviousSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	key := testKey(8)
	old := openAt(t, path, key, 1)
	if _, err := old.Exec(`INSERT INTO sessions(id, state, created_ms, updated_ms) VALUES ('s1', '{}', 1, 1);
		INSERT INTO messages(session_id, turn, role, text, created_ms) VALUES ('s1', 1, 'visitor', 'kept across the upgrade', 1)`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := openTest(t, path, key)
	ctx := context.Background()
	if v, _ := db.SchemaVersion(ctx); v != 9 {
		t.Fatalf("version after upgrade %d", v)
	}
	var text string
	var heard, offer sql.NullString
	if err := db.Read().QueryRow(`SELECT text, heard, offer FROM messages WHERE session_id = 's1'`).Scan(&text, &heard, &offer); err != nil || text != "kept across the upgrade" {
		t.Fatalf("data after upgrade: %q %v", text, err)
	}
	if heard.Valid || offer.Valid {
		t.Errorf("a message from before 0006 reads as heard %v, offer %v: want both NULL (a typed turn)", heard, offer)
	}
	var idx int
	db.Read().QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'messages_unanswered'`).Scan(&idx)
	if idx != 1 {
		t.Error("migration 0004 did not create its index")
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	key := testKey(9)
	old := openAt(t, path, key, maxVersion)
	old.Exec(`PRAGMA user_version = 99`)
	old.Close()
	_, err := Open(context.Background(), path, key)
	if err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Fatalf("newer schema: %v", err)
	}
}
