package dashboard

// The Logs view, beside the audit log: the process's recent warnings and errors
// (telemetry.RecentLogs), for an operator without a shell on the kiosk.

import (
	"log/slog"
	"net/http"

	"github.com/a-h/templ"

	"voicebot/backend/telemetry"
)

// logsShown is how many entries the Logs view shows: all the ring keeps.
const logsShown = telemetry.RecentLogSize

// LogsData is what the Logs view shows.
type LogsData struct {
	Min     slog.Level
	What    string // "warnings or errors", "errors"
	Entries []telemetry.LogEntry
	Seen    uint64
	Kept    bool // false when the dashboard has no log to show
}

func (d *Dashboard) logs(w http.ResponseWriter, r *http.Request, s *signIn) {
	ld := LogsData{Min: slog.LevelWarn, What: "warnings or errors", Kept: d.Logs != nil}
	switch r.URL.Query().Get("level") {
	case "", "warn":
	case "error":
		ld.Min, ld.What = slog.LevelError, "errors"
	default:
		http.Error(w, "level must be warn or error", http.StatusBadRequest)
		return
	}
	if d.Logs != nil {
		ld.Entries, ld.Seen = d.Logs.Recent(ld.Min, logsShown)
	}
	d.render(w, r, http.StatusOK, logsPage(d.page("Logs", "Audit log", s), ld))
}

func levelClass(l slog.Level) string {
	if l >= slog.LevelError {
		return "error"
	}
	return "warn"
}

// currentPage is the attribute that marks the link of the page shown.
func currentPage(current bool) templ.Attributes {
	if current {
		return templ.Attributes{"aria-current": "page"}
	}
	return nil
}
