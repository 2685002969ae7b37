package app_test

// The desktop build, for real: the binary built with the desktop tags runs under Xvfb in its own
// D-Bus session (dbus-run-session, so that the session bus and the accessibility helpers WebKit
// starts end with it). The test types into the visitor screen with xdotool, reads the rendered
// answer back from a screenshot with tesseract (OCR), checks the turn in the store through the
// LAN API, proves that a recovered panic no longer kills the process once WebKit is up (and that
// it does without the signal-stack fix), that a second start on the same data folder hands over
// to the first, that kiosk mode is full screen and needs the PIN to quit, and measures the
// memory of the window's process tree after 100 turns. Screenshots go to
// test-artifacts/desktop/.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// needTools skips (or, in CI, fails) when the desktop build's tools are missing.
func needTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, c := range []string{"Xvfb", "xdotool", "import", "convert", "tesseract", "dbus-run-session", "pkg-config", "gcc"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		if err := exec.Command("pkg-config", "--exists", "webkit2gtk-4.1", "gtk+-3.0").Run(); err != nil {
			missing = append(missing, "libwebkit2gtk-4.1-dev libgtk-3-dev")
		}
	}
	if len(missing) > 0 {
		msg := "desktop test needs: " + strings.Join(missing, ", ") + " (make desktop-deps installs them as root)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// desktopBinary builds the desktop binary once per test run (Go's build cache makes reruns fast).
func desktopBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "voicebot-desktop-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "voicebot")
		cmd := exec.Command("go", "build", "-tags", "desktop,production,webkit2_41", "-o", binPath, ".")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// xvfb starts a virtual screen and returns its DISPLAY. Xvfb picks a free display number itself
// (-displayfd) and is stopped with SIGTERM, so that it removes its socket and lock file.
func xvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	n, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil {
		t.Fatalf("Xvfb did not say its display: %q %v", line, err)
	}
	return fmt.Sprintf(":%d", n)
}

// desktopProc is a running desktop appliance.
type desktopProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	display string
	mu      sync.Mutex
	log     bytes.Buffer
	exited  chan struct{}
	err     error
}

func (p *desktopProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// waitLog waits for a line of the process's output to match re and returns the first group.
func (p *desktopProc) waitLog(re *regexp.Regexp, within time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.output()); m != nil {
			if len(m) > 1 {
				return m[1]
			}
			return m[0]
		}
		select {
		case <-p.exited:
			p.t.Fatalf("the desktop appliance exited (%v) before %q:\n%s", p.err, re, p.output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.t.Fatalf("timed out waiting for %q:\n%s", re, p.output())
	return ""
}

func (p *desktopProc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

type logWriter struct{ p *desktopProc }

func (w logWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.log.Write(b)
}

// startDesktop runs the binary in its own D-Bus session on display.
func startDesktop(t *testing.T, bin, display string, env []string, args ...string) *desktopProc {
	t.Helper()
	cmd := exec.Command("dbus-run-session", append([]string{"--", bin}, args...)...)
	cmd.Env = append(os.Environ(), append([]string{"DISPLAY=" + display, "VOICEBOT_NO_KEYRING=1", "NO_AT_BRIDGE=1"}, env...)...)
	return runDesktop(t, display, cmd)
}

// runDesktop starts cmd in a process group of its own (the bus and WebKit's helpers with it),
// collects its output, and stops the group when the test ends.
func runDesktop(t *testing.T, display string, cmd *exec.Cmd) *desktopProc {
	t.Helper()
	p := &desktopProc{t: t, display: display, cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = logWriter{p}, logWriter{p}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		if p.alive() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-p.exited
			}
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of the session, if any
	})
	return p
}

// waitFor polls cond until it holds; on a timeout, or if the appliance dies, the test fails
// with what the appliance said.
func (p *desktopProc) waitFor(what string, cond func() bool) {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
		if !p.alive() {
			p.t.Fatalf("the desktop appliance died waiting for %s (%v):\n%s", what, p.err, p.output())
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; the appliance said:\n%s", what, p.output())
		}
	}
}

