package dashboard

import (
	"os"
	"testing"

	"voicebot/backend/internal/testlog"
)

// TestMain keeps reload logs out of test and benchmark output (VOICEBOT_TEST_LOG=1 shows them).
func TestMain(m *testing.M) {
	testlog.Quiet()
	os.Exit(m.Run())
}
