package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// TestLogRingKeepsWarningsAndErrors: through the process's handler chain (LogHandler around the
// ring around a text handler set to error), warnings and errors are kept newest first with their
// attributes, groups, request and trace ids; info is not kept; the text log still gets only what
// its level lets through; the ring holds its size and counts what it dropped.
func TestLogRingKeepsWarningsAndErrors(t *testing.T) {
	ring := NewLogRing(3)
	var out bytes.Buffer
	log := slog.New(LogHandler{Handler: ring.Wrap(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError}))})

	ctx := WithRequestID(context.Background(), "req-1")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	log.Info("an info line")
	log.With("component", "content").WithGroup("reload").WarnContext(ctx, "content reload failed", "file", "bot.yaml", "err", "line 3: bad")
	log.ErrorContext(ctx, "store write failed", "err", "disk full")

	got, seen := ring.Recent(slog.LevelWarn, 10)
	if seen != 2 || len(got) != 2 {
		t.Fatalf("kept %d (seen %d), want the warning and the error: %+v", len(got), seen, got)
	}
	e, w := got[0], got[1]
	if e.Level != slog.LevelError || e.Message != "store write failed" || e.Attrs != "err=\"disk full\"" {
		t.Errorf("newest = %+v", e)
	}
	if w.Level != slog.LevelWarn || w.RequestID != "req-1" || w.TraceID != tid.String() ||
		w.Attrs != `component=content reload.file=bot.yaml reload.err="line 3: bad"` {
		t.Errorf("warning = %+v", w)
	}
	if errs, _ := ring.Recent(slog.LevelError, 10); len(errs) != 1 || errs[0].Message != "store write failed" {
		t.Errorf("errors only = %+v", errs)
	}
	if s := out.String(); strings.Contains(s, "reload failed") || strings.Contains(s, "info line") || !strings.Contains(s, "store write failed") {
		t.Errorf("the text log at level error wrote:\n%s", s)
	}

	for i := range 5 {
		log.Warn(fmt.Sprint("warning ", i))
	}
	got, seen = ring.Recent(slog.LevelWarn, 10)
	if seen != 7 || len(got) != 3 || got[0].Message != "warning 4" || got[2].Message != "warning 2" {
		t.Fatalf("after 5 more: seen %d, kept %+v", seen, got)
	}
	if got, _ := ring.Recent(slog.LevelWarn, 2); len(got) != 2 || got[0].Message != "warning 4" {
		t.Errorf("Recent(2) = %+v", got)
	}
}
