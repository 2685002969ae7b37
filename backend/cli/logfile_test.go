package cli

import (
	"log/slog"
	"os"
	"strings"
	"testing"

	"voicebot/backend/telemetry"
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
	// the same warning is kept for the dashboard's Logs view, in either format
	kept, _ := telemetry.RecentLogs.Recent(slog.LevelWarn, 1)
	if len(kept) != 1 || kept[0].Message != "the file hears this" || kept[0].Attrs != "n=7" {
		t.Fatalf("the Logs view's ring holds %+v", kept)
	}
}
