package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"voicebot/backend/config"
	"voicebot/backend/internal/pgtest"
	"voicebot/backend/keys"
)

// TestOfflineKioskOutbox: a kiosk (the real appliance, its SQLite store on disk) forwards to a
// fleet PostgreSQL (fleet: in its settings file; a real throwaway server) while four visitors'
// screens chat with it over HTTP without pause. The database is taken away 20 times (a fast
// shutdown, as a maintenance or failover does, for 0.3 to 0.7 s) and brought back. The kiosk
// answers every turn, also while the database is away; once the load stops and the outbox has
// drained, every acknowledged turn (HTTP 200) is in PostgreSQL's messages exactly once, found by
// a marker unique to the turn, stamped with the kiosk's name, with its bot answer; nothing else
// arrived. A conversation erased while the database was away is erased on it too (its turns
// shipped before are deleted there), and one begun and erased while it was away never reaches
// it; the erasures' audit entries do. The kiosk's dashboard says when the database is away and
// what waits, and an appliance whose store is the fleet database lists the kiosk. It logs the figures: turns, cycles, the largest backlog,
// the catch-up time.
func TestOfflineKioskOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a PostgreSQL server and stops it 20 times under load")
	}
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(settings, []byte(fmt.Sprintf("fleet:\n  store: %s\n  batch: 200\n  interval: 100ms\n", dsn)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := start(t, Options{ConfigFile: settings, Appliance: "kiosk-lobby"})
	if a.Shipper() == nil || !a.DB.Outbox() {
		t.Fatal("fleet: in the settings did not start the outbox and its shipper")
	}
	name := a.Shipper().Status().Appliance
	if name != "kiosk-lobby" {
		t.Fatalf("the shipper ships as %q, not the appliance's name", name)
	}
	key := newKey(t, a, keys.Spec{Scopes: []string{"chat", "history"}, Rate: "1000000/s"})
	_, get, _ := browserSession(t, a)
	base := "http://" + a.Addr()
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, body string) (int, []byte, error) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, b, err
	}
	chat := func(text, session string) (string, error) {
		body, _ := json.Marshal(map[string]string{"text": text, "session_id": session})
		if session == "" {
			body, _ = json.Marshal(map[string]string{"text": text})
		}
		status, b, err := call("POST", "/v1/chat", string(body))
		if err != nil {
			return "", err
		}
		var r struct {
			SessionID string `json:"session_id"`
		}
		if status != 200 || json.Unmarshal(b, &r) != nil || r.SessionID == "" {
			return "", fmt.Errorf("chat: %d %s", status, b)
		}
		return r.SessionID, nil
	}

	// the load: four screens, a new conversation every five turns, each turn with its marker
	var (
		down      atomic.Bool
		stop      atomic.Bool
		mu        sync.Mutex
		acked     = map[string]string{} // marker -> session
		failed    []string
		whileDown atomic.Int64
		wg        sync.WaitGroup
	)
	questions := []string{"what are the opening hours", "how much is a ticket", "is there a cafe", "where can I park"}
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session := ""
			for n := 0; !stop.Load(); n++ {
				if n%5 == 0 {
					session = ""
				}
				marker := fmt.Sprintf("m%d_%d", g, n)
				wasDown := down.Load()
				id, err := chat(questions[n%len(questions)]+" "+marker, session)
				mu.Lock()
				if err != nil {
					failed = append(failed, fmt.Sprintf("%s (database away: %v): %v", marker, wasDown, err))
				} else {
					acked[marker] = id
					session = id
				}
				mu.Unlock()
				if err == nil && wasDown && down.Load() {
					whileDown.Add(1)
				}
			}
		}()
	}

	// 20 cycles of the database going away; an erase while it is away
	var maxBacklog, maxBytes int64
	sample := func() {
		if st, err := a.DB.OutboxStats(context.Background()); err == nil && st.Rows > maxBacklog {
			maxBacklog, maxBytes = st.Rows, st.Bytes
		}
	}
	var shippedSession, offlineSession string
	const cycles = 20
	t0 := time.Now()
	for c := range cycles {
		time.Sleep(time.Duration(150+rand.IntN(150)) * time.Millisecond)
		if c == 10 {
			// a conversation whose turns are on the fleet database already
			id, err := chat("what are the opening hours erased_shipped", "")
			if err != nil {
				t.Fatal(err)
			}
			b, err := a.DB.OutboxStats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			waitShippedTo(t, a, b.LastSeq) // the load goes on: the outbox is never empty
			shippedSession = id
		}
		if err := srv.Halt(); err != nil {
			t.Fatal(err)
		}
		down.Store(true)
		away := time.Duration(300+rand.IntN(400)) * time.Millisecond
		deadline := time.Now().Add(away)
		if c == 10 {
			var err error
			if offlineSession, err = chat("how much is a ticket erased_offline", ""); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{shippedSession, offlineSession} {
				if status, b, err := call("DELETE", "/v1/sessions/"+id, ""); err != nil || (status != 200 && status != 204) {
					t.Fatalf("erase %s while the database is away: %d %s %v", id, status, b, err)
				}
			}
		}
		for time.Now().Before(deadline) {
			sample()
			time.Sleep(50 * time.Millisecond)
		}
		if c == 15 {
			// the kiosk's Overview says the database is away, and what waits (once the shipper
			// has tried and failed: under -race an attempt may outlast the window)
			for deadline := time.Now().Add(10 * time.Second); a.Shipper().Status().Reachable && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if _, page := get("/dashboard/"); !strings.Contains(page, `id="outbox"`) || !strings.Contains(page, "the database is unreachable") || !strings.Contains(page, " rows (") {
				t.Errorf("the kiosk's Overview while the database is away does not say so, nor the backlog:\n%s", fleetCard(page))
			}
		}
		down.Store(false)
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	loadTime := time.Since(t0)
	stop.Store(true)
	wg.Wait()
	sample()

	// catch up
	caught := time.Now()
	a.Shipper().Kick()
	waitShipped(t, a)
	catchUp := time.Since(caught)

	if _, page := get("/dashboard/"); !strings.Contains(page, "none: all shipped") || strings.Contains(page, "unreachable") {
		t.Errorf("the kiosk's Overview after the catch-up:\n%s", fleetCard(page))
	}
	// an appliance whose store is the fleet database lists the kiosk, its backlog and last contact
	// (and, in the fleet's list of appliances, with the link to its conversations)
	node := start(t, Options{Store: dsn, Appliance: "office"})
	_, nodeGet, _ := browserSession(t, node)
	if _, page := nodeGet("/dashboard/"); !strings.Contains(page, `id="kiosks"`) || !strings.Contains(page, ">"+name+"</a></td><td class=\"ok\">") ||
		!strings.Contains(page, "none: all shipped") || strings.Count(page, `href="/dashboard/conversations?appliance=`+name+`"`) != 2 {
		t.Errorf("the fleet node's Overview does not list the kiosk %s:\n%s", name, fleetCard(page))
	}

	mu.Lock()
	defer mu.Unlock()
	if len(failed) > 0 {
		t.Errorf("%d of %d turns were not answered, e.g. %v", len(failed), len(failed)+len(acked), failed[:min(len(failed), 5)])
	}
	if whileDown.Load() == 0 {
		t.Error("no turn was answered while the database was away: the test did not test the outbox")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT v.text, v.session_id, v.appliance, (SELECT count(*) FROM messages b WHERE b.session_id = v.session_id AND b.turn = v.turn AND b.role = 'bot')
		FROM messages v WHERE v.role = 'visitor'`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var total, wrong int
	for rows.Next() {
		var text, session, appliance string
		var bots int
		if err := rows.Scan(&text, &session, &appliance, &bots); err != nil {
			t.Fatal(err)
		}
		total++
		marker := text[strings.LastIndexByte(text, ' ')+1:]
		seen[marker]++
		if appliance != name || bots != 1 || acked[marker] != session {
			if wrong++; wrong <= 5 {
				t.Errorf("turn %q on the fleet database: appliance %q (want %q), %d bot answers, session %s (acknowledged in %s)", text, appliance, name, bots, session, acked[marker])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost, dup, extra int
	for marker := range acked {
		switch n := seen[marker]; {
		case n == 0:
			if lost++; lost <= 5 {
				t.Errorf("turn %s was acknowledged but is not on the fleet database", marker)
			}
		case n > 1:
			if dup++; dup <= 5 {
				t.Errorf("turn %s is on the fleet database %d times", marker, n)
			}
		}
	}
	for marker := range seen {
		if _, ok := acked[marker]; !ok && marker != "erased_shipped" && marker != "erased_offline" {
			extra++
			t.Errorf("%q is on the fleet database but was never acknowledged", marker)
		}
	}
	if seen["erased_shipped"] != 0 || seen["erased_offline"] != 0 {
		t.Errorf("erased conversations on the fleet database: shipped before %d, begun offline %d", seen["erased_shipped"], seen["erased_offline"])
	}
	var erasedRows, eraseAudits int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = $1 OR id = $2`, shippedSession, offlineSession).Scan(&erasedRows); err != nil || erasedRows != 0 {
		t.Errorf("erased sessions' rows on the fleet database: %d %v", erasedRows, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit WHERE action = 'session.erase' AND appliance = $1 AND target IN ($2, $3)`, name, shippedSession, offlineSession).Scan(&eraseAudits); err != nil || eraseAudits != 2 {
		t.Errorf("the erasures' audit entries on the fleet database: %d %v (want 2)", eraseAudits, err)
	}
	st := a.Shipper().Status()
	t.Logf("outbox: %d turns acknowledged (%d while the database was away), %d on the fleet database; lost %d, duplicated %d, unacknowledged %d; "+
		"%d cycles of the database going away in %.1f s; largest backlog %d rows (%d payload bytes a row); catch-up after the load %v; %d failed attempts",
		len(acked), whileDown.Load(), total, lost, dup, extra, cycles, loadTime.Seconds(), maxBacklog, maxBytes/max(maxBacklog, 1), catchUp.Round(time.Millisecond), st.Errors)
}

// fleetCard is the Overview's cards of the fleet, for a failure's message.
func fleetCard(page string) string {
	if i := strings.Index(page, `id="outbox"`); i >= 0 {
		return page[i:min(len(page), i+1500)]
	}
	if i := strings.Index(page, `id="kiosks"`); i >= 0 {
		return page[i:min(len(page), i+2500)]
	}
	return "(no Fleet database nor Kiosks card)"
}

// waitShippedTo waits until the fleet database's high-water mark is at least seq.
func waitShippedTo(t *testing.T, a *Appliance, seq int64) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); a.Shipper().Status().ShippedSeq < seq; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("outbox row %d not shipped within 60 s: shipper %+v", seq, a.Shipper().Status())
		}
	}
}

// waitShipped waits until the kiosk's outbox is empty and the fleet database's high-water mark
// is the outbox's last seq.
func waitShipped(t *testing.T, a *Appliance) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := a.DB.OutboxStats(context.Background())
		if err == nil && b.Rows == 0 && a.Shipper().Status().ShippedSeq == b.LastSeq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox did not drain within 60 s: %+v %v; shipper %+v", b, err, a.Shipper().Status())
		}
		a.Shipper().Kick()
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFleetRefusedBesidePostgresStore: fleet: forwards a kiosk's own SQLite store; with the store
// itself on PostgreSQL (--store) the appliance refuses to start, saying why, without echoing
// either URL's password.
func TestFleetRefusedBesidePostgresStore(t *testing.T) {
	_, err := Start(context.Background(), Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0", NoDiscovery: true,
		Store: "postgres://vb:hunter2@127.0.0.1:1/voicebot", Fleet: config.Fleet{Store: "postgres://kiosk:hunter3@127.0.0.1:1/fleet"}})
	if err == nil || !strings.Contains(err.Error(), "fleet: forwards a kiosk's own SQLite store") || strings.Contains(err.Error(), "hunter") {
		t.Errorf("fleet: beside a PostgreSQL store: %v", err)
	}
}
