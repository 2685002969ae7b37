package voice_test

// The Service with an external recognizer that only takes whole recordings (Wyoming, against
// wyomingtest's protocol peer: the Python services cannot run here): a stream on it buffers the
// audio written and transcribes it at End; the engine wins over the built-in ones for its
// language, and a language without an engine is refused.

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"voicebot/backend/voice"
	"voicebot/backend/voice/wyoming"
	"voicebot/backend/voice/wyoming/wyomingtest"
)

func TestStreamOnWholeRecordingRecognizer(t *testing.T) {
	srv, err := wyomingtest.Start(func(n int, lang string) string { return fmt.Sprintf("%d samples in %s", n, lang) })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := voice.NewService(false)
	c := &wyoming.Client{Addr: srv.Addr, Langs: []string{"es"}}
	s.Add(c, c)
	st, err := s.NewStream(context.Background(), "es")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := st.Write(make([]int16, voice.FrameSamples)); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := st.End()
	if err != nil || tr.Text != fmt.Sprintf("%d samples in es", 3*voice.FrameSamples) {
		t.Fatalf("stream end: %q %v", tr.Text, err)
	}
	// A pack's regional tag is heard by its language's engine, which is told the language as
	// it lists it (es).
	if _, err := s.Recognizer("es-MX"); err != nil {
		t.Fatalf("es-MX: %v", err)
	}
	if tr, err := c.Transcribe(context.Background(), voice.Audio{Rate: 16000, Samples: make([]int16, 160)}, "es-MX"); err != nil || tr.Text != "160 samples in es" || tr.Lang != "es-MX" {
		t.Fatalf("es-MX told the engine: %q %q %v", tr.Text, tr.Lang, err)
	}
	if _, err := s.NewStream(context.Background(), "fr"); !errors.Is(err, voice.ErrNoRecognizer) {
		t.Fatalf("a language without a recognizer: %v", err)
	}
	engines, notes := s.Engines()
	if len(engines) != 2 || len(notes) != 1 {
		t.Fatalf("engines %v, notes %v", engines, notes)
	}
}
