package telemetry

// The process's recent warnings and errors, kept in memory for the dashboard's Logs view (on the
// Audit page): an operator looking at a misbehaving kiosk sees what went wrong without a shell,
// a journal or the desktop build's log file. The full log still goes to standard error (the
// service's journal) and, in the desktop build, to logs/voicebot.log.
//
// Written by hand: a ring of a few hundred records behind a slog.Handler is a few lines, and the
// slog libraries that fan records out (samber/slog-multi) keep nothing to read back.

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// RecentLogSize is how many warnings and errors the dashboard can show.
const RecentLogSize = 500

// RecentLogs holds the process's last RecentLogSize warnings and errors. The command line's log
// setup (backend/cli) wraps the process's slog handler with RecentLogs.Wrap.
var RecentLogs = NewLogRing(RecentLogSize)

// LogEntry is one warning or error as the Logs view shows it.
type LogEntry struct {
	Time      time.Time
	Level     slog.Level
	Message   string
	Attrs     string // key=value pairs, as the text log writes them (request_id and trace_id apart)
	RequestID string
	TraceID   string
}

// LogRing keeps the last records at Warn or above. It is safe for concurrent use.
type LogRing struct {
	mu   sync.Mutex
	buf  []LogEntry
	next int
	full bool
	seen uint64 // records kept since the start, dropped ones included
}

// NewLogRing keeps the last size warnings and errors.
func NewLogRing(size int) *LogRing { return &LogRing{buf: make([]LogEntry, size)} }

// Recent returns up to n entries at min level or above, newest first, and how many warnings and
// errors were logged since the process started.
func (r *LogRing) Recent(min slog.Level, n int) ([]LogEntry, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	count := r.next
	if r.full {
		count = len(r.buf)
	}
	var out []LogEntry
	for i := 0; i < count && len(out) < n; i++ {
		e := r.buf[(r.next-1-i+len(r.buf))%len(r.buf)]
		if e.Level >= min {
			out = append(out, e)
		}
	}
	return out, r.seen
}

func (r *LogRing) add(e LogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = e
	r.next++
	r.seen++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// Wrap returns a handler that passes every record to next and keeps the warnings and errors in
// the ring, whatever next's level (a log set to error still shows warnings here).
func (r *LogRing) Wrap(next slog.Handler) slog.Handler { return ringHandler{ring: r, next: next} }

// ringHandler tees records into the ring. ops replays the WithAttrs and WithGroup calls made on
// it onto the text handler that formats a kept record's attributes.
type ringHandler struct {
	ring *LogRing
	next slog.Handler
	ops  []func(slog.Handler) slog.Handler
}

func (h ringHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h ringHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		h.keep(ctx, rec)
	}
	if !h.next.Enabled(ctx, rec.Level) {
		return nil
	}
	return h.next.Handle(ctx, rec)
}

// keep formats the record's attributes as the text log does, with the request and trace ids
// (added by LogHandler) taken out into their own fields.
func (h ringHandler) keep(ctx context.Context, rec slog.Record) {
	e := LogEntry{Time: rec.Time, Level: rec.Level, Message: rec.Message}
	plain := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "request_id":
			e.RequestID = a.Value.String()
		case "trace_id":
			e.TraceID = a.Value.String()
		case "span_id":
		default:
			plain.AddAttrs(a)
		}
		return true
	})
	var b bytes.Buffer
	var f slog.Handler = slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
			return slog.Attr{}
		}
		return a
	}})
	for _, op := range h.ops {
		f = op(f)
	}
	_ = f.Handle(ctx, plain)
	e.Attrs = strings.TrimSpace(b.String())
	h.ring.add(e)
}

func (h ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ringHandler{ring: h.ring, next: h.next.WithAttrs(as), ops: append(h.ops[:len(h.ops):len(h.ops)], func(f slog.Handler) slog.Handler { return f.WithAttrs(as) })}
}

func (h ringHandler) WithGroup(name string) slog.Handler {
	return ringHandler{ring: h.ring, next: h.next.WithGroup(name), ops: append(h.ops[:len(h.ops):len(h.ops)], func(f slog.Handler) slog.Handler { return f.WithGroup(name) })}
}
