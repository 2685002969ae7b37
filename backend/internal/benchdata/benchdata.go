// Package benchdata finds the public benchmark data in ../shared/bench for tests and benchmarks.
// A clone without it skips those tests with a message that says so.
package benchdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the path of ../shared/bench/<name> next to the repository, or skips the test.
func Dir(tb testing.TB, name string) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if env := os.Getenv("VOICEBOT_BENCH_DIR"); env != "" {
		return filepath.Join(env, name)
	}
	dir := filepath.Join(repo, "..", "shared", "bench", name)
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("benchmark data %s not found (it lives in ../shared/bench next to the clone, or set VOICEBOT_BENCH_DIR)", dir)
	}
	return dir
}
