// Package testlog keeps the appliance's structured logs out of test and benchmark output;
// VOICEBOT_TEST_LOG=1 shows them.
package testlog

import (
	"io"
	"log/slog"
	"os"
)

// Quiet sends slog's default logger to nowhere unless VOICEBOT_TEST_LOG is set.
func Quiet() {
	if os.Getenv("VOICEBOT_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}
