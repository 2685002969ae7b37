//go:build cgo && linux

package sphinx

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/text"
	"voicebot/backend/voice"
	"voicebot/backend/voice/espeak"
)

// Spanish words get pronunciations in the English model's phones, from both Spanish voices,
// and a decoder takes every one of them (ps_add_word refuses a phone the model lacks).
func TestSpanishPronunciations(t *testing.T) {
	ipa := map[string][]string{}
	for _, w := range []string{"cerráis", "mañana", "jubilados", "llaves", "guardarropa", "audioguía", "qué", "cafetería"} {
		for _, v := range spanishVoices {
			p, err := espeak.Phonemes(w, v)
			if err != nil {
				testneeds.Missing(t, "espeak-ng: ", err)
			}
			ipa[w] = append(ipa[w], p)
		}
	}
	dict, variants, unknown := pronunciations(ipa)
	if len(unknown) > 0 {
		t.Fatalf("no pronunciation for %v", unknown)
	}
	for w, want := range map[string][]string{
		"mañana":    {"M AA N Y AA N AA"},
		"jubilados": {"HH UW B IY L AA DH OW S"},
		"cerráis":   {"TH EH R AA IY S", "S EH R AA IY S"},
		"qué":       {"K EH"},
	} {
		if !slices.Equal(variants[w], want) {
			t.Errorf("%s: %q, want %q", w, variants[w], want)
		}
	}
	if dict["cafetería"] == "" || len(variants["guardarropa"]) != 2 { // tap as R or D (both voices say it alike)
		t.Errorf("cafetería %q, guardarropa %q", dict["cafetería"], variants["guardarropa"])
	}
	r, err := New(modelDir())
	if err != nil {
		testneeds.Missing(t, err)
	}
	l := r.newLanguage("es", noDictionary, &spanishSettings, lettersWords)
	ps := newDecoder(r.hmm, l, 0)
	if ps == nil {
		t.Fatal("no decoder")
	}
	defer freeDecoder(ps)
	for _, e := range dictEntries(variants) {
		if !addWord(ps, e[0], e[1]) {
			t.Errorf("the model refuses %s = %s", e[0], e[1])
		}
	}
}

// The demo's Spanish questions, spoken by espeak-ng, are heard word for word (accents as the
// content writes them), by Transcribe and by a stream; English is served beside it.
func TestTranscribeSpanish(t *testing.T) {
	r := demoRecognizer(t)
	if got := r.Languages(); !slices.Equal(got, []string{"en", "es"}) {
		t.Fatalf("languages %v", got)
	}
	for _, tc := range []struct{ text, want string }{
		{"¿A qué hora cerráis esta tarde?", "a qué hora cerráis esta tarde"},
		{"Hay entrada reducida para jubilados", "hay entrada reducida para jubilados"},
		{"¿Dónde están los aseos?", "dónde están los aseos"},
	} {
		a := speak(t, tc.text, "-v", "es", "-s", "150")
		got, err := r.Transcribe(context.Background(), a, "es")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%q -> %q in %s", tc.text, got.Text, got.Took)
		if text.Fold(got.Text) != text.Fold(tc.want) || got.Lang != "es" { // one spelling a word: "esta" and "está" are one
			t.Errorf("%q heard as %q (%s)", tc.text, got.Text, got.Lang)
		}
		st, err := r.NewStream(context.Background(), "es")
		if err != nil {
			t.Fatal(err)
		}
		pcm := voice.Resample(a, voice.SampleRate).Samples
		for i := 0; i < len(pcm); i += 1600 {
			if err := st.Write(pcm[i:min(i+1600, len(pcm))]); err != nil {
				t.Fatal(err)
			}
		}
		sg, err := st.End()
		if err != nil || voice.WordEdits(text.Tokens(sg.Text), text.Tokens(tc.want)) > 1 {
			t.Errorf("stream: %q heard as %q (%v)", tc.text, sg.Text, err)
		}
	}
	for _, amp := range []int{0, 300} { // silence and noise are nothing, in Spanish too
		s := make([]int16, voice.SampleRate)
		for i := range s {
			s[i] = int16((i*7919)%(2*amp+1) - amp)
		}
		if tr, err := r.Transcribe(context.Background(), voice.Audio{Rate: voice.SampleRate, Samples: s}, "es"); err != nil || tr.Text != "" {
			t.Errorf("noise of ±%d heard as %q (%v)", amp, tr.Text, err)
		}
	}
	en, err := r.Transcribe(context.Background(), speak(t, "What are the opening hours?", "-v", "en-us"), "en")
	if err != nil || en.Text != "what are the opening hours" {
		t.Errorf("English beside Spanish: %q %v", en.Text, err)
	}
}

// The resident memory a pair of decoders adds, English (Debian's whole dictionary) and
// Spanish (the content's words only); logged, for docs/BENCHMARKS.md.
//
//	go test -count=1 -run TestDecoderMemory -v ./backend/voice/sphinx
func TestDecoderMemory(t *testing.T) {
	r := demoRecognizer(t)
	for _, code := range []string{"en", "es"} {
		before := rss(t)
		ds, err := r.pair(context.Background(), r.langs[code])
		if err != nil {
			t.Fatal(err)
		}
		after := rss(t)
		r.langs[code].put(ds)
		t.Logf("%s: a grammar and a language-model decoder add %.1f MB resident", code, float64(after-before)/1024)
	}
}

// rss is the process's resident memory in KiB.
func rss(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		testneeds.Missing(t, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	testneeds.Missing(t, "no VmRSS in /proc/self/status")
	return 0
}
