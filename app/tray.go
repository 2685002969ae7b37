//go:build desktop

package app

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"fyne.io/systray"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// Tray status, shown by the icon's colour and its tooltip.
type trayStatus int

const (
	statusRunning   trayStatus = iota // serving on this machine only
	statusListening                   // serving, open to screens on the LAN
	statusPaused                      // visitor conversation paused by the operator
	statusError                       // content failed to load, or nothing is loaded
)

func (s trayStatus) String() string {
	return [...]string{"running", "listening on the LAN", "paused", "content error"}[s]
}

type tray struct {
	end  func()
	done chan struct{}
}

// startTray puts the operator's menu in the tray. With no session bus (Linux) there is no tray:
// systray would start its own bus that outlives the app, and its end() would panic.
func startTray(w *Window) *tray {
	t := &tray{done: make(chan struct{})}
	if runtime.GOOS == "linux" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		slog.Info("no tray: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset)")
		return t
	}
	start, end := systray.RunWithExternalLoop(func() { t.ready(w) }, func() {})
	start()
	t.end = end
	return t
}

func (t *tray) stop() {
	select {
	case <-t.done:
	default:
		close(t.done)
	}
	if t.end == nil {
		return
	}
	defer func() { // systray's end() panics on a nil bus connection when the bus went away
		if r := recover(); r != nil {
			slog.Debug("tray end", "panic", r)
		}
	}()
	t.end()
}

func (t *tray) ready(w *Window) {
	a := w.a
	systray.SetTitle("VoiceBot")
	open := systray.AddMenuItem("Open window", "Bring the visitor window to the front")
	dash := systray.AddMenuItem("Open dashboard", "Open the dashboard in the browser, signed in")
	systray.AddSeparator()
	pause := systray.AddMenuItemCheckbox("Pause listening", "Pause visitor conversation: screens say to ask at the desk", a.Paused())
	lan := systray.AddMenuItemCheckbox("LAN access", "Let tablets and screens on the LAN reach this appliance (keys still required)", a.LAN())
	reload := systray.AddMenuItem("Reload content", "Read the content folder again")
	share := systray.AddMenuItem("Address: "+a.ShareAddress(), "Click to copy the address screens on the LAN open")
	fp := a.CAFingerprint()
	ca := systray.AddMenuItem("Certificate authority "+fp[:23]+"…", "SHA-256 "+fp+": click to copy the CA certificate (PEM) that screens on the LAN trust (also at /ca.pem)")
	systray.AddSeparator()
	quit := systray.AddMenuItem("Quit VoiceBot", "Stop the appliance")

	status := trayStatus(-1)
	shared := a.ShareAddress()
	refresh := func() {
		s := statusRunning
		st := a.Loader.Status()
		switch {
		case !st.OK || a.Engine.Snapshot() == nil:
			s = statusError
		case a.Paused():
			s = statusPaused
		case a.LAN():
			s = statusListening
		}
		if addr := a.ShareAddress(); addr != shared { // a menu change is a D-Bus signal: only when it changed
			shared = addr
			share.SetTitle("Address: " + addr)
		}
		if s != status {
			status = s
			systray.SetIcon(trayIcon(s))
			systray.SetTooltip("VoiceBot: " + s.String())
		}
	}
	refresh()
	// systray drops a click when nobody is receiving on the item's channel at that instant, so
	// each item has a goroutine that only waits for clicks and queues them for the worker.
	actions := make(chan func(), 16)
	on := func(item *systray.MenuItem, f func()) {
		go func() {
			for {
				select {
				case <-t.done:
					return
				case <-item.ClickedCh:
					select {
					case actions <- f:
					case <-t.done:
						return
					}
				}
			}
		}()
	}
	on(open, w.Show)
	on(dash, func() {
		if err := w.openDashboard("tray"); err != nil {
			slog.Error("tray: open dashboard", "err", err)
		}
	})
	on(pause, func() {
		a.SetPaused(!a.Paused(), "tray")
		if a.Paused() {
			pause.Check()
		} else {
			pause.Uncheck()
		}
	})
	on(lan, func() {
		if err := a.SetLAN(!a.LAN(), "tray"); err != nil {
			slog.Error("LAN access", "err", err)
		}
		if a.LAN() {
			lan.Check()
		} else {
			lan.Uncheck()
		}
	})
	on(reload, func() {
		if err := a.Loader.Reload(); err != nil {
			slog.Warn("tray: reload content", "err", err)
		}
	})
	on(share, func() {
		w.withRuntime(func(ctx context.Context) {
			if err := wruntime.ClipboardSetText(ctx, a.ShareAddress()); err != nil {
				slog.Warn("tray: copy the address", "err", err)
			}
		})
	})
	on(ca, func() {
		w.withRuntime(func(ctx context.Context) {
			if err := wruntime.ClipboardSetText(ctx, string(a.CACertPEM())); err != nil {
				slog.Warn("tray: copy the CA certificate", "err", err)
			}
		})
	})
	on(quit, w.quit)
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-t.done:
				return
			case <-tick.C:
			case f := <-actions:
				runAction(f)
			}
			refresh()
		}
	}()
}

// runAction runs one tray action; a panic in it is logged, not the end of the process.
func runAction(f func()) {
	defer func() {
		if v := recover(); v != nil {
			slog.Error("tray action failed", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f()
}
