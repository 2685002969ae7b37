//go:build cgo && linux

package espeak

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"

	"voicebot/backend/content"
	vbembed "voicebot/embed"
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

// Phonemes gives espeak-ng's IPA, phoneme by phoneme, also while another goroutine speaks.
func TestPhonemes(t *testing.T) {
	for _, tc := range []struct{ text, lang, want string }{
		{"mañana", "es", "m_a_ɲ_ˈa_n_a"},
		{"cerráis", "es", "θ_e_r_ˈa_i_s"},
		{"cerráis", "es-419", "s_e_r_ˈa_i_s"},
		{"hola, qué tal", "es", "ˈo_l_a k_ˈe t_ˈa_l"},
	} {
		got, err := Phonemes(tc.text, tc.lang)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.lang, tc.text, got, tc.want)
		}
	}
	if _, err := Phonemes("hola", "xx-nothing"); err == nil {
		t.Error("unknown voice accepted")
	}
	s, _ := New()
	done := make(chan error)
	go func() {
		_, err := s.Synthesize(context.Background(), "Abrimos de martes a domingo.", "es", "")
		done <- err
	}()
	for i := 0; i < 20; i++ {
		if got, err := Phonemes("jubilados", "es"); err != nil || got != "x_ˌu_β_i_l_ˈa_ð_o_s" {
			t.Fatalf("jubilados: %q %v", got, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Phoneme lookups and synthesis, Spanish and English, over and over, do not crash: before
// the cushion of spaces in vb_synth and vb_phonemes this died with a SIGSEGV inside espeak-ng
// in 8 runs of 12 (a cushion of zeros did not help).
func TestSpeakAndLookUpRepeatedly(t *testing.T) {
	pack, err := content.Load(vbembed.DemoContent(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	var replies []string
	words := map[string]bool{}
	for _, in := range pack.Intents["es"] {
		for _, r := range in.Responses {
			replies = append(replies, r.Text)
		}
		for _, e := range append(append([]string(nil), in.Examples...), replies...) {
			for _, w := range strings.FieldsFunc(strings.ToLower(e), func(r rune) bool { return !unicode.IsLetter(r) }) {
				words[w] = true
			}
		}
	}
	s, _ := New()
	for i := 0; i < 2; i++ {
		for _, v := range []string{"es", "es-419"} {
			for w := range words {
				if _, err := Phonemes(w, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, r := range replies {
			if _, err := s.Synthesize(context.Background(), r, "es", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Synthesize(context.Background(), "Hello there, we open at ten.", "en", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
}
