// Package cli is the command line of the voicebot binary: one cobra command per verb (serve, chat,
// eval, keys, ...). main.go hands the arguments here; each command calls into backend/ packages and
// holds no logic of its own beyond flags and output.
package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"gopkg.in/natefinch/lumberjack.v2"

	"voicebot/backend/appliance"
	"voicebot/backend/telemetry"
)

// VisitorUI is the built visitor screen (frontend/dist), set by main; nil in tests.
var VisitorUI fs.FS

// Shell is the desktop shell (app/): the window and tray over a started core.
type Shell interface {
	// Available says why no window can open here (nil when one can): no display, or a build
	// without the desktop tag.
	Available() error
	// Run starts the core with o, opens the window (kiosk: full screen, locked) and returns
	// when the operator quits.
	Run(ctx context.Context, o appliance.Options, kiosk bool) error
}

// Desktop is set by main; nil runs the plain command headless.
var Desktop Shell

// Version is set at build time with -ldflags "-X voicebot/backend/cli.Version=...".
var Version = "dev"

// logLevel is the level of the process's structured log (stderr), changeable live by the
// settings file.
var logLevel = new(slog.LevelVar)

func init() { setLogFormat("text") }

var (
	logMu     sync.Mutex
	logOut    io.Writer = os.Stderr // and the rotating file of the desktop build (logToFile)
	logFormat           = "text"
)

// setLogFormat makes the process's log text (key=value) or json (one object per line), each line
// with the request and trace ids of the request it was written for (telemetry.LogHandler); the
// warnings and errors are also kept for the dashboard's Logs view (telemetry.RecentLogs).
func setLogFormat(format string) {
	logMu.Lock()
	defer logMu.Unlock()
	logFormat = format
	opts := &slog.HandlerOptions{Level: logLevel}
	var h slog.Handler = slog.NewTextHandler(logOut, opts)
	if format == "json" {
		h = slog.NewJSONHandler(logOut, opts)
	}
	slog.SetDefault(slog.New(telemetry.LogHandler{Handler: telemetry.RecentLogs.Wrap(h)}))
}

// LogFile is the desktop build's log file in the data folder: a window has no terminal, so its
// log goes here as well as to standard error, rotated at 10 MB with 5 older files kept (gzipped,
// at most 30 days) by lumberjack.
func LogFile(dataDir string) string { return filepath.Join(dataDir, "logs", "voicebot.log") }

// logToFile sends the log to LogFile(dataDir) as well; the file is closed by the returned func.
func logToFile(dataDir string) func() {
	f := &lumberjack.Logger{Filename: LogFile(dataDir), MaxSize: 10, MaxBackups: 5, MaxAge: 30, Compress: true}
	logMu.Lock()
	logOut = io.MultiWriter(os.Stderr, f)
	format := logFormat
	logMu.Unlock()
	setLogFormat(format)
	return func() { f.Close() }
}

// Root builds the command tree.
func Root() *cobra.Command {
	var f serveFlags
	var headless, kiosk bool
	root := &cobra.Command{
		Use:   "voicebot [--headless] [--kiosk] [serve flags]",
		Short: "VoiceBot: an offline voice assistant appliance",
		Long: `VoiceBot: an offline voice assistant appliance.

With no command it runs the appliance: with a display (and a desktop build) it opens the visitor
window and a tray icon over the same core as "voicebot serve"; with no display, or with
--headless, it runs the core alone. --kiosk (or kiosk: true in the settings file) opens the
window full screen and locked; the operator leaves with the exit keys and the PIN.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: false,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			if headless || Desktop == nil {
				return serveHeadless(cmd, o)
			}
			if err := Desktop.Available(); err != nil {
				if kiosk {
					return fmt.Errorf("--kiosk needs a window: %w", err)
				}
				slog.Info("running headless", "why", err.Error())
				return serveHeadless(cmd, o)
			}
			if r := o; r.Resolve() == nil { // the data folder as the appliance will resolve it
				defer logToFile(r.DataDir)()
			}
			return Desktop.Run(cmd.Context(), o, kiosk)
		},
	}
	f.add(root)
	root.Flags().BoolVar(&headless, "headless", false, "run the core without a window even when there is a display")
	root.Flags().BoolVar(&kiosk, "kiosk", false, "open the window in kiosk mode (full screen, locked; needs a PIN: voicebot kiosk-pin)")
	root.AddCommand(serveCmd(), chatCmd(), contentCmd(), keysCmd(), backupCmd(), dashboardLinkCmd(), exportCmd(), eraseCmd(), evalCmd(), kioskPINCmd(), tlsCmd(), discoverCmd(), migrateCmd(), versionCmd())
	return root
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			cmd.Println("voicebot " + Version)
		},
	}
}
