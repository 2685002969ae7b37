package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService names VoiceBot's entries in the OS keyring.
const KeyringService = "voicebot-store"

// LoadKey returns the store's key and where it came from ("env", "file" or "keyring"): the
// environment variable VOICEBOT_STORE_KEY (64 hex digits) if set; else the key file if it exists;
// else the OS keyring entry for this key file if there is one. A new key is made only when the
// store does not exist yet: in the OS keyring where one is reachable, else in keyFile (0600, in a
// 0700 folder). If the store exists and no key is found, that is an error, never a silent new
// database.
func LoadKey(keyFile, storeFile string) ([]byte, string, error) {
	if env := strings.TrimSpace(os.Getenv("VOICEBOT_STORE_KEY")); env != "" {
		k, err := hex.DecodeString(env)
		if err != nil || len(k) != 32 {
			return nil, "", errors.New("VOICEBOT_STORE_KEY must be 64 hex digits (32 bytes)")
		}
		return k, "env", nil
	}
	b, err := os.ReadFile(keyFile)
	switch {
	case err == nil:
		k, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(k) != 32 {
			return nil, "", fmt.Errorf("key file %s is damaged: it must hold 64 hex digits", keyFile)
		}
		if fi, err := os.Stat(keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, "", fmt.Errorf("key file %s is readable by others (mode %v): chmod 600 it", keyFile, fi.Mode().Perm())
		}
		return k, "file", nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("read key file: %w", err)
	}
	account := filepath.Base(keyFile)
	if secret, ok := keyringGet(account); ok {
		k, err := hex.DecodeString(secret)
		if err != nil || len(k) != 32 {
			return nil, "", fmt.Errorf("the OS keyring entry %s/%s is damaged", KeyringService, account)
		}
		return k, "keyring", nil
	}
	if _, err := os.Stat(storeFile); err == nil {
		return nil, "", fmt.Errorf("the store %s exists but its key is missing (no key file %s, no OS keyring entry %s/%s): restore the key from your backup (without it the store cannot be read)", storeFile, keyFile, KeyringService, account)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, "", err
	}
	if keyringSet(account, hex.EncodeToString(k)) {
		return k, "keyring", nil
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, "", fmt.Errorf("create key folder: %w", err)
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, "", err
	}
	return k, "file", f.Close()
}

// keyringUsable: on Linux the keyring is the Secret Service on the session bus; without a bus
// address the D-Bus library would launch a bus of its own that outlives the process, so a box
// without a desktop session uses the key file. VOICEBOT_NO_KEYRING=1 forces the key file.
func keyringUsable() bool {
	if os.Getenv("VOICEBOT_NO_KEYRING") != "" {
		return false
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "freebsd" {
		return os.Getenv("DBUS_SESSION_BUS_ADDRESS") != ""
	}
	return true
}

// keyringTimeout bounds a keyring call: a locked or absent Secret Service must not hang start-up.
const keyringTimeout = 3 * time.Second

func withTimeout(fn func() bool) bool {
	done := make(chan bool, 1)
	go func() { done <- fn() }()
	select {
	case ok := <-done:
		return ok
	case <-time.After(keyringTimeout):
		return false
	}
}

func keyringGet(account string) (string, bool) {
	if !keyringUsable() {
		return "", false
	}
	var secret string
	ok := withTimeout(func() bool {
		s, err := keyring.Get(KeyringService, account)
		secret = s
		return err == nil
	})
	return secret, ok
}

func keyringSet(account, secret string) bool {
	if !keyringUsable() {
		return false
	}
	return withTimeout(func() bool { return keyring.Set(KeyringService, account, secret) == nil })
}
