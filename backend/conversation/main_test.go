package conversation

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps reload logs out of test and benchmark output; set VOICEBOT_TEST_LOG=1 to see them.
func TestMain(m *testing.M) {
	if os.Getenv("VOICEBOT_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	os.Exit(m.Run())
}
