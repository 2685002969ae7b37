package dashboard

// The Overview's Fleet database and Kiosks cards (components.templ, outboxCard, kiosksCard): on a
// kiosk, its outbox's backlog and its last contact with the fleet database; on an appliance
// reading that database, each kiosk's.

import (
	"fmt"
	"time"
)

// agoText says how long ago t was, to the second under a minute.
func agoText(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h ago", d.Hours())
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// backlogText is an outbox's backlog: rows, bytes and the oldest row's age.
func backlogText(now time.Time, rows, bytes int64, oldest time.Time) string {
	if rows == 0 {
		return "none: all shipped"
	}
	s := fmt.Sprintf("%d rows (%s)", rows, humanBytes(bytes))
	if !oldest.IsZero() {
		s += ", oldest written " + agoText(now, oldest)
	}
	return s
}

// contactClass marks a kiosk not heard from for a minute (warn) or an hour (bad).
func contactClass(now, t time.Time) string {
	switch d := now.Sub(t); {
	case d > time.Hour:
		return "bad"
	case d > time.Minute:
		return "warn"
	default:
		return "ok"
	}
}
