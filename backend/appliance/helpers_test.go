package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"voicebot/backend/discovery"
	"voicebot/backend/internal/testcontent"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/keys"
	"voicebot/backend/store"
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

// storedVisitorTexts is every visitor message in the store, to check acknowledged turns against.
func storedVisitorTexts(t *testing.T, db *store.DB) map[string]bool {
	t.Helper()
	stored := map[string]bool{}
	rows, err := db.Read().Query(`SELECT text FROM messages WHERE role = 'visitor'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		stored[s] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return stored
}

// helperBrowse runs in a child process in the client's namespace: `voicebot discover`'s
// discovery.Browse, its answer as JSON on stdout.
func helperBrowse() {
	found, err := discovery.Browse(context.Background(), 3*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(found)
}

// startVoice starts an appliance for a voice test, skipped in a build without the built-in
// English recognizer.
func startVoice(t *testing.T, o Options) *Appliance {
	t.Helper()
	a := start(t, o)
	if _, err := a.Voice.Recognizer("en"); err != nil {
		testneeds.Missing(t, "no built-in recognizer in this build: ", err)
	}
	return a
}
