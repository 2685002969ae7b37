package appliance

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// TestRetentionPurgesOnSchedule: with `retention` in the settings file, the background job
// deletes the conversations idle longer than it while the appliance runs: no restart, no
// manual call. The job's hourly schedule is shortened (purgeEvery) and the retention is 3 s, so
// that idleness is real time, not rows edited by the test: a session that stops talking is
// deleted with its messages and the purge audited, while a session that keeps talking stays.
// The setting is live: saved as 0 the job keeps an idle session, saved back it deletes it.
func TestRetentionPurgesOnSchedule(t *testing.T) {
	const retention = 3 * time.Second
	prev := purgeEvery
	purgeEvery = 200 * time.Millisecond
	t.Cleanup(func() { purgeEvery = prev }) // after the appliance's Close, registered later

	cfg := filepath.Join(t.TempDir(), "voicebot.yaml")
	save := func(body string) {
		t.Helper()
		tmp := cfg + ".tmp"
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfg); err != nil {
			t.Fatal(err)
		}
	}
	save("retention: 3s\n")
	a := start(t, Options{ConfigFile: cfg})
	chat := newKey(t, a, keys.Spec{Scopes: []string{"chat"}, Rate: "100000/s"})
	ctx := context.Background()

	turn := func(session, text string) string {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"text": text, "session_id": session})
		r := post(t, a, "/v1/chat", chat, string(body))
		var out struct {
			SessionID string `json:"session_id"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &out) != nil || out.SessionID == "" {
			t.Fatalf("chat turn: %d %s", r.status, r.body)
		}
		return out.SessionID
	}
	count := func(table, session string) int {
		t.Helper()
		col := "id"
		if table == "messages" {
			col = "session_id"
		}
		var n int
		if err := a.DB.Read().QueryRow(`SELECT count(*) FROM `+table+` WHERE `+col+` = ?`, session).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	retentionNow := func() time.Duration {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.Opts.Retention
	}
	if got := retentionNow(); got != retention {
		t.Fatalf("retention from the settings file: %v, want %v", got, retention)
	}

	idle := turn("", "what are the opening hours?")
	busy := turn("", "where is the cafe?")
	if count("sessions", idle) != 1 || count("messages", idle) != 2 {
		t.Fatalf("the idle session was not stored: %d sessions, %d messages", count("sessions", idle), count("messages", idle))
	}
	// The busy session keeps talking (well within the retention) while the idle one waits.
	talk := func(until func() bool) {
		t.Helper()
		for deadline := time.Now().Add(retention + 10*time.Second); !until(); time.Sleep(250 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the idle session was not purged within %v (retention %v, job every %v)", retention+10*time.Second, retention, purgeEvery)
			}
			turn(busy, "and is there a shop?")
		}
	}
	idleSince := time.Now()
	talk(func() bool { return count("sessions", idle) == 0 })
	if d := time.Since(idleSince); d < retention {
		t.Errorf("the idle session was purged after %v idle, before the retention of %v", d.Round(time.Millisecond), retention)
	}
	if n := count("messages", idle); n != 0 {
		t.Errorf("the purged session's messages: %d left", n)
	}
	if count("sessions", busy) != 1 {
		t.Errorf("the session that kept talking was purged")
	}
	log, err := a.DB.AuditSearch(ctx, store.AuditFilter{Action: "retention.purge"})
	if err != nil || len(log) == 0 || log[0].Actor != "system" {
		t.Errorf("audit of the purge: %+v %v", log, err)
	}

	// Live: retention 0 keeps conversations, however idle.
	save("retention: 0s\n")
	waitUntil(t, "the settings file's retention 0 applied", func() bool { return retentionNow() == 0 })
	kept := turn("", "how much is a ticket?")
	time.Sleep(retention + 5*purgeEvery)
	if count("sessions", kept) != 1 || count("sessions", busy) != 1 {
		t.Fatalf("with retention 0 the job deleted conversations: kept %d, busy %d", count("sessions", kept), count("sessions", busy))
	}

	// Live again: saved back, the job deletes the sessions idle longer than it.
	save("retention: 3s\n")
	waitUntil(t, "the retention saved back applied", func() bool { return retentionNow() == retention })
	waitUntil(t, "the sessions idle past the retention purged", func() bool {
		return count("sessions", kept) == 0 && count("sessions", busy) == 0
	})
}