func x(t *testing.T, display string, args ...string) string {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// screenshot saves the whole screen to test-artifacts/desktop/name and returns the path.
func screenshot(t *testing.T, display, name string) string {
	t.Helper()
	dir := filepath.Join("..", "test-artifacts", "desktop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	return path
}

// ocr reads the text of a screenshot twice: as it is, and in black and white (coloured text on
// a dimmed backdrop, such as an error under a modal, reads better so).
func ocr(t *testing.T, path string) string {
	t.Helper()
	plain, err := exec.Command("tesseract", path, "-", "--psm", "3").Output()
	if err != nil {
		t.Fatalf("tesseract: %v", err)
	}
	bw := strings.TrimSuffix(path, ".png") + ".bw.png"
	defer os.Remove(bw)
	if out, err := exec.Command("convert", path, "-colorspace", "gray", "-threshold", "60%", bw).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v\n%s", err, out)
	}
	sparse, err := exec.Command("tesseract", bw, "-", "--psm", "11").Output()
	if err != nil {
		t.Fatalf("tesseract: %v", err)
	}
	return string(plain) + "\n" + string(sparse)
}

// waitScreen takes screenshots until the screen's text contains every word, and returns it.
func waitScreen(t *testing.T, display, name string, words ...string) string {
	t.Helper()
	var text string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		text = ocr(t, screenshot(t, display, name))
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			return text
		}
	}
	t.Fatalf("the screen never showed %q; it read:\n%s", words, text)
	return ""
}

// waitScreenAny waits for the screen to show any one of the words.
func waitScreenAny(t *testing.T, display, name string, words ...string) string {
	t.Helper()
	var text string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		text = ocr(t, screenshot(t, display, name))
		for _, w := range words {
			if strings.Contains(text, w) {
				return text
			}
		}
	}
	t.Fatalf("the screen never showed any of %q; it read:\n%s", words, text)
	return ""
}

