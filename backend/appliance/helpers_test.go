package appliance

import (
	"testing"
	"time"

	"voicebot/backend/internal/testcontent"
	"voicebot/backend/keys"
)

// copyDemoContent is an operator's content folder: a copy of the demo pack.
func copyDemoContent(t *testing.T) string { return testcontent.CopyDemo(t) }

// waitUntil polls cond until it holds, failing after a generous deadline (not a timing check).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(25 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func keysSpec(scopes ...string) keys.Spec { return keys.Spec{Name: "test", Scopes: scopes} }

// post is do for a POST with a JSON body.
func post(t *testing.T, a *Appliance, path, key, body string) resp {
	return do(t, a, "POST", path, key, body)
}
