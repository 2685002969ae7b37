//go:build desktop && !(linux && cgo)

package app

// enableMicrophone: WebView2 (Windows) asks the user itself; nothing to do here.
func enableMicrophone(bool) {}
