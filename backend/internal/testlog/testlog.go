// Package testlog keeps the appliance's structured logs out of test and benchmark output
// (VOICEBOT_TEST_LOG=1 shows them), and captures them, or a child process's output, for a test
// to read.
package testlog

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
)

// Quiet sends slog's default logger to nowhere unless VOICEBOT_TEST_LOG is set.
func Quiet() {
	if os.Getenv("VOICEBOT_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
}

// Buffer is output written by one goroutine (a logger, exec's copier of a child's output) while
// the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Capture sends slog's default logger into a Buffer until the test ends.
func Capture(t testing.TB) *Buffer {
	t.Helper()
	buf := &Buffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}
