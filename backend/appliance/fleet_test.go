package appliance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"voicebot/backend/internal/pgtest"
	"voicebot/backend/internal/testlog"
)

// node is a `voicebot serve` process of the fleet test.
type node struct {
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
}

// syncBuffer is a process's output, written by exec's copier while the test reads it.
type syncBuffer = testlog.Buffer

// startNode runs `voicebot serve` with args on a free loopback port, its own data and config
// folders, and waits until it answers /healthz.
func startNode(t *testing.T, bin string, args ...string) *node {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n := &node{addr: addr, log: &syncBuffer{}}
	n.cmd = exec.Command(bin, append([]string{"serve", "--listen", addr, "--data-dir", t.TempDir(), "--config-dir", t.TempDir()}, args...)...)
	n.cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			n.cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return n
			}
		}
		if n.cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("voicebot serve %v did not come up:\n%s", args, n.log)
		}
	}
}

// dashboardOf signs in to a node's dashboard with an admin key; the function it returns gets a
// page (status 200 or the test fails).
func dashboardOf(t *testing.T, n *node, key string) func(path string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.PostForm("http://"+n.addr+"/dashboard/sign-in", url.Values{"key": {key}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign in to %s's dashboard: %v %v", n.addr, res, err)
	}
	res.Body.Close()
	return func(path string) string {
		t.Helper()
		res, err := c.Get("http://" + n.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		return string(b)
	}
}

// call makes one request of a node; it returns the status and the body.
func (n *node) call(t *testing.T, method, path, key, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+n.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestTwoNodesOnePostgres: two `voicebot serve` processes (the real binary) on one PostgreSQL
// server (a throwaway cluster) behave as one appliance. A key made with `voicebot keys create
// --store postgres://…` works on both; node A takes its store from --store, node B from store: in
// its settings file. A conversation started on A continues on B with its memory ("and on
// sunday?" answered as the follow-up of the opening hours) and back on A as turn 3 (A caches no
// session's memory on a shared database), and either node lists the whole transcript. A key created on B is honoured by A at once; revoked on B while A keeps using it
// (so that A holds it in its verified-key cache), it is refused by A within 1 s
// (LISTEN/NOTIFY). A key limited to 20/m makes 20 requests in all on the two nodes, not 20 on
// each. The dashboard of A (kiosk-a) lists both appliances and filters the conversations and the
// audit log by appliance: the conversation begun on A and continued on B is B's too, B's own is
// not A's. Neither process's log holds the database password. `voicebot backup` refuses
// a PostgreSQL store and names pg_dump, without echoing the password.
func TestTwoNodesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a PostgreSQL server and two appliances")
	}
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	bin := voicebotBinary(t)

	cmd := exec.Command(bin, "keys", "create", "--name", "fleet admin", "--scopes", "chat,history,admin", "--rate", "100000/s",
		"--store", dsn, "--data-dir", t.TempDir(), "--config-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("voicebot keys create --store: %v\n%s", err, stderr.String())
	}
	admin := strings.TrimSpace(string(out))

	// `voicebot backup` copies a SQLite file: on PostgreSQL it refuses, says what to use instead,
	// and does not print the password it was given
	backup := exec.Command(bin, "backup", filepath.Join(t.TempDir(), "copy.db"), "--store", dsn, "--data-dir", t.TempDir(), "--config-dir", t.TempDir())
	backup.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	if out, err := backup.CombinedOutput(); err == nil || !strings.Contains(string(out), "pg_dump") || strings.Contains(string(out), srv.Password) {
		t.Errorf("voicebot backup --store postgres://…: %v\n%s", err, out)
	}

	a := startNode(t, bin, "--store", dsn, "--appliance", "kiosk-a")
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(settings, []byte("store: "+dsn+"\nappliance: kiosk-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, bin, "--config", settings)

	// a conversation moves from A to B with its memory
	status, body := a.call(t, "POST", "/v1/chat", admin, `{"text":"What are the opening hours?"}`)
	var first struct {
		SessionID string `json:"session_id"`
		Reply     struct{ Text, Intent string }
	}
	if err := json.Unmarshal(body, &first); status != 200 || err != nil || first.SessionID == "" {
		t.Fatalf("chat on A: %d %s", status, body)
	}
	status, body = b.call(t, "POST", "/v1/chat", admin, fmt.Sprintf(`{"text":"and on sunday?","session_id":%q}`, first.SessionID))
	var second struct {
		SessionID string `json:"session_id"`
		Reply     struct{ Text, Intent string }
	}
	json.Unmarshal(body, &second)
	if status != 200 || second.SessionID != first.SessionID || !strings.Contains(second.Reply.Text, "15:00") {
		t.Fatalf("the follow-up on B: %d %s (want the Sunday hours of the session begun on A)", status, body)
	}
	// and back to A, which must not answer from what it remembered of the session's first turn
	if status, body = a.call(t, "POST", "/v1/chat", admin, fmt.Sprintf(`{"text":"how much is a ticket?","session_id":%q}`, first.SessionID)); status != 200 {
		t.Fatalf("the third turn on A: %d %s", status, body)
	}
	for _, n := range []*node{a, b} {
		status, body = n.call(t, "GET", "/v1/sessions/"+first.SessionID+"/messages", admin, "")
		var tr struct {
			Messages []struct {
				Text string
				Turn int
			}
		}
		json.Unmarshal(body, &tr)
		if status != 200 || len(tr.Messages) != 6 || tr.Messages[2].Text != "and on sunday?" || tr.Messages[4].Turn != 3 {
			t.Errorf("the transcript on %s: %d %s (want turns 1, 2 and 3)", n.addr, status, body)
		}
	}

	// a key made on B is honoured by A; revoked on B, refused by A within 1 s
	status, body = b.call(t, "POST", "/v1/keys", admin, `{"name":"kiosk 7","scopes":["chat"],"rate":"100000/s"}`)
	var made struct {
		Key  string
		Info struct{ ID string }
	}
	if json.Unmarshal(body, &made); status != 201 || made.Key == "" {
		t.Fatalf("create a key on B: %d %s", status, body)
	}
	if status, body = a.call(t, "GET", "/v1/bot", made.Key, ""); status != 200 {
		t.Fatalf("the key made on B, on A: %d %s", status, body)
	}
	for range 5 { // in A's verified-key cache now, for keys.CacheTTL
		a.call(t, "GET", "/v1/bot", made.Key, "")
	}
	if status, body = b.call(t, "DELETE", "/v1/keys/"+made.Info.ID, admin, ""); status != 200 && status != 204 {
		t.Fatalf("revoke on B: %d %s", status, body)
	}
	revoked := time.Now()
	for {
		status, _ = a.call(t, "GET", "/v1/bot", made.Key, "")
		if status == 401 || status == 403 {
			break
		}
		if time.Since(revoked) > time.Second {
			t.Fatalf("A still accepts the key %v after B revoked it (status %d); the promise is 1 s", time.Since(revoked), status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("A refused the key revoked on B after %v", time.Since(revoked).Round(time.Millisecond))

	// one rate limit for the fleet: a key of 20/m spends 20 requests in all, whichever node takes them
	status, body = a.call(t, "POST", "/v1/keys", admin, `{"name":"limited","scopes":["chat"],"rate":"20/m"}`)
	var limited struct{ Key string }
	if json.Unmarshal(body, &limited); status != 201 {
		t.Fatalf("create a limited key: %d %s", status, body)
	}
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for _, n := range []*node{a, b} {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 10 {
					st, body := n.call(t, "GET", "/v1/bot", limited.Key, "")
					if st == 429 && !strings.Contains(string(body), `"rate_limited"`) {
						t.Errorf("a refusal without its code: %s", body)
					}
					mu.Lock()
					got[st]++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	refill := int(time.Since(t0) / (3 * time.Second)) // one more request each 3 s at 20/m
	if got[200] < 20 || got[200] > 20+refill || got[200]+got[429] != 40 {
		t.Errorf("40 requests of a 20/m key on two nodes: %v (want 20 let through in all, %d more for the refill)", got, refill)
	}

	// the dashboard of either node shows the whole fleet, filterable by appliance
	status, body = b.call(t, "POST", "/v1/chat", admin, `{"text":"where is the cloakroom?"}`)
	var onB struct {
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(body, &onB); status != 200 {
		t.Fatalf("chat on B: %d %s", status, body)
	}
	dash := dashboardOf(t, a, admin)
	page := dash("/dashboard/")
	for _, want := range []string{`id="fleet"`, "kiosk-a</a> (this one)", "kiosk-b</a>"} {
		if !strings.Contains(page, want) {
			t.Errorf("A's overview lacks %q:\n%s", want, page)
		}
	}
	all, onlyA, onlyB := dash("/dashboard/conversations"), dash("/dashboard/conversations?appliance=kiosk-a"), dash("/dashboard/conversations?appliance=kiosk-b")
	for _, c := range []struct {
		name, page, id string
		in             bool
	}{{"all", all, first.SessionID, true}, {"all", all, onB.SessionID, true},
		{"kiosk-a", onlyA, first.SessionID, true}, {"kiosk-a", onlyA, onB.SessionID, false},
		{"kiosk-b", onlyB, first.SessionID, true}, {"kiosk-b", onlyB, onB.SessionID, true}} {
		if strings.Contains(c.page, c.id) != c.in {
			t.Errorf("A's conversations of %s: holds %s = %v, want %v", c.name, c.id, !c.in, c.in)
		}
	}
	if audit := dash("/dashboard/audit?appliance=kiosk-b&action=key."); !strings.Contains(audit, "key.revoke") || strings.Contains(audit, "limited") {
		t.Errorf("A's audit log of kiosk-b's key entries: want B's revocation and not A's creation of the limited key:\n%s", audit)
	}

	for name, log := range map[string]string{"A": a.log.String(), "B": b.log.String(), "keys create": stderr.String()} {
		if strings.Contains(log, srv.Password) {
			t.Errorf("%s's log holds the database password:\n%s", name, log)
		}
		if name != "keys create" && !strings.Contains(log, "postgres postgres://voicebot:xxxxx@127.0.0.1") {
			t.Errorf("%s's log does not say which store it uses (without the password):\n%s", name, log)
		}
	}
}
