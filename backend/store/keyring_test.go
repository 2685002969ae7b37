package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"voicebot/backend/internal/testneeds"
)

// keyringChildEnv marks the test binary re-executed inside a private session bus with
// gnome-keyring's Secret Service on it.
const keyringChildEnv = "VOICEBOT_KEYRING_TEST_CHILD"

// TestStoreKeyInOSKeyring: the store key's OS keyring branch, the desktop default. The test binary
// runs itself again inside dbus-run-session (a private session bus) with gnome-keyring-daemon
// unlocked on it, in a home folder of its own, so that the machine's own keyring is never
// touched; there LoadKey must make a new store's key in the keyring (read back with
// secret-tool, outside the Go library) and write no key file, find it again for the existing
// store, refuse to make a new key when the entry is gone (an error, never a silent new
// database), and say a damaged entry is damaged.
func TestStoreKeyInOSKeyring(t *testing.T) {
	if os.Getenv(keyringChildEnv) != "" {
		keyringChecks(t)
		return
	}
	testneeds.Tools(t, "apt-get install dbus gnome-keyring libsecret-tools", "dbus-run-session", "gnome-keyring-daemon", "secret-tool")
	home := t.TempDir()
	runtime := filepath.Join(home, "run")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// gnome-keyring-daemon --unlock reads the login keyring's password on stdin, makes the
	// keyring if there is none, and serves the Secret Service on the session bus; it ends with
	// the bus when dbus-run-session ends.
	script := `printf %s voicebot-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90; exec "$@"`
	cmd := exec.CommandContext(ctx, "dbus-run-session", "--", "sh", "-c", script, "sh",
		os.Args[0], "-test.run=^TestStoreKeyInOSKeyring$", "-test.v", "-test.count=1")
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "VOICEBOT_NO_KEYRING", "VOICEBOT_STORE_KEY", "DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, keyringChildEnv+"=1", "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_RUNTIME_DIR="+runtime)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 90 {
		t.Fatalf("gnome-keyring-daemon --unlock failed in the private session bus:\n%s", out)
	}
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestStoreKeyInOSKeyring")) {
		t.Fatalf("the keyring checks in dbus-run-session: %v\n%s", err, out)
	}
	t.Logf("in dbus-run-session with gnome-keyring:\n%s", out)
}

// secretTool runs secret-tool on the private bus, for the store's entry of account.
func secretTool(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("secret-tool", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && stderr.Len() > 0 {
		err = errors.New(err.Error() + ": " + stderr.String())
	}
	return strings.TrimSpace(string(out)), err
}

func keyringChecks(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus in the child: dbus-run-session did not set DBUS_SESSION_BUS_ADDRESS")
	}
	if !keyringUsable() {
		t.Fatal("keyringUsable is false on a session bus with VOICEBOT_NO_KEYRING unset")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "config", "store.key")
	storeFile := filepath.Join(dir, "data", "voicebot.db")
	account := filepath.Base(keyFile)
	lookup := []string{"lookup", "service", KeyringService, "username", account}

	// A new store: the key is made in the keyring, and no key file is written.
	k1, src, err := LoadKey(keyFile, storeFile)
	if err != nil || len(k1) != 32 || src != "keyring" {
		t.Fatalf("LoadKey for a new store on a desktop session: source %q, %v; want a key from the keyring", src, err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key file was written although the key went to the keyring: %v", err)
	}
	if got, err := secretTool(t, "", lookup...); err != nil || got != hex.EncodeToString(k1) {
		t.Fatalf("secret-tool lookup of %s/%s: %q %v, want the key LoadKey returned", KeyringService, account, got, err)
	}

	// The store made with it opens again with the key found in the keyring.
	db, err := Open(context.Background(), storeFile, k1)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(context.Background(), AuditEntry{Actor: "cli", Action: "test", Detail: "kept under the keyring's key"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	k2, src, err := LoadKey(keyFile, storeFile)
	if err != nil || src != "keyring" || !bytes.Equal(k1, k2) {
		t.Fatalf("LoadKey for the existing store: source %q, same key %v, %v", src, bytes.Equal(k1, k2), err)
	}
	db, err = Open(context.Background(), storeFile, k2)
	if err != nil {
		t.Fatalf("the store under the keyring's key: %v", err)
	}
	log, err := db.AuditLog(context.Background(), 0, 10)
	db.Close()
	if err != nil || len(log) != 1 || log[0].Detail != "kept under the keyring's key" {
		t.Errorf("the store's data under the keyring's key: %+v %v", log, err)
	}

	// The entry gone: an error that says so, never a new key for a store that exists.
	if _, err := secretTool(t, "", "clear", "service", KeyringService, "username", account); err != nil {
		t.Fatal(err)
	}
	if k, src, err := LoadKey(keyFile, storeFile); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("LoadKey with the keyring entry gone and the store there: %x %q %v, want the key reported missing", k, src, err)
	}
	if got, _ := secretTool(t, "", lookup...); got != "" {
		t.Errorf("a new key was put in the keyring for a store that exists: %q", got)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key file was written for a store that exists: %v", err)
	}

	// A damaged entry is reported as such.
	if _, err := secretTool(t, "not a key", "store", "--label=voicebot test", "service", KeyringService, "username", account); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey(keyFile, storeFile); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("LoadKey with a damaged keyring entry: %v", err)
	}
}
