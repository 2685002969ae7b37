//go:build cgo && linux

package espeak

import (
	"context"
	"testing"
	"time"
)

func TestSynthesizeEnglishAndSpanish(t *testing.T) {
	s, _ := New()
	for _, tc := range []struct{ text, lang string }{
		{"We're open Tuesday to Sunday.", "en"},
		{"Abrimos de martes a domingo.", "es"},
	} {
		a, err := s.Synthesize(context.Background(), tc.text, tc.lang, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Rate != 22050 || a.Duration() < time.Second || a.Duration() > 5*time.Second {
			t.Fatalf("%s: %d Hz, %s", tc.lang, a.Rate, a.Duration())
		}
		var peak int16
		for _, v := range a.Samples {
			peak = max(peak, v)
		}
		if peak < 1000 {
			t.Fatalf("%s: silent (peak %d)", tc.lang, peak)
		}
	}
	if _, err := s.Synthesize(context.Background(), "hello", "xx", ""); err == nil {
		t.Fatal("unknown language accepted")
	}
}
