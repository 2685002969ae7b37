package appliance

// What the desktop shell (app/) asks of the running core: the handler its window's web view is
// served by, pausing visitor conversation, switching LAN access, the address to share and a
// signed-in link to the dashboard. The shell holds no logic of its own beyond the window and tray.

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"voicebot/backend/config"
	"voicebot/backend/httpapi"
	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// WindowKey is the principal of the desktop window's own requests: its web view talks to the
// core inside the process, so it needs no API key; it may chat and nothing else.
var WindowKey = &keys.Key{ID: "window", Name: "desktop window", Scopes: []string{keys.ScopeChat, keys.ScopeVoice}}

// WindowHandler serves the desktop window's web view: the visitor screen and the API, every
// request served as WindowKey. It must only be given to an in-process web view, never to a
// listener.
func (a *Appliance) WindowHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" { // the window never sends keys; nothing to mix
			r.Header.Del("Authorization")
		}
		a.root.ServeHTTP(w, httpapi.Local(r, WindowKey))
	})
}

// SetPaused pauses or resumes visitor conversation (window, LAN screens and API alike), audited.
func (a *Appliance) SetPaused(p bool, actor string) {
	if a.API.Paused() == p {
		return
	}
	a.API.SetPaused(p)
	action := "visitor.resume"
	if p {
		action = "visitor.pause"
	}
	a.audit(store.AuditEntry{Actor: actor, Action: action})
}

// Paused reports whether visitor conversation is paused.
func (a *Appliance) Paused() bool { return a.API.Paused() }

// LAN reports whether the API listens beyond loopback.
func (a *Appliance) LAN() bool {
	host, _, _ := net.SplitHostPort(a.Addr())
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// SetLAN moves the listener to all interfaces (on) or to loopback (off) on the same port.
// Connections already open finish on the old listener's server; keys are still required.
func (a *Appliance) SetLAN(on bool, actor string) error {
	if a.LAN() == on {
		return nil
	}
	_, port, _ := net.SplitHostPort(a.Addr())
	addr := net.JoinHostPort("127.0.0.1", port)
	if on {
		addr = net.JoinHostPort("", port)
	}
	a.mu.Lock()
	old := a.ln
	a.mu.Unlock()
	// The port can be bound once: close the old listener first, then bind the new one; on
	// failure go back to the old address so the appliance never ends up deaf.
	_ = old.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		back, berr := net.Listen("tcp", old.Addr().String())
		if berr != nil {
			return fmt.Errorf("listen on %s: %w; and the previous address %s could not be taken back: %v", addr, err, old.Addr(), berr)
		}
		ln = back
		err = fmt.Errorf("listen on %s: %w", addr, err)
	}
	a.mu.Lock()
	a.ln = ln
	a.mu.Unlock()
	go a.serve(ln)
	if err != nil {
		return err
	}
	detail := "LAN access off: " + ln.Addr().String()
	if on {
		detail = "LAN access on: " + ln.Addr().String()
	}
	a.audit(store.AuditEntry{Actor: actor, Action: "settings.lan", Detail: detail})
	a.updateDiscovery()
	return nil
}

// ShareAddress is the address LAN screens open (https://<this machine's LAN address>:port/: a
// browser grants the microphone only to a secure page), or the loopback address (plain HTTP)
// when the LAN is off.
func (a *Appliance) ShareAddress() string {
	_, port, _ := net.SplitHostPort(a.Addr())
	host, scheme := "127.0.0.1", "http://"
	if a.LAN() {
		if ip := a.listenHost(); ip != nil {
			host, scheme = ip.String(), "https://"
		} else if ip := lanIP(); ip != "" {
			host, scheme = ip, "https://"
		}
	}
	return scheme + net.JoinHostPort(host, port) + "/"
}

// lanIP is the machine's first non-loopback IPv4 address, or "".
func lanIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// DashboardLink is a one-time sign-in link to the dashboard on this machine (loopback when
// the appliance listens on every interface).
func (a *Appliance) DashboardLink(ctx context.Context) (string, error) {
	host, port, _ := net.SplitHostPort(a.Addr())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return store.CreateLink(ctx, a.Store, "http://"+net.JoinHostPort(host, port))
}

// FileSettings are the settings file's values as last loaded (empty without a file); the
// desktop reads its kiosk settings here.
func (a *Appliance) FileSettings() config.Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.file
}