func cli(t *testing.T, bin string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("voicebot %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func getJSON(t *testing.T, url, key string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

var listenRe = regexp.MustCompile(`msg="desktop window" kiosk=\w+ listen=(\S+)`)
var readyRe = regexp.MustCompile(`msg="window ready" signal_handlers_fixed=(\d+)`)

func TestDesktopWindow(t *testing.T) {
	needTools(t)
	bin := desktopBinary(t)
	display := xvfb(t)
	dir := t.TempDir()
	data, conf := filepath.Join(dir, "data"), filepath.Join(dir, "config")
	admin := cli(t, bin, "", "keys", "create", "--name", "desktop test", "--scopes", "admin", "--data-dir", data, "--config-dir", conf)

	p := startDesktop(t, bin, display, []string{"VOICEBOT_SELFTEST=1"}, "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	addr := p.waitLog(listenRe, 60*time.Second)
	fixed, _ := strconv.Atoi(p.waitLog(readyRe, 60*time.Second))
	if fixed == 0 {
		t.Errorf("no signal handler needed SA_ONSTACK: WebKit's handlers were expected (%s)", p.output())
	}
	win := x(t, display, "search", "--sync", "--onlyvisible", "--name", "^VoiceBot")
	win = strings.Fields(win)[0]
	if title := x(t, display, "getwindowname", win); !strings.HasPrefix(title, "VoiceBot") {
		t.Errorf("window title %q does not begin with VoiceBot", title)
	}
	waitScreen(t, display, "01-window.png", "Mira", "opening hours")

	// A visitor types a question; the answer is rendered in the window.
	x(t, display, "windowfocus", "--sync", win)
	x(t, display, "type", "--delay", "20", "When does the museum open on Sunday?")
	x(t, display, "key", "Return")
	waitScreen(t, display, "02-answer.png", "Sundays", "15:00")

	// The turn is in the store, made by the window's own principal.
	var sessions struct {
		Sessions []struct {
			ID    string `json:"id"`
			KeyID string `json:"key_id"`
		} `json:"sessions"`
	}
	getJSON(t, "http://"+addr+"/v1/sessions", admin, &sessions)
	if len(sessions.Sessions) != 1 || sessions.Sessions[0].KeyID != "window" {
		t.Fatalf("sessions after one window turn: %+v", sessions)
	}

	// The LAN API still needs a key: the window's trust does not leak to the listener.
	res, err := http.Get("http://" + addr + "/v1/bot")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("GET /v1/bot without a key on the LAN listener: %d, want 401", res.StatusCode)
	}

	// A panic recovered by net/http must not kill the process now that WebKit is up.
	panicURL := "http://" + regexp.MustCompile(`selftest panic route: http://(\S+)`).FindStringSubmatch(p.output())[1]
	if r, err := http.Get(panicURL); err == nil {
		r.Body.Close()
	}
	time.Sleep(500 * time.Millisecond)
	if !p.alive() {
		t.Fatalf("the process died after a recovered panic:\n%s", p.output())
	}
	if r, err := http.Get("http://" + addr + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz after the panic: %v", err)
	}

	// A second start on the same data folder hands over to the first and exits 0.
	second := exec.Command(bin, "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	second.Env = append(os.Environ(), "DISPLAY="+display, "VOICEBOT_NO_KEYRING=1")
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running") || !strings.Contains(string(out), "brought its window to the front") {
		t.Errorf("second start: %v\n%s", err, out)
	}

	// Memory after 100 turns: the whole tree (the app, WebKit's web and network processes).
	for i := 0; i < 100; i++ {
		x(t, display, "type", "--delay", "1", []string{"How much is a ticket?", "Where are the toilets?", "What exhibitions are on?", "Can I take photos?"}[i%4])
		x(t, display, "key", "Return")
		time.Sleep(60 * time.Millisecond)
	}
	var after struct {
		Messages []json.RawMessage `json:"messages"`
	}
	p.waitFor("100 more turns stored", func() bool {
		getJSON(t, "http://"+addr+"/v1/sessions/"+sessions.Sessions[0].ID+"/messages", admin, &after)
		return len(after.Messages) >= 2*101
	})
	time.Sleep(time.Second)
	screenshot(t, display, "03-after-100-turns.png")
	m := treeMemory(t, p.cmd.Process.Pid)
	t.Logf("window process tree after 101 turns: resident %.1f MB (each physical page once), sum of per-process RSS %.1f MB, PSS %.1f MB; %s",
		m.unique, m.rss, m.pss, strings.Join(m.procs, ", "))
	if m.unique > 350 {
		t.Errorf("window process tree resident memory %.1f MB > 350 MB budget", m.unique)
	}
	if v := os.Getenv("VOICEBOT_MEMORY_REPORT"); v != "" {
		_ = os.WriteFile(v, []byte(fmt.Sprintf("tree_resident_mb %.1f\nsum_rss_mb %.1f\npss_mb %.1f\nprocesses %s\n", m.unique, m.rss, m.pss, strings.Join(m.procs, ","))), 0o644)
	}

	// SIGTERM closes the window and stops the core cleanly.
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // dbus-run-session passes it on to the app
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("did not stop on SIGTERM:\n%s", p.output())
	}
}

func TestDesktopPanicKillsWithoutSignalFix(t *testing.T) {
	needTools(t)
	bin := desktopBinary(t)
	display := xvfb(t)
	dir := t.TempDir()
	p := startDesktop(t, bin, display, []string{"VOICEBOT_SELFTEST=1", "VOICEBOT_SELFTEST_NO_SIGFIX=1"},
		"--data-dir", filepath.Join(dir, "data"), "--config-dir", filepath.Join(dir, "config"), "--listen", "127.0.0.1:0")
	p.waitLog(readyRe, 60*time.Second)
	panicURL := "http://" + regexp.MustCompile(`selftest panic route: http://(\S+)`).FindStringSubmatch(p.output())[1]
	if r, err := http.Get(panicURL); err == nil {
		r.Body.Close()
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("without the SA_ONSTACK fix the process was expected to die on a recovered panic; the test would prove nothing")
	}
	if !strings.Contains(p.output(), "without SA_ONSTACK") {
		t.Fatalf("died, but not of the signal-stack crash:\n%s", p.output())
	}
}

func TestDesktopKiosk(t *testing.T) {
	needTools(t)
	bin := desktopBinary(t)
	display := xvfb(t)
	dir := t.TempDir()
	data, conf := filepath.Join(dir, "data"), filepath.Join(dir, "config")
	// Without a PIN, kiosk mode refuses to start.
	noPIN := exec.Command(bin, "--kiosk", "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	noPIN.Env = append(os.Environ(), "DISPLAY="+display, "VOICEBOT_NO_KEYRING=1", "DBUS_SESSION_BUS_ADDRESS=")
	if out, err := noPIN.CombinedOutput(); err == nil || !strings.Contains(string(out), "kiosk-pin") {
		t.Fatalf("kiosk without a PIN: %v\n%s", err, out)
	}
	cli(t, bin, "2468\n", "kiosk-pin", "--config-dir", conf)
	settings, _ := os.ReadFile(filepath.Join(conf, "settings.yaml"))
	if strings.Contains(string(settings), "2468") || !strings.Contains(string(settings), "kiosk_pin_hash: $2") {
		t.Fatalf("settings file should hold only a bcrypt hash:\n%s", settings)
	}
	admin := cli(t, bin, "", "keys", "create", "--name", "kiosk test", "--scopes", "admin", "--data-dir", data, "--config-dir", conf)

	p := startDesktop(t, bin, display, nil, "--kiosk", "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	addr := p.waitLog(regexp.MustCompile(`msg="desktop window" kiosk=true listen=(\S+)`), 60*time.Second)
	p.waitLog(readyRe, 60*time.Second)
	win := strings.Fields(x(t, display, "search", "--sync", "--onlyvisible", "--name", "^VoiceBot"))[0]
	waitScreen(t, display, "kiosk-01.png", "Mira")
	geo := x(t, display, "getwindowgeometry", win)
	if !strings.Contains(geo, "1280x900") {
		t.Errorf("kiosk window is not full screen: %s", geo)
	}
	x(t, display, "windowfocus", "--sync", win)

	// The exit keys open the PIN keypad; a wrong PIN is refused, the right one opens the menu.
	x(t, display, "key", "ctrl+alt+shift+q")
	waitScreen(t, display, "kiosk-02-pin.png", "Operator", "PIN")
	x(t, display, "type", "--delay", "20", "1111")
	x(t, display, "key", "Return")
	waitScreen(t, display, "kiosk-03-wrong.png", "Wrong PIN")
	x(t, display, "type", "--delay", "20", "2468")
	x(t, display, "key", "Return")
	waitScreen(t, display, "kiosk-04-menu.png", "Quit VoiceBot", "Open dashboard")
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
		} `json:"entries"`
	}
	getJSON(t, "http://"+addr+"/v1/audit?action=kiosk", admin, &audit)
	var actions []string
	for _, e := range audit.Entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "kiosk.unlock_failed") || !strings.Contains(got, "kiosk.unlock") {
		t.Errorf("audit of kiosk unlocks: %s", got)
	}
	// The menu opens with "Back to visitors" focused; one step back is "Quit VoiceBot".
	x(t, display, "key", "shift+Tab")
	x(t, display, "key", "Return")
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		screenshot(t, display, "kiosk-05-not-quit.png")
		t.Fatalf("Quit after the PIN did not stop the appliance:\n%s", p.output())
	}
}

