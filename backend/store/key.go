package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadKey returns the store's key: from the environment variable VOICEBOT_STORE_KEY (64 hex
// digits) if set, else from keyFile. A key file is created (0600, in a 0700 folder) only when
// neither it nor the store exists yet: if the store exists and the key is missing, that is an
// error, never a silent new database.
func LoadKey(keyFile, storeFile string) ([]byte, error) {
	if env := strings.TrimSpace(os.Getenv("VOICEBOT_STORE_KEY")); env != "" {
		k, err := hex.DecodeString(env)
		if err != nil || len(k) != 32 {
			return nil, errors.New("VOICEBOT_STORE_KEY must be 64 hex digits (32 bytes)")
		}
		return k, nil
	}
	b, err := os.ReadFile(keyFile)
	switch {
	case err == nil:
		k, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(k) != 32 {
			return nil, fmt.Errorf("key file %s is damaged: it must hold 64 hex digits", keyFile)
		}
		if fi, err := os.Stat(keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("key file %s is readable by others (mode %v): chmod 600 it", keyFile, fi.Mode().Perm())
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if _, err := os.Stat(storeFile); err == nil {
		return nil, fmt.Errorf("the store %s exists but its key file %s is missing: restore the key file from your backup (without it the store cannot be read)", storeFile, keyFile)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}
