package app_test

// The tray, driven the way a desktop's tray host drives it: over D-Bus. The test runs its own
// session bus (dbus-daemon, a real one), starts the desktop build on it under Xvfb, finds the
// StatusNotifierItem the tray exports, reads its tooltip and clicks its menu items through
// com.canonical.dbusmenu (GetLayout, Event). There is no tray host on that bus, so this also
// shows that the appliance carries on without one. A second test starts it with no session bus.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// sessionBus starts a private D-Bus session daemon and returns its address.
func sessionBus(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	return strings.TrimSpace(line)
}

type menuLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// trayMenu reads the tray's menu: label -> item id.
func trayMenu(t *testing.T, obj dbus.BusObject) map[string]int32 {
	t.Helper()
	var rev uint32
	var layout menuLayout
	if err := obj.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &layout); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	items := map[string]int32{}
	for _, c := range layout.Children {
		var child menuLayout
		if err := dbus.Store([]any{c.Value()}, &child); err != nil {
			t.Fatalf("menu item: %v", err)
		}
		if label, ok := child.Props["label"].Value().(string); ok {
			items[label] = child.ID
		}
	}
	return items
}

func tooltip(t *testing.T, item dbus.BusObject) string {
	t.Helper()
	v, err := item.GetProperty("org.kde.StatusNotifierItem.ToolTip")
	if err != nil {
		t.Fatalf("ToolTip: %v", err)
	}
	return fmt.Sprint(v.Value())
}

func TestTrayOverDBus(t *testing.T) {
	needTools(t)
	bin := desktopBinary(t)
	display := xvfb(t)
	bus := sessionBus(t)
	dir := t.TempDir()
	data, conf := filepath.Join(dir, "data"), filepath.Join(dir, "config")
	chat := cli(t, bin, "", "keys", "create", "--name", "tray test", "--scopes", "chat", "--data-dir", data, "--config-dir", conf)

	// The system's browser opener, replaced by one that writes down the address it is given.
	opener := filepath.Join(dir, "bin")
	opened := filepath.Join(dir, "opened")
	if err := os.MkdirAll(opener, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(opener, "xdg-open"), []byte("#!/bin/sh\necho \"$1\" >> "+opened+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "--data-dir", data, "--config-dir", conf, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus, "VOICEBOT_NO_KEYRING=1", "NO_AT_BRIDGE=1",
		"PATH="+opener+":"+os.Getenv("PATH"))
	p := runDesktop(t, display, cmd)
	addr := p.waitLog(listenRe, 60*time.Second)
	p.waitLog(readyRe, 60*time.Second)

	conn, err := dbus.Connect(bus)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", p.cmd.Process.Pid)
	p.waitFor("the tray on the bus", func() bool {
		var names []string
		_ = conn.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names)
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	})
	item := conn.Object(name, "/StatusNotifierItem")
	menu := conn.Object(name, "/StatusNotifierItem/menu")
	// The item's name is on the bus before its tooltip is set: wait for it, as for the later
	// tooltips (a clean-clone CI run read it empty once under load).
	p.waitFor("the tooltip at start", func() bool { return strings.Contains(tooltip(t, item), "VoiceBot: running") })
	items := trayMenu(t, menu)
	for _, want := range []string{"Open window", "Open dashboard", "Pause listening", "LAN access", "Reload content", "Quit VoiceBot"} {
		if _, ok := items[want]; !ok {
			t.Fatalf("tray menu lacks %q: %v", want, items)
		}
	}
	click := func(label string) {
		t.Helper()
		id, ok := items[label]
		if !ok {
			t.Fatalf("no menu item %q in %v", label, items)
		}
		if err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err; err != nil {
			t.Fatalf("click %q: %v", label, err)
		}
	}
	chatStatus := func() int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat", strings.NewReader(`{"text":"hello"}`))
		req.Header.Set("Authorization", "Bearer "+chat)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}

	// Pause: screens are told to ask at the desk; the icon says paused. Resume undoes it.
	click("Pause listening")
	p.waitFor("chat refused while paused", func() bool { return chatStatus() == 503 })
	p.waitFor("paused tooltip", func() bool { return strings.Contains(tooltip(t, item), "VoiceBot: paused") })
	screenshot(t, display, "tray-01-paused.png")
	click("Pause listening")
	p.waitFor("chat answered after resume", func() bool { return chatStatus() == 200 })

	// LAN access: the listener moves to every interface on the same port.
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	click("LAN access")
	p.waitFor("listening tooltip", func() bool { return strings.Contains(tooltip(t, item), "listening on the LAN") })
	p.waitFor("wildcard listener", func() bool {
		out, _ := exec.Command("ss", "-Hltn", "sport = :"+port).Output()
		return regexp.MustCompile(`(\*|0\.0\.0\.0|\[::\]):` + port).Match(out)
	})
	items = trayMenu(t, menu)
	var share string
	for label := range items {
		if strings.HasPrefix(label, "Address: ") {
			share = label
		}
	}
	if !strings.HasSuffix(share, ":"+port+"/") {
		t.Errorf("address to share: %q", share)
	}
	click("LAN access")
	p.waitFor("running tooltip", func() bool { return strings.Contains(tooltip(t, item), "VoiceBot: running") })

	// Open dashboard: the browser is given a one-time link that signs it in.
	click("Open dashboard")
	var link string
	p.waitFor("the browser opened", func() bool {
		b, _ := os.ReadFile(opened)
		link = strings.TrimSpace(string(b))
		return link != ""
	})
	if !strings.HasPrefix(link, "http://127.0.0.1:"+port+"/dashboard/") {
		t.Fatalf("dashboard link %q", link)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.HttpOnly && c.Value != "" {
			session = c
		}
	}
	if res.StatusCode/100 != 3 || session == nil {
		t.Fatalf("the link did not sign in: %d %v", res.StatusCode, res.Cookies())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/dashboard/", nil)
	req.AddCookie(session)
	page, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 {
		t.Fatalf("dashboard with the link's session: %d", page.StatusCode)
	}

	// Reload content is audited by the core; Quit stops the appliance cleanly.
	click("Reload content")
	p.waitLog(regexp.MustCompile(`content loaded.*version=2`), 30*time.Second)
	click("Quit VoiceBot")
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("quit from the tray: %v\n%s", p.err, p.output())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("Quit from the tray did not stop the appliance:\n%s", p.output())
	}
	if strings.Contains(p.output(), "panic") {
		t.Fatalf("panic on the way out:\n%s", p.output())
	}
}

// With no session bus at all there is no tray; the window works and quits cleanly.
func TestDesktopWithoutSessionBus(t *testing.T) {
	needTools(t)
	bin := desktopBinary(t)
	display := xvfb(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--data-dir", filepath.Join(dir, "data"), "--config-dir", filepath.Join(dir, "config"), "--listen", "127.0.0.1:0")
	cmd.Env = []string{"DISPLAY=" + display, "VOICEBOT_NO_KEYRING=1", "NO_AT_BRIDGE=1"}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "DBUS_SESSION_BUS_ADDRESS=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	p := runDesktop(t, display, cmd)
	p.waitLog(regexp.MustCompile(`no tray: no D-Bus session bus`), 60*time.Second)
	p.waitLog(readyRe, 60*time.Second)
	waitScreen(t, display, "nobus-01.png", "Mira")
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("exit without a session bus: %v\n%s", p.err, p.output())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("did not stop on SIGTERM:\n%s", p.output())
	}
}
