// Package embed holds what the binary carries: the built-in demo content pack (a fictional city
// museum, English and Spanish) that `make run` answers from, and later the dashboard's assets and
// the visitor UI. Import it under another name, e.g. vbembed, since the standard library has an
// embed package too.
package embed

import (
	"embed"
	"io/fs"
)

//go:embed all:demo
var demo embed.FS

// DemoContent is the demo content pack, rooted at its top folder (bot.yaml, intents/, knowledge/).
func DemoContent() fs.FS {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		panic(err) // the folder is compiled in; this cannot fail
	}
	return sub
}

//go:embed dashboard
var dashboard embed.FS

// DashboardAssets are the dashboard's browser files (htmx), copied from npm by
// `make dashboard-assets` (backend/dashboard/assets/package.json pins the versions).
func DashboardAssets() fs.FS {
	sub, err := fs.Sub(dashboard, "dashboard")
	if err != nil {
		panic(err) // the folder is compiled in; this cannot fail
	}
	return sub
}

//go:embed appicon.png
var appIcon []byte

// AppIcon is the application icon (512x512 PNG): the window, the desktop entry and the
// installers use it (make dist copies it to build/appicon.png for Wails).
func AppIcon() []byte { return appIcon }

//go:embed wordvec/en.vec
var wordvecEN string

//go:embed wordvec/en.words
var wordlistEN string

// WordList is the list of a language's less frequent words that its word vector table lacks
// (sorted, one a line), or "" when the binary carries none.
func WordList(lang string) string {
	if lang == "en" {
		return wordlistEN
	}
	return ""
}

// WordVectors is the word vector table of a language (backend/conversation/wordvec reads it), or
// "" when the binary carries none for that language. A string, so that the table stays in the
// binary's read-only data and costs no heap.
func WordVectors(lang string) string {
	if lang == "en" {
		return wordvecEN
	}
	return ""
}
