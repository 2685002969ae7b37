// Package app is the desktop shell: the Wails window that shows the visitor screen, the tray
// icon for the operator, kiosk mode and the crash guard WebKit needs. It starts the same core as
// `voicebot serve` (backend/appliance) and holds no product logic of its own: the window's web
// view is served in-process by the core (appliance.WindowHandler) and the tray calls the core's
// switches (pause, LAN access, reload, dashboard link).
//
// The window needs the build tags desktop,production,webkit2_41 and cgo (GTK and WebKitGTK on
// Linux); without the desktop tag the package only says so, and the binary runs headless.
package app

import (
	"context"
	"errors"
	"os"
	"runtime"

	"voicebot/backend/appliance"
)

// Shell is the desktop shell, handed to backend/cli by main.
type Shell struct{}

// ErrNoWindow is returned by Available in a build without the desktop tag.
var ErrNoWindow = errors.New("this build has no window (built without the desktop tag; make build makes the desktop one)")

// Available says why no window can open here, or nil.
func (Shell) Available() error {
	if !windowBuilt {
		return ErrNoWindow
	}
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errors.New("no display (DISPLAY and WAYLAND_DISPLAY are unset)")
	}
	return nil
}

// Run starts the core, opens the window and the tray, and returns when the operator quits.
func (Shell) Run(ctx context.Context, o appliance.Options, kiosk bool) error {
	return runWindow(ctx, o, kiosk)
}