// memory is the resident memory of a process tree, three ways: unique counts each physical
// page once however many processes map it (read from /proc/PID/pagemap, which shows frame
// numbers to root only; otherwise it falls back to PSS); rss is the sum of the processes' own
// RSS, which counts the shared libraries (WebKit, JavaScriptCore, Mesa) once per process; pss
// splits each shared page between the processes that map it.
type memory struct {
	unique, rss, pss float64
	procs            []string
}

// treeMemory measures pid and its descendants, leaving out the test's own D-Bus session.
func treeMemory(t *testing.T, root int) memory {
	t.Helper()
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], pid)
		}
	}
	var m memory
	frames := map[uint64]struct{}{}
	framesOK := true
	var walk func(pid int)
	walk = func(pid int) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		name := strings.TrimSpace(string(comm))
		if !strings.HasPrefix(name, "dbus-") && !strings.HasPrefix(name, "at-spi") { // the test's own session bus
			r, ps := procMemory(pid)
			m.rss += r
			m.pss += ps
			m.procs = append(m.procs, fmt.Sprintf("%s RSS %.0f MB", name, r))
			if !residentFrames(pid, frames) {
				framesOK = false
			}
		}
		for _, c := range children[pid] {
			walk(c)
		}
	}
	walk(root)
	m.unique = float64(len(frames)) * float64(os.Getpagesize()) / (1 << 20)
	if !framesOK {
		t.Logf("page frame numbers are visible to root only: the tree's resident memory is given as PSS")
		m.unique = m.pss
	}
	return m
}

