// Package testneeds is how a test says that something it needs is missing from the machine: the
// built-in speech model or word vectors, a browser, root, a tool. On a developer's machine the
// test is skipped, saying what to install. Under CI (the CI environment variable set, as CI
// services set CI=true), where make test installs all of it, the test fails instead: a moved
// model path or a package dropped from the Makefile must not turn the tests it guards into
// skips while CI stays green.
//
// Skips that are choices, not missing things (-short, a measurement asked for with an
// environment variable, a check that cannot hold as root), stay plain t.Skip.
package testneeds

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// CI reports whether the tests run under CI: CI is set and not "false" or "0".
func CI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Missing skips the test with the message (formatted as t.Skip formats its arguments), or fails
// it under CI.
func Missing(tb testing.TB, args ...any) {
	tb.Helper()
	msg := strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	if CI() {
		tb.Fatal("missing under CI, where a skip would hide this test: " + msg)
	}
	tb.Skip(msg)
}

// Tools checks that every command is on the PATH, else Missing names them and what installs
// them.
func Tools(tb testing.TB, install string, commands ...string) {
	tb.Helper()
	var missing []string
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		Missing(tb, strings.Join(missing, ", ")+" not installed ("+install+")")
	}
}
