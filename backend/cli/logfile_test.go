package cli

import (
	"log/slog"
	"os"
	"strings"
	"testing"
)

// TestLogToFile: the desktop build's log goes to the rotating file in the data folder too, in the
// format the settings chose, and stops when closed.
func TestLogToFile(t *testing.T) {
	dir := t.TempDir()
	defer setLogFormat("text")
	closeLog := logToFile(dir)
	setLogFormat("json")
	slog.Warn("the file hears this", "n", 7)
	closeLog()
	logMu.Lock()
	logOut = os.Stderr
	logMu.Unlock()
	b, err := os.ReadFile(LogFile(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"the file hears this","n":7`) {
		t.Fatalf("the log file holds %q", b)
	}
}
