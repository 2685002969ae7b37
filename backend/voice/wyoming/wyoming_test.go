package wyoming_test

// Against wyomingtest's protocol peer (the Python Wyoming services cannot run here).

import (
	"context"
	"fmt"
	"testing"

	"voicebot/backend/voice"
	"voicebot/backend/voice/wyoming"
	"voicebot/backend/voice/wyoming/wyomingtest"
)

func TestWyomingClient(t *testing.T) {
	srv, err := wyomingtest.Start(func(n int, lang string) string { return fmt.Sprintf("heard %d samples in %s", n, lang) })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := &wyoming.Client{Addr: srv.Addr, Langs: []string{"es"}}
	tr, err := c.Transcribe(context.Background(), voice.Audio{Rate: 16000, Samples: make([]int16, 16000)}, "es")
	if err != nil || tr.Text != "heard 16000 samples in es" {
		t.Fatalf("transcribe: %q %v", tr.Text, err)
	}
	a, err := c.Synthesize(context.Background(), "hola", "es", "")
	if err != nil || a.Rate != 22050 || len(a.Samples) != 22050/10*4 {
		t.Fatalf("synthesize: %d Hz %d samples %v", a.Rate, len(a.Samples), err)
	}
	// A server that is not there: a clear error, not a hang.
	bad := &wyoming.Client{Addr: "127.0.0.1:1", Langs: []string{"es"}}
	if _, err := bad.Transcribe(context.Background(), voice.Audio{Rate: 16000, Samples: make([]int16, 10)}, "es"); err == nil {
		t.Fatal("no error from a closed port")
	}
}
