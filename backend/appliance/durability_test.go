package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// helperServe runs in a child process (this test binary, re-executed): a real appliance that the
// parent kills with SIGKILL in the middle of a load.
func helperServe() {
	o := Options{DataDir: os.Getenv("VOICEBOT_HELPER_DATA"), ConfigDir: os.Getenv("VOICEBOT_HELPER_CONFIG"), Listen: "127.0.0.1:0"}
	if l := os.Getenv("VOICEBOT_HELPER_LISTEN"); l != "" { // only inside a test's own network namespace (netns_test.go)
		o.Listen = l
	}
	o.ConfigFile = os.Getenv("VOICEBOT_HELPER_SETTINGS")
	if d, err := time.ParseDuration(os.Getenv("VOICEBOT_HELPER_ADDR_CHECK")); err == nil {
		o.AddressCheckEvery = d
	}
	if ui := os.Getenv("VOICEBOT_HELPER_UI"); ui != "" {
		o.VisitorUI = os.DirFS(ui)
	}
	a, err := Start(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tmp := os.Getenv("VOICEBOT_HELPER_ADDR") + ".tmp"
	os.WriteFile(tmp, []byte(a.Addr()), 0o600)
	os.Rename(tmp, os.Getenv("VOICEBOT_HELPER_ADDR"))
	select {}
}

// TestKill9KeepsAcknowledgedTurns kills the server process mid-load and checks that every turn it
// acknowledged with a 200 is in the store afterwards.
func TestKill9KeepsAcknowledgedTurns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	o := Options{DataDir: t.TempDir(), ConfigDir: t.TempDir()}
	db, err := OpenStore(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.NewService(db).Create(context.Background(), keys.Spec{Name: "load", Scopes: []string{"chat"}, Rate: "1000000/s"}, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VOICEBOT_HELPER_SERVE=1", "VOICEBOT_HELPER_DATA="+o.DataDir, "VOICEBOT_HELPER_CONFIG="+o.ConfigDir, "VOICEBOT_HELPER_ADDR="+addrFile)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if b, err := os.ReadFile(addrFile); err == nil {
			addr = string(b)
		} else if time.Now().After(deadline) {
			t.Fatal("the child server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				text := fmt.Sprintf("durability probe %d %d", w, i)
				req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat", strings.NewReader(`{"text":"`+text+`"}`))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				var body struct {
					SessionID string `json:"session_id"`
				}
				json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				if res.StatusCode == 200 {
					mu.Lock()
					acked[text] = true
					mu.Unlock()
				}
			}
		}(w)
	}
	// let the load run until a few hundred turns are acknowledged, then kill -9 mid-load
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	db, err = OpenStore(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := storedVisitorTexts(t, db.(*store.DB))
	lost := 0
	for text := range acked {
		if !stored[text] {
			lost++
		}
	}
	t.Logf("%d turns acknowledged before kill -9, %d stored, %d acknowledged turns lost", len(acked), len(stored), lost)
	if len(acked) == 0 {
		t.Fatal("no turn was acknowledged: the load did not run")
	}
	if lost > 0 {
		t.Errorf("%d acknowledged turns were lost", lost)
	}
}
