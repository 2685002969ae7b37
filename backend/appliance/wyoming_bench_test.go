package appliance

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"voicebot/backend/keys"
	"voicebot/backend/voice/wyoming"
)

// benchQuestions are the turns both benchmarks below ask, one client, one after the other: four
// intents and a knowledge question made new each time (never from the response cache).
var benchQuestions = []string{"what are the opening hours", "how much is a ticket", "where are the toilets", "do students get a discount", "can I hire the museum for a wedding %d"}

// BenchmarkTurnWyoming is a conversation turn asked by Home Assistant over Wyoming (transcript
// in, handled out, on one kept connection), durably saved; run it with BenchmarkTurnHTTPOne in
// one command to compare with the same turns over /v1/chat.
func BenchmarkTurnWyoming(b *testing.B) {
	a, err := Start(context.Background(), Options{DataDir: b.TempDir(), ConfigDir: b.TempDir(), Listen: "127.0.0.1:0", Wyoming: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(context.Background())
	w := dialWyoming(b, a.WyomingAddr())
	_ = w.c.SetDeadline(time.Time{})
	bw := bufio.NewWriter(w.c)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := benchQuestions[i%len(benchQuestions)]
		if strings.Contains(q, "%d") {
			q = fmt.Sprintf(q, i)
		}
		if err := wyoming.Write(bw, wyoming.Event{Type: "transcript", Data: map[string]any{"text": q, "language": "en"}}); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		e, err := wyoming.Read(w.r)
		if err != nil || (e.Type != "handled" && e.Type != "not-handled") {
			b.Fatalf("turn %d: %v %v", i, e, err)
		}
	}
}

// BenchmarkTurnHTTPOne is the same turns over POST /v1/chat with a key, one client on one kept
// connection.
func BenchmarkTurnHTTPOne(b *testing.B) {
	a, err := Start(context.Background(), Options{DataDir: b.TempDir(), ConfigDir: b.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(context.Background())
	key, _, err := a.Keys.Create(context.Background(), keys.Spec{Name: "bench", Scopes: []string{"chat"}, Rate: "1000000/s"}, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{}
	url := "http://" + a.Addr() + "/v1/chat"
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := benchQuestions[i%len(benchQuestions)]
		if strings.Contains(q, "%d") {
			q = fmt.Sprintf(q, i)
		}
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"text":"`+q+`","lang":"en"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("turn %d: %d", i, resp.StatusCode)
		}
	}
}
