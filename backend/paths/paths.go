// Package paths says where VoiceBot keeps its files on each OS: the data folder (the store, its
// backups), the config folder (the config file and the store's key file). Flags and environment
// variables override the defaults.
package paths

import (
	"fmt"
	"os"
	"path/filepath"
)

// App is the folder name under the OS's per-user folders.
const App = "voicebot"

// DataDir returns the data folder: VOICEBOT_DATA_DIR, else the OS's per-user data folder
// ($XDG_DATA_HOME/voicebot or ~/.local/share/voicebot on Linux, %AppData%\voicebot on Windows,
// ~/Library/Application Support/voicebot on macOS).
func DataDir() (string, error) {
	if d := os.Getenv("VOICEBOT_DATA_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, App), nil
	}
	if d, err := os.UserConfigDir(); err == nil && (isWindows() || isDarwin()) {
		return filepath.Join(d, App), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder to put the data in: set --data-dir or VOICEBOT_DATA_DIR: %w", err)
	}
	return filepath.Join(home, ".local", "share", App), nil
}

// ConfigDir returns the config folder: VOICEBOT_CONFIG_DIR, else the OS's per-user config folder
// ($XDG_CONFIG_HOME/voicebot or ~/.config/voicebot on Linux).
func ConfigDir() (string, error) {
	if d := os.Getenv("VOICEBOT_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config folder: set VOICEBOT_CONFIG_DIR: %w", err)
	}
	return filepath.Join(d, App), nil
}

// StoreFile is the SQLite store inside a data folder.
func StoreFile(dataDir string) string { return filepath.Join(dataDir, "voicebot.db") }

// KeyFile is the store's key file for a data folder. It lives in the config folder, apart from
// the data, so that a copied data folder is unreadable without it; each data folder has its own.
func KeyFile(configDir, dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	return filepath.Join(configDir, "keys", fmt.Sprintf("store-%x.key", fnv64(abs)))
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// SettingsFile is the settings file used when --config is not given (if it exists; `voicebot
// kiosk-pin` creates it).
func SettingsFile(configDir string) string { return filepath.Join(configDir, "settings.yaml") }
