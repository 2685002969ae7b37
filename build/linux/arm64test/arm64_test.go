package arm64test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// missing skips the test saying what is missing, or fails it under CI (CI set, not false or 0),
// where make test installs all of it: the rule of backend/internal/testneeds, which Go's internal
// rule keeps from packages outside backend/.
func missing(t *testing.T, args ...any) {
	t.Helper()
	msg := strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("missing under CI, where a skip would hide this test: " + msg)
	}
	t.Skip(msg)
}

// tools calls missing unless every command is on the PATH.
func tools(t *testing.T, install string, commands ...string) {
	t.Helper()
	var absent []string
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			absent = append(absent, c)
		}
	}
	if len(absent) > 0 {
		missing(t, strings.Join(absent, ", ")+" not installed ("+install+")")
	}
}

// repoRoot is the repository's root, two folders above this file's.
func repoRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// qemuAarch64 is the qemu-user program for aarch64: Debian's qemu-user-static (what make test
// installs) or qemu-user.
func qemuAarch64(t *testing.T) string {
	for _, name := range []string{"qemu-aarch64-static", "qemu-aarch64"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "qemu-aarch64-static not installed (make test installs it: apt-get install qemu-user-static)")
	return ""
}

// TestArm64UnderQemu builds the linux/arm64 .deb and .rpm of build/linux/nfpm-arm64.yaml, checks
// what they say of themselves (architecture arm64 and aarch64, the speech engines' packages as
// dependencies, no GTK), unpacks the .deb and runs the binary from it under qemu-user with the
// Debian arm64 libraries of build/linux/arm64-sysroot.sh: a key, `serve` on a loopback port with
// a fresh data folder and the built-in demo content, a chat turn answered from the content, the
// built-in engines listed, and a voice turn (the binary's own espeak-ng speaks the question, its
// pocketsphinx hears it). The binary is VOICEBOT_ARM64_BIN (make test passes `make arm64`'s),
// else built here.
func TestArm64UnderQemu(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the arm64 build under qemu-user: a minute or more")
	}
	root := repoRoot(t)
	qemu := qemuAarch64(t)
	sysroot := os.Getenv("VOICEBOT_ARM64_SYSROOT")
	if sysroot == "" {
		sysroot = filepath.Join(root, "build", "sysroot-arm64")
	}
	if _, err := os.Stat(filepath.Join(sysroot, ".voicebot-sysroot")); err != nil {
		missing(t, "no arm64 sysroot at", sysroot, "(make arm64 extracts it; make test runs that)")
	}
	nfpm := filepath.Join(root, ".tools", "nfpm")
	if _, err := os.Stat(nfpm); err != nil {
		missing(t, "nfpm not built at", nfpm, "(make .tools/nfpm; make test builds it)")
	}
	tools(t, "apt-get install dpkg rpm", "dpkg-deb", "rpm")
	tmp := t.TempDir()

	bin := os.Getenv("VOICEBOT_ARM64_BIN")
	if bin == "" {
		tools(t, "make arm64 installs them", "aarch64-linux-gnu-gcc", "pkg-config")
		bin = filepath.Join(tmp, "voicebot-arm64")
		start := time.Now()
		build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH=arm64",
			"CC=aarch64-linux-gnu-gcc --sysroot="+sysroot,
			"PKG_CONFIG_SYSROOT_DIR="+sysroot,
			"PKG_CONFIG_LIBDIR="+sysroot+"/usr/lib/aarch64-linux-gnu/pkgconfig:"+sysroot+"/usr/share/pkgconfig")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("cross build for linux/arm64: %v\n%s", err, out)
		}
		t.Logf("built the linux/arm64 binary in %v", time.Since(start).Round(time.Second))
	}
	checkELF(t, bin)

	// The packages.
	deb, rpm := filepath.Join(tmp, "voicebot.deb"), filepath.Join(tmp, "voicebot.rpm")
	for _, p := range [][2]string{{"deb", deb}, {"rpm", rpm}} {
		cmd := exec.Command(nfpm, "package", "-f", "build/linux/nfpm-arm64.yaml", "-p", p[0], "-t", p[1])
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "ARM64_BIN="+bin, "VERSION=0.0.0~arm64test")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nfpm %s: %v\n%s", p[0], err, out)
		}
	}
	fields := run(t, "dpkg-deb", "-f", deb, "Package", "Architecture", "Depends")
	for _, want := range []string{"Package: voicebot\n", "Architecture: arm64\n", "libespeak-ng1", "espeak-ng-data", "pocketsphinx-en-us"} {
		if !strings.Contains(fields, want) {
			t.Errorf(".deb control fields lack %q:\n%s", want, fields)
		}
	}
	if strings.Contains(fields, "gtk") || strings.Contains(fields, "webkit") {
		t.Errorf(".deb depends on the desktop libraries, which the arm64 build does not load:\n%s", fields)
	}
	if got := run(t, "rpm", "-qp", "--qf", "%{NAME} %{ARCH}", rpm); got != "voicebot aarch64" {
		t.Errorf("rpm -qp --qf '%%{NAME} %%{ARCH}' = %q, want voicebot aarch64", got)
	}
	rpmFiles := strings.Fields(run(t, "rpm", "-qpl", rpm))
	for _, f := range []string{"/usr/bin/voicebot", "/usr/lib/voicebot/voicebot-headless", "/usr/lib/systemd/system/voicebot.service", "/etc/voicebot/settings.yaml"} {
		if !slices.Contains(rpmFiles, f) {
			t.Errorf(".rpm lacks %s: %v", f, rpmFiles)
		}
	}
	if reqs := run(t, "rpm", "-qpR", rpm); !strings.Contains(reqs, "espeak-ng") || !strings.Contains(reqs, "pocketsphinx") {
		t.Errorf(".rpm requires neither espeak-ng nor pocketsphinx:\n%s", reqs)
	}

	// The .deb unpacked: the unit's binary is the packaged one.
	pkgRoot := filepath.Join(tmp, "root")
	run(t, "dpkg-deb", "-x", deb, pkgRoot)
	target, err := os.Readlink(filepath.Join(pkgRoot, "usr/lib/voicebot/voicebot-headless"))
	if err != nil || target != "/usr/bin/voicebot" {
		t.Fatalf("/usr/lib/voicebot/voicebot-headless (the unit's ExecStart) is not a link to /usr/bin/voicebot: %q, %v", target, err)
	}
	unit, err := os.ReadFile(filepath.Join(pkgRoot, "usr/lib/systemd/system/voicebot.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart=/usr/lib/voicebot/voicebot-headless serve") {
		t.Fatalf("the packaged unit does not run /usr/lib/voicebot/voicebot-headless: %v", err)
	}
	packaged := filepath.Join(pkgRoot, target)
	checkELF(t, packaged)

	// Run it under qemu-user.
	data, conf := filepath.Join(tmp, "data"), filepath.Join(tmp, "keys")
	qemuCmd := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, qemu, append([]string{"-L", sysroot, packaged}, args...)...)
		cmd.Env = append(os.Environ(), "VOICEBOT_NO_KEYRING=1")
		return cmd
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := qemuCmd(ctx, "keys", "create", "--name", "arm64 test", "--scopes", "chat,voice",
		"--data-dir", data, "--config-dir", conf).Output()
	if err != nil {
		t.Fatalf("keys create under qemu: %v", err)
	}
	key := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	if !strings.HasPrefix(key, "vb_") {
		t.Fatalf("keys create printed %q, not a key", out)
	}

	start := time.Now()
	serve := qemuCmd(ctx, "serve", "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatalf("serve under qemu: %v", err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = serve.Process.Kill()
			<-exited
		}
	})
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving on http://(127\.0\.0\.1:\d+) `)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- serve.Wait()
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-exited:
		exited <- err
		t.Fatalf("serve under qemu exited before serving: %v\n%s", err, stderr.String())
	case <-time.After(5 * time.Minute):
		t.Fatalf("serve under qemu not ready after 5 minutes\n%s", stderr.String())
	}
	t.Logf("serve under qemu ready in %v at %s", time.Since(start).Round(time.Millisecond), base)

	// A chat turn, answered from the demo content.
	turnStart := time.Now()
	var chat struct {
		SessionID string `json:"session_id"`
		Reply     struct {
			Text   string `json:"text"`
			Kind   string `json:"kind"`
			Intent string `json:"intent"`
		} `json:"reply"`
	}
	call(t, base, key, "POST", "/v1/chat", "application/json", []byte(`{"text":"What are the opening hours?"}`), &chat)
	if chat.Reply.Intent != "opening_hours" || !strings.Contains(chat.Reply.Text, "Tuesday to Friday 10:00 to 18:00") {
		t.Fatalf("chat turn under qemu: %+v, want the demo's opening hours", chat)
	}
	t.Logf("chat turn in %v: %q", time.Since(turnStart).Round(time.Millisecond), chat.Reply.Text)

	// The built-in engines, and a voice turn through them.
	var engines struct {
		Engines []struct {
			Name    string `json:"name"`
			Kind    string `json:"kind"`
			Builtin bool   `json:"builtin"`
		} `json:"engines"`
	}
	call(t, base, key, "GET", "/v1/voice/engines", "", nil, &engines)
	var names []string
	for _, e := range engines.Engines {
		if e.Builtin {
			names = append(names, e.Kind+":"+e.Name)
		}
	}
	if !slices.Contains(names, "stt:pocketsphinx") || !slices.Contains(names, "tts:espeak-ng") {
		t.Fatalf("built-in engines of the arm64 build: %v, want stt:pocketsphinx and tts:espeak-ng", names)
	}
	voiceStart := time.Now()
	wav := call(t, base, key, "POST", "/v1/audio/speech", "application/json",
		[]byte(`{"input":"What are the opening hours?","response_format":"wav","lang":"en"}`), nil)
	if len(wav) < 10000 || string(wav[:4]) != "RIFF" {
		t.Fatalf("speech under qemu: %d bytes, not a WAV", len(wav))
	}
	var voice struct {
		Transcript string `json:"transcript"`
		Reply      struct {
			Intent string `json:"intent"`
		} `json:"reply"`
	}
	call(t, base, key, "POST", "/v1/voice?lang=en&session_id="+chat.SessionID, "audio/wav", wav, &voice)
	if voice.Transcript != "what are the opening hours" || voice.Reply.Intent != "opening_hours" {
		t.Fatalf("voice turn under qemu: heard %q, answered %q; want the opening hours", voice.Transcript, voice.Reply.Intent)
	}
	t.Logf("voice turn (speech %d bytes, then heard and answered) in %v", len(wav), time.Since(voiceStart).Round(time.Millisecond))
}

// checkELF fails unless path is a linux/arm64 program that loads libespeak-ng (the cgo build
// with the speech engines, not the static one without).
func checkELF(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		t.Fatalf("%s is %v %v, not a 64-bit arm64 program", path, f.Class, f.Machine)
	}
	libs, err := f.ImportedLibraries()
	if err != nil || !slices.Contains(libs, "libespeak-ng.so.1") {
		t.Fatalf("%s loads %v (%v), not libespeak-ng.so.1: not the build with the speech engines", path, libs, err)
	}
}

// run runs a command on this machine and returns its trimmed output, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// call makes one request with the key; a JSON answer is decoded into v when v is not nil. It
// returns the body and fails the test unless the status is 200.
func call(t *testing.T, base, key, method, path, ctype string, body []byte, v any) []byte {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c := &http.Client{Timeout: 3 * time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return b
}
