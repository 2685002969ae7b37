//go:build cgo && linux

package sphinx

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"voicebot/backend/content"
	"voicebot/backend/internal/testneeds"
	"voicebot/backend/voice"
	vbembed "voicebot/embed"
)

// speak makes a WAV file with espeak-ng (a real recording of synthetic speech, made here).
func speak(t testing.TB, text string, args ...string) voice.Audio {
	t.Helper()
	testneeds.Tools(t, "apt-get install espeak-ng", "espeak-ng")
	path := filepath.Join(t.TempDir(), "q.wav")
	if out, err := exec.Command("espeak-ng", append(args, "-w", path, text)...).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(path)
	a, err := voice.DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func demoRecognizer(t testing.TB) *Recognizer {
	t.Helper()
	r, err := New(modelDir())
	if err != nil {
		testneeds.Missing(t, err)
	}
	pack, err := content.Load(vbembed.DemoContent(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Adapt(voice.CorpusFrom(pack))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("grammar of %d sentences and templates, adapted in %s; unknown words: %v", rep.Sentences["en"], rep.Took, rep.Unknown["en"])
	return r
}

func TestTranscribeDemoQuestion(t *testing.T) {
	r := demoRecognizer(t)
	for _, tc := range []struct{ text, want string }{
		{"What are the opening hours?", "what are the opening hours"},
		{"How much is a ticket?", "how much is a ticket"},
	} {
		got, err := r.Transcribe(context.Background(), speak(t, tc.text, "-v", "en-us"), "en")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q -> %q in %s", tc.text, got.Text, got.Took)
		if got.Text != tc.want {
			t.Errorf("%q heard as %q", tc.text, got.Text)
		}
	}
}

// BenchmarkTranscribe3s decodes a spoken demo question of about three seconds (the budget is
// 150 ms) and a free question, each with the grammar and the language model at once, as a
// request does; "grammar-alone" is the grammar's decoder by itself on the first clip, the
// baseline that shows what the second search costs.
//
//	go test ./backend/voice/sphinx -run '^$' -bench Transcribe -count 5
func BenchmarkTranscribe3s(b *testing.B) {
	r := demoRecognizer(b)
	clip := speak(b, "What time does the museum open on Sunday?", "-v", "en-us", "-s", "150")
	for _, tc := range []struct {
		name, lang string
		a          voice.Audio
	}{
		{"expected-question", "en", clip},
		{"free-question", "en", speak(b, "Is the painting by the harbour older than the museum building itself?", "-v", "en-us", "-s", "150")},
		// Spanish: the grammar on its wider beams, beside the language model (spanishSettings).
		{"spanish-question", "es", speak(b, "¿Hay entrada reducida para los jubilados?", "-v", "es", "-s", "140")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if _, err := r.Transcribe(context.Background(), tc.a, tc.lang); err != nil { // warm the decoders
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Transcribe(context.Background(), tc.a, tc.lang); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(tc.a.Duration().Seconds(), "audio_s")
		})
	}
	b.Run("grammar-alone", func(b *testing.B) {
		en := r.langs["en"]
		ds, err := r.pair(context.Background(), en)
		if err != nil {
			b.Fatal(err)
		}
		defer en.put(ds)
		var dz ditherer // as Transcribe does
		samples := dz.apply(nil, clip.Samples)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := decode(ds[0], samples); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(clip.Duration().Seconds(), "audio_s")
	})
}

// Silence and steady noise are heard as nothing, also by fresh decoders and when the level
// changes from one recording to the next (the grammar alone fitted "tue" or "bye" to them).
func TestSilenceIsNothing(t *testing.T) {
	r := demoRecognizer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, amp := range []int{0, 3, 30, 300} {
		s := make([]int16, voice.SampleRate)
		for i := range s {
			if amp > 0 {
				s[i] = int16(rng.IntN(2*amp+1) - amp)
			}
		}
		for k := 0; k < 2; k++ {
			tr, err := r.Transcribe(context.Background(), voice.Audio{Rate: voice.SampleRate, Samples: s}, "en")
			if err != nil || tr.Text != "" || tr.Free != "" {
				t.Errorf("noise of ±%d, try %d: heard %q / %q (%v)", amp, k+1, tr.Text, tr.Free, err)
			}
		}
	}
}
