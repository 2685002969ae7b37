package app_test

// The headless build: no GTK or WebKit linked (ldd), and its idle memory as a benchmark
// metric, beside the desktop build run with --headless (which loads GTK's libraries without
// opening anything) as the baseline in the same command:
//
//	go test ./app -run '^$' -bench IdleRSS -count 3

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func headlessBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "voicebot-headless")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestHeadlessBuildLinksNoGTK(t *testing.T) {
	bin := headlessBinary(t)
	out, _ := exec.Command("ldd", bin).CombinedOutput()
	if !strings.Contains(string(out), "not a dynamic executable") {
		t.Fatalf("the headless build is dynamic:\n%s", out)
	}
	// Run with a display but no window in the build: it says why and serves headless.
	dir := t.TempDir()
	cmd := exec.Command(bin, "--data-dir", filepath.Join(dir, "d"), "--config-dir", filepath.Join(dir, "c"), "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DISPLAY=:0", "VOICEBOT_NO_KEYRING=1")
	stderr, _ := cmd.StderrPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	if !strings.Contains(line, "running headless") || !strings.Contains(line, "desktop tag") {
		t.Errorf("first log line: %q", line)
	}
	out2, _ := bufio.NewReader(stdout).ReadString('\n')
	if !strings.Contains(out2, "serving on http://127.0.0.1:") {
		t.Errorf("not serving: %q", out2)
	}
}

var servingRe = regexp.MustCompile(`serving on http://`)

// idleRSS starts a binary's headless core and returns its RSS (MB) after two idle seconds.
func idleRSS(b *testing.B, bin string, args ...string) float64 {
	dir := b.TempDir()
	cmd := exec.Command(bin, append(args, "--data-dir", filepath.Join(dir, "d"), "--config-dir", filepath.Join(dir, "c"), "--listen", "127.0.0.1:0")...)
	cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1", "DISPLAY=")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if !servingRe.MatchString(line) {
		b.Fatalf("not serving: %q", line)
	}
	time.Sleep(2 * time.Second)
	status, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(status)
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

func BenchmarkIdleRSS(b *testing.B) {
	b.Run("headless-build", func(b *testing.B) {
		bin := headlessBinary(b)
		b.ResetTimer()
		var rss float64
		for i := 0; i < b.N; i++ {
			rss = idleRSS(b, bin, "serve")
		}
		b.ReportMetric(rss, "rss_MB")
	})
	b.Run("desktop-build-headless", func(b *testing.B) {
		if testing.Short() {
			b.Skip("short")
		}
		bin := desktopBinary(b)
		b.ResetTimer()
		var rss float64
		for i := 0; i < b.N; i++ {
			rss = idleRSS(b, bin, "--headless")
		}
		b.ReportMetric(rss, "rss_MB")
	})
}
