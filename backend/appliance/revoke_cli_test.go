package appliance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"voicebot/backend/httpapi"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// voicebotBinary builds the product's binary (the headless build, as `go build .` makes it) into
// the test's temporary folder, for a test that runs its commands in a process of their own.
func voicebotBinary(t *testing.T) string {
	t.Helper()
	testneeds.Tools(t, "the Go toolchain", "go")
	bin := filepath.Join(t.TempDir(), "voicebot")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCLIRevokeReachesRunningServer: a key revoked with `voicebot keys revoke ID --data-dir ...`
// in another process, while the server runs and keeps using the key (so the key is in its
// verified-key cache, and every request would refresh an entry whose expiry slid), is refused
// by the running server within keys.CacheTTL of the command's end, and stays refused; the
// revocation is in the audit log as the CLI's. The CLI's help promises 5 seconds.
func TestCLIRevokeReachesRunningServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	if keys.CacheTTL > 5*time.Second {
		t.Errorf("keys.CacheTTL is %v: `voicebot keys revoke` promises a running server refuses the key within 5 seconds", keys.CacheTTL)
	}
	bin := voicebotBinary(t)
	a := start(t, Options{})
	plain, k, err := a.Keys.Create(context.Background(), keys.Spec{Name: "kiosk", Scopes: []string{"chat"}, Rate: "100000/s"}, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	other := newKey(t, a, keys.Spec{Scopes: []string{"chat"}})
	if r := do(t, a, "GET", "/v1/bot", plain, ""); r.status != 200 {
		t.Fatalf("the key before the revoke: %d %s", r.status, r.body)
	}

	// The server keeps using the key while the CLI revokes it.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				a.Keys.Verify(context.Background(), plain)
			}
		}
	}()

	cmd := exec.Command(bin, "keys", "revoke", k.ID, "--data-dir", a.Opts.DataDir, "--config-dir", a.Opts.ConfigDir)
	cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	out, err := cmd.CombinedOutput()
	revoked := time.Now()
	if err != nil || !strings.Contains(string(out), "revoked") {
		close(stop)
		t.Fatalf("voicebot keys revoke: %v\n%s", err, out)
	}

	deadline := revoked.Add(keys.CacheTTL + time.Second) // a second of margin for a loaded machine
	var last resp
	for {
		last = do(t, a, "GET", "/v1/bot", plain, "")
		if last.status == 401 {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			t.Fatalf("the running server still accepts the key %v after the CLI revoked it (keys.CacheTTL %v): %d %s",
				time.Since(revoked).Round(time.Millisecond), keys.CacheTTL, last.status, last.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(revoked)
	close(stop)
	<-done
	t.Logf("refused %v after the CLI's revoke (keys.CacheTTL %v)", took.Round(time.Millisecond), keys.CacheTTL)
	if last.code() != httpapi.CodeRevokedKey {
		t.Errorf("refusal after the revoke: %d %q, want 401 %s", last.status, last.code(), httpapi.CodeRevokedKey)
	}
	for i := 0; i < 5; i++ {
		if r := do(t, a, "GET", "/v1/bot", plain, ""); r.status != 401 {
			t.Fatalf("the revoked key accepted again: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := do(t, a, "GET", "/v1/bot", other, ""); r.status != 200 {
		t.Errorf("another key after the revoke: %d %s", r.status, r.body)
	}
	log, err := a.DB.AuditSearch(context.Background(), store.AuditFilter{Action: "key.revoke"})
	if err != nil || len(log) != 1 || log[0].Actor != "cli" || log[0].Target != k.ID {
		t.Errorf("audit of the CLI's revoke: %+v %v", log, err)
	}
}
