package pgmigrate

// Progress on standard error: on a terminal, a line per table redrawn as the copy goes (n/N,
// rows/s, time left); elsewhere (a log, a pipe) one line per table when it is done.

import (
	"fmt"
	"io"
	"time"
)

type progress struct {
	w             io.Writer
	tty           bool
	table         string
	total, start  int64
	t0, lastDrawn time.Time
	n             int64
}

func newProgress(w io.Writer, tty bool, table string, total, already int64) *progress {
	p := &progress{w: w, tty: tty, table: table, total: total, start: already, n: already, t0: time.Now()}
	if tty {
		p.draw()
	}
	return p
}

func (p *progress) rate() float64 {
	s := time.Since(p.t0).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(p.n-p.start) / s
}

func (p *progress) line() string {
	s := fmt.Sprintf("%-16s %s/%s", p.table, thousands(p.n), thousands(p.total))
	if p.total > 0 {
		s += fmt.Sprintf(" %3d%%", p.n*100/p.total)
	}
	if r := p.rate(); r > 0 {
		s += fmt.Sprintf("  %s rows/s", thousands(int64(r)))
		if left := p.total - p.n; left > 0 {
			if eta := time.Duration(float64(left) / r * float64(time.Second)); eta < time.Second {
				s += "  ETA <1s"
			} else {
				s += "  ETA " + eta.Round(time.Second).String()
			}
		}
	}
	return s
}

func (p *progress) draw() {
	p.lastDrawn = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s", p.line())
}

func (p *progress) update(n int64) {
	p.n = n
	if p.tty && time.Since(p.lastDrawn) >= 200*time.Millisecond {
		p.draw()
	}
}

// finish ends the table's line: how many rows, how long, how fast.
func (p *progress) finish(why string) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	took := time.Since(p.t0)
	s := fmt.Sprintf("%-16s %s/%s", p.table, thousands(p.n), thousands(p.total))
	switch {
	case why != "":
		s += "  " + why
	case p.n == p.start && p.n > 0:
		s += "  copied by an earlier run"
	case p.n > p.start:
		s += fmt.Sprintf("  copied in %s (%s rows/s)", elapsed(took), thousands(int64(p.rate())))
		if p.start > 0 {
			s += fmt.Sprintf(", %s of them by an earlier run", thousands(p.start))
		}
	default:
		s += "  nothing to copy"
	}
	fmt.Fprintln(p.w, s)
}

// abort ends a redrawn line so that the error is printed on a line of its own.
func (p *progress) abort() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// thousands is n with thin groups of three digits: 100,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	out = s + out
	if neg {
		out = "-" + out
	}
	return out
}
