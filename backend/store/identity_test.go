package store

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
)

// TestIdentity: a store's identity is the same each time it is opened with its key, another
// store's differs, and it shows nothing of the key.
func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	a := openTest(t, filepath.Join(dir, "a.db"), k1)
	id := a.Identity()
	a.Close()
	a = openTest(t, filepath.Join(dir, "a.db"), k1)
	defer a.Close()
	b := openTest(t, filepath.Join(dir, "b.db"), k2)
	defer b.Close()
	if a.Identity() != id || len(id) != 32 || b.Identity() == id {
		t.Fatalf("identities %s, %s, %s", id, a.Identity(), b.Identity())
	}
	if strings.Contains(id, hex.EncodeToString(k1)[:8]) {
		t.Fatal("the identity shows the key")
	}
}
