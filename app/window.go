//go:build desktop

package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
	"golang.org/x/crypto/bcrypt"

	"voicebot/backend/appliance"
	"voicebot/backend/config"
	"voicebot/backend/store"
)

const windowBuilt = true

// Kiosk PIN attempts: after maxPINFailures wrong PINs in a row the keypad locks for pinLockout.
const (
	maxPINFailures = 5
	pinLockout     = time.Minute
	unlockFor      = 2 * time.Minute // an unlocked kiosk locks itself again after this
)

func runWindow(parent context.Context, o appliance.Options, kioskFlag bool) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := appliance.Start(ctx, o)
	if errors.Is(err, appliance.ErrRunning) {
		fmt.Fprintln(os.Stderr, err)
		return nil // the running one came to the front
	}
	if err != nil {
		return err
	}
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Close(shut)
	}()
	file := a.FileSettings()
	w := &Window{a: a, kiosk: kioskFlag || file.Kiosk, pinHash: []byte(file.KioskPINHash)}
	keys := file.KioskExitKeys
	if keys == "" {
		keys = config.DefaultKioskExitKeys
	}
	if w.exitKeys, err = config.ParseKeys(keys); err != nil {
		return err
	}
	if w.kiosk && len(w.pinHash) == 0 {
		return errors.New("kiosk mode needs a PIN for the operator to leave it: set one with `echo 123456 | voicebot kiosk-pin`")
	}
	title := "VoiceBot"
	if snap := a.Engine.Snapshot(); snap != nil && snap.Pack.Bot.Name != "" {
		title += " — " + snap.Pack.Bot.Name
	}
	slog.Info("desktop window", "kiosk", w.kiosk, "listen", a.Addr())

	tray := startTray(w)
	defer tray.stop()
	if os.Getenv("VOICEBOT_SELFTEST") == "1" {
		startSelfTest()
	}

	app := &options.App{
		Title:              title,
		Width:              1024,
		Height:             768,
		MinWidth:           480,
		MinHeight:          600,
		BackgroundColour:   options.NewRGB(255, 255, 255),
		AssetServer:        &assetserver.Options{Handler: a.WindowHandler()},
		Logger:             slogLogger{},
		LogLevel:           logger.WARNING,
		LogLevelProduction: logger.WARNING,
		OnStartup: func(wctx context.Context) {
			if w.setContext(wctx) { // Quit was asked before the window started
				wruntime.Quit(wctx)
				return
			}
			a.Instance.OnFocus(w.Show)
			go func() { // SIGTERM or Ctrl-C closes the window like the tray's Quit
				<-ctx.Done()
				w.quit()
			}()
		},
		OnDomReady: func(context.Context) {
			n := 0
			if os.Getenv("VOICEBOT_SELFTEST_NO_SIGFIX") != "1" {
				n = fixSignalStacks()
			}
			if w.kiosk {
				w.coverScreen()
			}
			enableMicrophone(os.Getenv("VOICEBOT_SELFTEST_MOCK_MIC") == "1")
			slog.Info("window ready", "signal_handlers_fixed", n)
		},
		OnBeforeClose: func(context.Context) bool {
			prevent := w.kiosk && !w.unlocked() && !w.quitting()
			if prevent {
				slog.Info("kiosk: window close refused (operator exit keys and PIN needed)")
			}
			return prevent
		},
		Bind: []any{w},
		Linux: &linux.Options{
			ProgramName:      "voicebot",
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
			Icon:             appIcon(),
		},
	}
	if w.kiosk {
		app.Fullscreen = true
		app.Frameless = true
		app.AlwaysOnTop = true
		app.WindowStartState = options.Fullscreen
	}
	return wails.Run(app)
}

