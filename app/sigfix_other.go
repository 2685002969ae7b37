//go:build desktop && !(linux && cgo)

package app

// fixSignalStacks has nothing to do where WebKitGTK is not the web view (Windows' WebView2,
// macOS' WKWebView run in other processes or keep Go's handlers).
func fixSignalStacks() int { return 0 }
