package main

import (
	"os"
	"strconv"
	"testing"
	"time"

	"voicebot/backend/cli"
)

// TestMain lets the test binary stand in for `voicebot`: with VOICEBOT_CHAOS_CLI=1 it runs the
// command line (keys create, serve) instead of the tests, so that CI's crash loop runs the real
// server code (with -race when the tests have it) without building a binary first.
func TestMain(m *testing.M) {
	if os.Getenv("VOICEBOT_CHAOS_CLI") == "1" {
		root := cli.Root()
		root.SetArgs(os.Args[1:])
		if err := root.Execute(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCrashLoop is the short crash loop CI runs: 10 cycles (VOICEBOT_CHAOS_CYCLES for more) of
// start, concurrent turns, kill -9 at a random moment and a check of the store. `make chaos` runs
// 100 with the built binary.
func TestCrashLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills servers")
	}
	cycles := 10
	if s := os.Getenv("VOICEBOT_CHAOS_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("VOICEBOT_CHAOS_CYCLES=%q: %v", s, err)
		}
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	rep, err := Run(Config{Command: []string{os.Args[0]}, Env: []string{"VOICEBOT_CHAOS_CLI=1"}, Cycles: cycles, Conns: 6, Seed: seed, Log: t.Logf})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	if rep.Acknowledged == 0 {
		t.Fatal("no turn was acknowledged in any cycle: the load never ran")
	}
	if rep.Cycles-rep.KilledStarting < cycles/2 {
		t.Fatalf("only %d of %d cycles were killed under load", rep.Cycles-rep.KilledStarting, rep.Cycles)
	}
	t.Logf("%d cycles, %d turns acknowledged, 0 lost, integrity ok after each (seed %d)", rep.Cycles, rep.Acknowledged, seed)
}