// Window is what the visitor screen may ask of the desktop (bound to the page as
// window.go.app.Window). In kiosk mode every way out needs the PIN first.
type Window struct {
	a        *appliance.Appliance
	kiosk    bool
	pinHash  []byte
	exitKeys config.KeyCombo

	pinMu       sync.Mutex // one PIN attempt at a time (Unlock)
	mu          sync.Mutex
	ctx         context.Context
	until       time.Time // unlocked until
	failures    int
	lockedUntil time.Time
	closing     bool
	voice       *bridge // the voice conversation, if one is open
}

// WindowInfo tells the page how the window is set up.
type WindowInfo struct {
	Kiosk    bool            `json:"kiosk"`
	ExitKeys config.KeyCombo `json:"exit_keys"`
	Version  string          `json:"version"`
}

// Info is called by the page at start.
func (w *Window) Info() WindowInfo {
	return WindowInfo{Kiosk: w.kiosk, ExitKeys: w.exitKeys, Version: w.a.Opts.Version}
}

// Unlock checks the kiosk PIN (bcrypt, constant time); after maxPINFailures wrong ones the
// keypad locks for a minute. Every attempt is audited. It returns "" on success, else the
// reason to show.
//
// Attempts are taken one at a time (pinMu): the lockout check, the bcrypt compare and the
// count are one critical section, so parallel attempts cannot all pass the check before any is
// counted. w.mu is held only around the state, not through the compare, so the window's other
// calls do not wait for bcrypt.
func (w *Window) Unlock(pin string) string {
	if !w.kiosk {
		return ""
	}
	w.pinMu.Lock()
	defer w.pinMu.Unlock()
	w.mu.Lock()
	now := time.Now()
	if now.Before(w.lockedUntil) {
		left := w.lockedUntil.Sub(now).Round(time.Second)
		w.mu.Unlock()
		return fmt.Sprintf("Too many wrong PINs: try again in %s.", left)
	}
	w.mu.Unlock()
	ok := len(pin) <= 64 && bcrypt.CompareHashAndPassword(w.pinHash, []byte(pin)) == nil
	now = time.Now()
	w.mu.Lock()
	action := "kiosk.unlock"
	msg := ""
	if ok {
		w.failures = 0
		w.until = now.Add(unlockFor)
	} else {
		action = "kiosk.unlock_failed"
		w.failures++
		msg = "Wrong PIN."
		if w.failures >= maxPINFailures {
			w.failures = 0
			w.lockedUntil = now.Add(pinLockout)
			msg = "Wrong PIN. The keypad is locked for a minute."
		}
	}
	w.mu.Unlock()
	if err := w.a.Store.Audit(context.Background(), store.AuditEntry{Actor: "window", Action: action}); err != nil {
		slog.Error("audit", "action", action, "err", err)
	}
	return msg
}

// Lock ends an unlocked kiosk session at once.
func (w *Window) Lock() {
	w.mu.Lock()
	w.until = time.Time{}
	w.mu.Unlock()
	if w.kiosk {
		w.coverScreen()
	}
}

func (w *Window) unlocked() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.kiosk || time.Now().Before(w.until)
}

func (w *Window) quitting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closing
}

// Quit closes the appliance (in kiosk mode only once unlocked).
func (w *Window) Quit() string {
	if !w.unlocked() {
		return "Locked: press the exit keys and enter the PIN first."
	}
	w.quit()
	return ""
}

// quit closes the window, or, before it has started, has it close as soon as it starts.
func (w *Window) quit() {
	w.mu.Lock()
	w.closing = true
	ctx := w.ctx
	w.mu.Unlock()
	if ctx != nil {
		wruntime.Quit(ctx)
	}
}

// errStarting is what a call that needs the window says before the window has started.
var errStarting = errors.New("the window is still starting; try again in a moment")

// withRuntime calls f with the Wails context, and reports false (calling nothing) before the
// window has started: Wails ends the process (log.Fatalf) on a call without its context, and a
// tray click, a second start's focus or the page can come that early.
func (w *Window) withRuntime(f func(ctx context.Context)) bool {
	ctx := w.context()
	if ctx == nil {
		return false
	}
	f(ctx)
	return true
}

