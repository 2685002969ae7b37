package httpapi

// The OpenAI-compatible route without `user` (issue 16): two visitors on one client who start
// with the same words never share a session; a client that resends its history keeps its own
// dialogue memory; a client that echoes the VoiceBot-Session header keeps one stored session.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func completion(t *testing.T, f *fixture, key string, msgs []string, header ...string) (string, string) {
	t.Helper()
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var m []msg
	for i, c := range msgs {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		m = append(m, msg{role, c})
	}
	b, _ := json.Marshal(map[string]any{"model": "voicebot", "messages": m})
	r := f.do("POST", "/v1/chat/completions", key, string(b), header...)
	var out struct {
		SessionID string `json:"session_id"`
		Choices   []struct {
			Message struct{ Content string }
		}
	}
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 || len(out.Choices) != 1 {
		t.Fatalf("completion: %d %s", r.status, r.body)
	}
	if h := r.header.Get("VoiceBot-Session"); h != out.SessionID {
		t.Errorf("VoiceBot-Session header %q, body session_id %q", h, out.SessionID)
	}
	return out.Choices[0].Message.Content, r.header.Get("VoiceBot-Session")
}

func TestOpenAISessionsNeverMerge(t *testing.T) {
	f := newFixture(t, Config{})
	k := f.key("", "chat")
	ctx := context.Background()

	// Two visitors on one kiosk client, both starting with "hello", each resending history.
	helloA, _ := completion(t, f, k, []string{"hello"})
	helloB, _ := completion(t, f, k, []string{"hello"})
	completion(t, f, k, []string{"hello", helloA, "what are the opening hours"})
	completion(t, f, k, []string{"hello", helloB, "how much is a ticket"})

	sessions, err := f.history.List(ctx, historyListAll())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		msgs, err := f.history.Messages(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		var said []string
		for _, m := range msgs {
			if m.Role == "visitor" {
				said = append(said, m.Text)
			}
		}
		all := strings.Join(said, " | ")
		if strings.Contains(all, "opening hours") && strings.Contains(all, "ticket") {
			t.Errorf("session %s holds both visitors' questions: %s", s.ID, all)
		}
		if strings.Count(all, "hello") > 1 {
			t.Errorf("session %s holds two visitors' hellos: %s", s.ID, all)
		}
	}

	// Resending the history keeps the visitor's own dialogue memory (a follow-up is answered).
	first, _ := completion(t, f, k, []string{"what are the opening hours"})
	sunday, _ := completion(t, f, k, []string{"what are the opening hours", first, "and on sunday?"})
	if !strings.Contains(sunday, "Sunday") {
		t.Errorf("follow-up with the history resent: %q", sunday)
	}

	// Echoing VoiceBot-Session continues one stored session.
	_, sid := completion(t, f, k, []string{"what are the opening hours"})
	_, sid2 := completion(t, f, k, []string{"what are the opening hours", "...", "and on sunday?"}, "VoiceBot-Session", sid)
	if sid2 != sid {
		t.Fatalf("echoed session %q answered in %q", sid, sid2)
	}
	if msgs, _ := f.history.Messages(ctx, sid); len(msgs) != 4 {
		t.Errorf("the echoed session has %d messages, want 4", len(msgs))
	}

	// `user` is the client's name for its visitor: scoped to the key, so another client (key)
	// with the same user name has a session of its own.
	k2 := f.key("", "chat")
	ua := userCompletion(t, f, k, "visitor-1")
	ub := userCompletion(t, f, k2, "visitor-1")
	if ua == ub {
		t.Errorf("two keys with user visitor-1 share session %s", ua)
	}
	if again := userCompletion(t, f, k, "visitor-1"); again != ua {
		t.Errorf("the same key and user: sessions %s and %s", ua, again)
	}
}

func userCompletion(t *testing.T, f *fixture, key, user string) string {
	t.Helper()
	r := f.do("POST", "/v1/chat/completions", key, fmt.Sprintf(`{"model":"voicebot","user":%q,"messages":[{"role":"user","content":"hello"}]}`, user))
	if r.status != 200 {
		t.Fatalf("completion with user: %d %s", r.status, r.body)
	}
	return r.header.Get("VoiceBot-Session")
}
