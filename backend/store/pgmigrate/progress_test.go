package pgmigrate

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressLines: on a terminal the table's line is redrawn in place with n/N, the percentage,
// rows/s and the time left, then ended with a summary; elsewhere only the summary line is written.
func TestProgressLines(t *testing.T) {
	var tty bytes.Buffer
	p := newProgress(&tty, true, "messages", 100000, 0)
	p.t0 = time.Now().Add(-2 * time.Second)
	p.lastDrawn = time.Time{}
	p.update(20000)
	line := tty.String()
	for _, want := range []string{"\r\033[K", "messages", "20,000/100,000", " 20%", "rows/s", "ETA 8s"} {
		if !strings.Contains(line, want) {
			t.Errorf("the redrawn line %q lacks %q", line, want)
		}
	}
	p.update(100000)
	p.finish("")
	if !strings.HasSuffix(tty.String(), "\n") || !strings.Contains(tty.String(), "100,000/100,000  copied in") {
		t.Errorf("the terminal's last line: %q", tty.String())
	}

	var log bytes.Buffer
	q := newProgress(&log, false, "audit", 3, 1)
	q.update(2)
	q.update(3)
	q.finish("")
	if got := log.String(); strings.Count(got, "\n") != 1 || strings.Contains(got, "\r") || !strings.Contains(got, "audit") || !strings.Contains(got, "1 of them by an earlier run") {
		t.Errorf("not a terminal: want one line per table, got %q", got)
	}
}
