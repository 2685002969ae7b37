// Package load is what the load tools of build/bench (soak, chaos) share: a free loopback
// address for the server they start, a chat turn over HTTP, and the readiness probe.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// FreeAddr is a loopback address with a port free at the time of asking.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Chat sends one turn to POST /v1/chat and returns the session it belongs to and the status. A
// status of 0 means no whole answer came (the server is gone, or the body was cut off): the turn
// was not acknowledged. Any status but 200 comes with an error that holds the body.
func Chat(ctx context.Context, c *http.Client, base, key, session, text string) (string, int, error) {
	body, _ := json.Marshal(map[string]string{"text": text, "session_id": session})
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/chat", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, err
	}
	if resp.StatusCode != 200 {
		return "", resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var out struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", 0, err
	}
	return out.SessionID, 200, nil
}

// Ready says whether GET /readyz answers 200.
func Ready(c *http.Client, base, key string) bool {
	req, _ := http.NewRequest("GET", base+"/readyz", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// WaitReady polls Ready for up to within.
func WaitReady(c *http.Client, base, key string, within time.Duration) error {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if Ready(c, base, key) {
			return nil
		}
	}
	return fmt.Errorf("%s not ready within %s", base, within)
}
