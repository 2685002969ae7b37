// Command voicebot is the VoiceBot appliance: one binary that serves the conversation engine
// headless, opens the desktop window when built with the desktop tag, and carries the operator's
// tools (eval, chat, keys, backup). main embeds the visitor UI (frontend/dist, built by Vite) and
// hands the command line to backend/cli.
package main

import (
	"embed"
	"io/fs"
	"os"

	"voicebot/app"
	"voicebot/backend/cli"
)

//go:embed all:frontend/dist
var visitorUI embed.FS

func main() {
	ui, err := fs.Sub(visitorUI, "frontend/dist")
	if err == nil {
		cli.VisitorUI = ui
	}
	cli.Desktop = app.Shell{}
	if err := cli.Root().Execute(); err != nil {
		os.Exit(1)
	}
}
