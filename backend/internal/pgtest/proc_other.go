//go:build !linux

package pgtest

import "syscall"

// sysProcAttr: elsewhere the server runs as the test's user.
func sysProcAttr(*owner) *syscall.SysProcAttr { return nil }