// ExitFullscreen leaves full screen (in kiosk mode only once unlocked).
func (w *Window) ExitFullscreen() string {
	if !w.unlocked() {
		return "Locked: press the exit keys and enter the PIN first."
	}
	if !w.withRuntime(wruntime.WindowUnfullscreen) {
		return errStarting.Error()
	}
	return ""
}

// OpenDashboard opens the dashboard in the system browser, signed in with a one-time link (in
// kiosk mode only once unlocked, so that a visitor cannot reach it).
func (w *Window) OpenDashboard() string {
	if !w.unlocked() {
		return "Locked: press the exit keys and enter the PIN first."
	}
	if err := w.openDashboard("window"); err != nil {
		return err.Error()
	}
	return ""
}

func (w *Window) openDashboard(actor string) error {
	if w.context() == nil {
		return errStarting
	}
	link, err := w.a.DashboardLink(context.Background())
	if err != nil {
		slog.Error("dashboard link", "err", err)
		return errors.New("could not make a sign-in link: " + err.Error())
	}
	if err := w.a.Store.Audit(context.Background(), store.AuditEntry{Actor: actor, Action: "dashboard.open"}); err != nil {
		slog.Error("audit", "action", "dashboard.open", "err", err)
	}
	w.withRuntime(func(ctx context.Context) { wruntime.BrowserOpenURL(ctx, link) })
	return nil
}

// coverScreen makes the kiosk window cover the whole screen even where no window manager
// honours the full-screen request (a kiosk box that starts X with only VoiceBot in it).
func (w *Window) coverScreen() {
	ctx := w.context()
	if ctx == nil {
		return // not started: the window starts full screen in kiosk mode anyway
	}
	screens, err := wruntime.ScreenGetAll(ctx)
	if err != nil || len(screens) == 0 {
		return
	}
	s := screens[0]
	for _, sc := range screens {
		if sc.IsPrimary {
			s = sc
		}
	}
	wruntime.WindowSetPosition(ctx, 0, 0)
	wruntime.WindowSetSize(ctx, s.Size.Width, s.Size.Height)
	wruntime.WindowFullscreen(ctx)
}

// Show brings the window to the front (a second start, or the tray).
func (w *Window) Show() {
	ctx := w.context()
	if ctx == nil {
		return
	}
	wruntime.WindowUnminimise(ctx)
	wruntime.WindowShow(ctx)
}

// setContext keeps the window's Wails context and reports whether a quit was asked before it.
func (w *Window) setContext(ctx context.Context) (quit bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ctx = ctx
	return w.closing
}

func (w *Window) context() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ctx
}

// slogLogger sends Wails' log to the process's structured log.
type slogLogger struct{}

func (slogLogger) Print(m string)   { slog.Info(m, "from", "wails") }
func (slogLogger) Trace(m string)   { slog.Debug(m, "from", "wails") }
func (slogLogger) Debug(m string)   { slog.Debug(m, "from", "wails") }
func (slogLogger) Info(m string)    { slog.Info(m, "from", "wails") }
func (slogLogger) Warning(m string) { slog.Warn(m, "from", "wails") }
func (slogLogger) Error(m string)   { slog.Error(m, "from", "wails") }
func (slogLogger) Fatal(m string)   { slog.Error(m, "from", "wails") }

// startSelfTest serves, on a loopback port printed to stderr, a route that dereferences a nil
// pointer: the desktop test uses it to prove that a panic recovered by net/http no longer kills
// the process once WebKit is up (VOICEBOT_SELFTEST=1 only; never on in normal use).
func startSelfTest() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		slog.Error("selftest", "err", err)
		return
	}
	var nilMap *map[string]int
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = (*nilMap)["x"] // a real SIGSEGV, recovered by net/http
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "selftest panic route: http://%s/panic\n", ln.Addr())
}
