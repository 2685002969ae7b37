package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func openTest(t *testing.T, path string, key []byte) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenMigratesAndPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(1))
	ctx := context.Background()
	if v, err := db.SchemaVersion(ctx); err != nil || v != 9 {
		t.Fatalf("schema version %d %v", v, err)
	}
	err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'cli', 'test', 'a secret visitor question about tortoises')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2 := openTest(t, path, testKey(1))
	var detail string
	if err := db2.Read().QueryRow(`SELECT detail FROM audit`).Scan(&detail); err != nil || !strings.Contains(detail, "tortoises") {
		t.Fatalf("after reopening: %q %v", detail, err)
	}
}

func TestEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v.db")
	db := openTest(t, path, testKey(2))
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'cli', 'plaintext-marker-action', 'PLAINTEXT-MARKER tortoise')`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.Read().QueryRow(`SELECT count(*) FROM audit WHERE detail = 'PLAINTEXT-MARKER tortoise'`).Scan(&n); err != nil || n != 50 {
		t.Fatalf("%d marker rows stored (%v), want 50: the files below must hold them", n, err)
	}
	// Read the files while the store is open (the WAL holds the rows) and after it closed.
	check := func(when string) {
		files, _ := filepath.Glob(filepath.Join(dir, "v.db*"))
		if len(files) == 0 {
			t.Fatal("no store files")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, marker := range []string{"PLAINTEXT-MARKER", "tortoise", "CREATE TABLE", "SQLite format 3", "api_keys"} {
				if bytes.Contains(b, []byte(marker)) {
					t.Errorf("%s, %s holds %q in plain text", when, filepath.Base(f), marker)
				}
			}
		}
	}
	check("open")
	db.Close()
	check("closed")
	// And the rows are there, for the right key.
	db2 := openTest(t, path, testKey(2))
	if err := db2.Read().QueryRow(`SELECT count(*) FROM audit WHERE detail = 'PLAINTEXT-MARKER tortoise'`).Scan(&n); err != nil || n != 50 {
		t.Errorf("after reopening: %d marker rows (%v), want 50", n, err)
	}
}

func TestWrongKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	db := openTest(t, path, testKey(3))
	db.Close()
	_, err := Open(context.Background(), path, testKey(4))
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys", "store.key")
	storeFile := filepath.Join(dir, "v.db")
	t.Setenv("VOICEBOT_NO_KEYRING", "1") // never touch the keyring of the machine running the tests
	k1, src, err := LoadKey(keyFile, storeFile)
	if err != nil || len(k1) != 32 || src != "file" {
		t.Fatal(src, err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode().Perm())
	}
	k2, _, _ := LoadKey(keyFile, storeFile)
	if !bytes.Equal(k1, k2) {
		t.Error("key changed between loads")
	}
	os.WriteFile(storeFile, []byte("x"), 0o600)
	os.Remove(keyFile)
	if _, _, err := LoadKey(keyFile, storeFile); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("store without key: %v", err)
	}
	os.WriteFile(keyFile, []byte("00"), 0o600)
	if _, _, err := LoadKey(keyFile, storeFile); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged key: %v", err)
	}
	t.Setenv("VOICEBOT_STORE_KEY", strings.Repeat("ab", 32))
	if k, src, err := LoadKey(keyFile, storeFile); err != nil || k[0] != 0xab || src != "env" {
		t.Errorf("env key: %v", err)
	}
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"), testKey(5))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx *Tx) error {
				if i%10 == 0 {
					_, err := tx.Exec(`INSERT INTO nonexistent VALUES (1)`)
					return err
				}
				_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action) VALUES (?, 'cli', 'w')`, i)
				return err
			})
		}(i)
	}
	wg.Wait()
	failed := 0
	for _, e := range errs {
		if e != nil {
			failed++
		}
	}
	var n int
	db.Read().QueryRow(`SELECT count(*) FROM audit`).Scan(&n)
	if failed != 20 || n != 180 {
		t.Errorf("failed %d (want 20), rows %d (want 180)", failed, n)
	}
}

func TestBackupIsConsistentAndEncrypted(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, filepath.Join(dir, "v.db"), testKey(6))
	ctx := context.Background()
	db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO audit(at_ms, actor, action, detail) VALUES (1, 'cli', 'x', 'BACKUP-MARKER')`)
		return err
	})
	dst := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); bytes.Contains(b, []byte("BACKUP-MARKER")) || len(b) == 0 {
		t.Errorf("backup is empty or in plain text")
	}
	b := openTest(t, dst, testKey(6))
	var detail string
	if err := b.Read().QueryRow(`SELECT detail FROM audit`).Scan(&detail); err != nil || detail != "BACKUP-MARKER" {
		t.Errorf("backup content %q %v", detail, err)
	}
	if err := db.Backup(ctx, dst); err == nil {
		t.Error("backup over an existing file")
	}
}