// residentFrames adds the physical frames of pid's resident pages to set; false when the
// kernel hides frame numbers (not root).
func residentFrames(pid int, set map[uint64]struct{}) bool {
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return false
	}
	pm, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return false
	}
	defer pm.Close()
	page := uint64(os.Getpagesize())
	var start, end uint64
	seen := false
	for _, line := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(f[0], "-"); ok && len(f) >= 5 && !strings.HasSuffix(f[0], ":") {
			a, e1 := strconv.ParseUint(lo, 16, 64)
			b, e2 := strconv.ParseUint(hi, 16, 64)
			if e1 == nil && e2 == nil {
				start, end = a, b
				continue
			}
		}
		if f[0] != "Rss:" || f[1] == "0" {
			continue
		}
		n := (end - start) / page
		buf := make([]byte, 8*n)
		if _, err := pm.ReadAt(buf, int64(start/page*8)); err != nil && err != io.EOF {
			continue
		}
		for i := uint64(0); i < n; i++ {
			e := uint64(buf[8*i]) | uint64(buf[8*i+1])<<8 | uint64(buf[8*i+2])<<16 | uint64(buf[8*i+3])<<24 |
				uint64(buf[8*i+4])<<32 | uint64(buf[8*i+5])<<40 | uint64(buf[8*i+6])<<48 | uint64(buf[8*i+7])<<56
			if e>>63 == 0 { // not present
				continue
			}
			pfn := e & (1<<55 - 1)
			if pfn == 0 {
				return false // hidden from this user
			}
			set[pfn] = struct{}{}
			seen = true
		}
	}
	return seen
}

func procMemory(pid int) (rss, pss float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "Rss:":
			rss = kb / 1024
		case "Pss:":
			pss = kb / 1024
		}
	}
	return rss, pss
}

// The microphone in the window: WebKit's mock capture device (a tone; Xvfb has no sound card)
// feeds the visitor screen, whose frames go over the window's bridge to the core's voice
// session: the screen says it is listening and the core counts the audio it receives.
func TestDesktopMicrophone(t *testing.T) {
	needTools(t)
	bin := desktopBinary(t)
	display := xvfb(t)
	dir := t.TempDir()
	data, conf := filepath.Join(dir, "data"), filepath.Join(dir, "config")
	admin := cli(t, bin, "", "keys", "create", "--name", "mic test", "--scopes", "admin", "--data-dir", data, "--config-dir", conf)
	p := startDesktop(t, bin, display, []string{"VOICEBOT_SELFTEST_MOCK_MIC=1"}, "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	addr := p.waitLog(listenRe, 60*time.Second)
	p.waitLog(readyRe, 60*time.Second)
	win := strings.Fields(x(t, display, "search", "--sync", "--onlyvisible", "--name", "^VoiceBot"))[0]
	waitScreen(t, display, "mic-01.png", "Mira")
	x(t, display, "windowfocus", "--sync", win)
	x(t, display, "key", "Tab") // from the question box to the microphone
	x(t, display, "key", "Return")
	// "Listening…" until the detector hears the mock device's tone, then "Hearing you…": either
	// says the microphone is live (under load the first can pass between two screenshots).
	waitScreenAny(t, display, "mic-02-listening.png", "Listening", "Hearing you")
	p.waitFor("the window's microphone audio at the core", func() bool {
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := regexp.MustCompile(`voicebot_voice_audio_received_seconds_total ([0-9.e+]+)`).FindSubmatch(b)
		if m == nil {
			return false
		}
		secs, _ := strconv.ParseFloat(string(m[1]), 64)
		return secs >= 2
	})
	screenshot(t, display, "mic-03-streaming.png")
}
