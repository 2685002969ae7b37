// Package cli is the command line of the voicebot binary: one cobra command per verb (serve, chat,
// eval, keys, ...). main.go hands the arguments here; each command calls into backend/ packages and
// holds no logic of its own beyond flags and output.
package cli

import (
	"io/fs"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// VisitorUI is the built visitor screen (frontend/dist), set by main; nil in tests.
var VisitorUI fs.FS

// Version is set at build time with -ldflags "-X voicebot/backend/cli.Version=...".
var Version = "dev"

// logLevel is the level of the process's structured log (stderr), changeable live by the
// settings file.
var logLevel = new(slog.LevelVar)

func init() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})))
}

// Root builds the command tree.
func Root() *cobra.Command {
	root := &cobra.Command{
		Use:           "voicebot",
		Short:         "VoiceBot: an offline voice assistant appliance",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(serveCmd(), chatCmd(), keysCmd(), backupCmd(), dashboardLinkCmd(), exportCmd(), eraseCmd(), evalCmd(), versionCmd())
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
