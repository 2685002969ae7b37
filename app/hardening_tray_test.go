//go:build desktop

package app

// A tray click (or a second start's focus, or the page) before the window has started has no
// Wails context: Wails turns a call without one into log.Fatalf, which ends the process. No tray
// action may kill the process (issue 16). The calls run in a child process, so a log.Fatalf shows
// as its exit status instead of ending the test binary.

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestTrayActionsBeforeWindow(t *testing.T) {
	if os.Getenv("VOICEBOT_TEST_TRAY_CHILD") == "1" {
		a := startCore(t)
		w := &Window{a: a, kiosk: true, pinHash: []byte("x")}
		w.Show()
		if err := w.openDashboard("tray"); err == nil {
			t.Log("dashboard opened without a window") // allowed, as long as nothing died
		}
		w.mu.Lock()
		w.until = time.Now().Add(time.Minute) // unlocked
		w.mu.Unlock()
		_ = w.ExitFullscreen()
		_ = w.OpenDashboard()
		w.Lock()
		runAction(func() { panic("a tray action's bug") })
		w.quit()
		if !w.quitting() {
			t.Error("quit before the window started was forgotten")
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrayActionsBeforeWindow$", "-test.v")
	cmd.Env = append(os.Environ(), "VOICEBOT_TEST_TRAY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "cannot call") || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("window and tray calls before the window started ended the process (%v):\n%s", err, out)
	}
}
