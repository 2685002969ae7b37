// Command voicebot is the VoiceBot appliance: one binary that serves the conversation engine
// headless, opens the desktop window when built with the desktop tag, and carries the operator's
// tools (eval, chat, keys, backup). main only hands the command line to backend/cli.
package main

import (
	"os"

	"voicebot/backend/cli"
)

func main() {
	if err := cli.Root().Execute(); err != nil {
		os.Exit(1)
	}
}
