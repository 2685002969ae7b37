package voice_test

// The voice activity detector measured on real speech: questions spoken by espeak-ng and
// flite (made here, not committed), set between stretches of white noise at several
// signal-to-noise ratios and at a quiet speaker's level, fed frame by frame as the voice stream
// feeds it. For each recording: did speech start near where it starts (within the stream's
// 400 ms pre-roll), end once after it ends (within the 400 ms of quiet the detector waits, plus
// 300 ms), and nowhere else? And on noise alone, how often does it start?

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"voicebot/backend/internal/testneeds"
	"voicebot/backend/voice"
)

var vadSentences = []string{
	"What time does the museum open on Sunday?",
	"How much is a ticket for a student?",
	"Where is the cloakroom?",
	"Can I take photos in the galleries?",
	"Is there a lift to the second floor?",
	"Do you have guided tours in Spanish?",
	"Thank you, goodbye.",
	"Where can I park my car?",
}

var vadVoices = []struct {
	name string
	cmd  func(text, out string) *exec.Cmd
}{
	{"espeak-ng en-us", func(text, out string) *exec.Cmd { return exec.Command("espeak-ng", "-v", "en-us", "-w", out, text) }},
	{"flite slt", func(text, out string) *exec.Cmd { return exec.Command("flite", "-voice", "slt", "-t", text, "-o", out) }},
	{"flite kal", func(text, out string) *exec.Cmd { return exec.Command("flite", "-voice", "kal", "-t", text, "-o", out) }},
}

// spoken returns the sentences spoken by each voice, at 16 kHz.
func spoken(t testing.TB) [][]int16 {
	t.Helper()
	testneeds.Tools(t, "apt-get install espeak-ng flite", "espeak-ng", "flite")
	dir := t.TempDir()
	var out [][]int16
	for vi, v := range vadVoices {
		for si, s := range vadSentences {
			path := filepath.Join(dir, fmt.Sprintf("%d-%d.wav", vi, si))
			if b, err := v.cmd(s, path).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", v.name, err, b)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a, err := voice.DecodeWAV(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, voice.Resample(a, voice.SampleRate).Samples)
		}
	}
	return out
}

// frameRMS is the energy of each 20 ms frame.
func frameRMS(s []int16) []float64 {
	var out []float64
	for i := 0; i+voice.FrameSamples <= len(s); i += voice.FrameSamples {
		var sum float64
		for _, x := range s[i : i+voice.FrameSamples] {
			sum += float64(x) * float64(x)
		}
		out = append(out, math.Sqrt(sum/voice.FrameSamples))
	}
	return out
}

// speechSpan is where the clean recording holds speech: the first and last frame above 5% of
// its loudest frame.
func speechSpan(s []int16) (first, last int) {
	rms := frameRMS(s)
	peak := slices.Max(rms)
	first, last = -1, -1
	for i, r := range rms {
		if r > 0.05*peak {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

// scene is lead seconds of noise, the speech scaled by gain, then tail seconds of noise; the
// noise is white, at snr dB below the speech's voiced frames (math.Inf for none).
func scene(speech []int16, gain, snr, lead, tail float64, r *rand.Rand) (out []int16, onset, offset int) {
	first, last := speechSpan(speech)
	var p float64
	var n int
	for i, v := range frameRMS(speech) {
		if i >= first && i <= last {
			p += v * v * gain * gain
			n++
		}
	}
	noise := 0.0
	if !math.IsInf(snr, 1) {
		noise = math.Sqrt(p/float64(n)) / math.Pow(10, snr/20)
	}
	leadN, tailN := int(lead*voice.SampleRate), int(tail*voice.SampleRate)
	out = make([]int16, leadN+len(speech)+tailN)
	for i := range out {
		v := noise * r.NormFloat64()
		if j := i - leadN; j >= 0 && j < len(speech) {
			v += float64(speech[j]) * gain
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out, leadN/voice.FrameSamples + first, leadN/voice.FrameSamples + last
}

type vadResult struct {
	ok                   bool
	startDelay, endDelay int // in ms after the speech starts and ends
	why                  string
}

func runVAD(rec []int16, onset, offset int) vadResult {
	v := voice.NewVAD()
	var starts, ends []int
	for f := 0; (f+1)*voice.FrameSamples <= len(rec); f++ {
		switch v.Process(rec[f*voice.FrameSamples : (f+1)*voice.FrameSamples]) {
		case voice.SpeechStart:
			starts = append(starts, f)
		case voice.SpeechEnd:
			ends = append(ends, f)
		}
	}
	const ms = 20
	res := vadResult{}
	switch {
	case len(starts) == 0:
		res.why = "never started"
	case len(ends) == 0:
		res.why = "never ended"
	default:
		res.startDelay, res.endDelay = (starts[0]-onset)*ms, (ends[0]-offset)*ms
		switch {
		case len(starts) > 1 || len(ends) > 1:
			res.why = fmt.Sprintf("%d starts, %d ends", len(starts), len(ends))
		case res.startDelay < -60 || res.startDelay > 400:
			res.why = fmt.Sprintf("started %d ms from the speech", res.startDelay)
		case res.endDelay < 0 || res.endDelay > 700:
			res.why = fmt.Sprintf("ended %d ms after the speech", res.endDelay)
		default:
			res.ok = true
		}
	}
	return res
}

func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestVADOnSpokenQuestionsInNoise(t *testing.T) {
	speech := spoken(t)
	r := rand.New(rand.NewPCG(1, 2))
	conditions := []struct {
		name      string
		gain, snr float64
		want      float64 // share of recordings the detector must get right
	}{
		{"clean", 1, math.Inf(1), 1},
		{"white noise, 20 dB SNR", 1, 20, 1},
		{"white noise, 10 dB SNR", 1, 10, 0.9},
		{"white noise, 5 dB SNR (measured only)", 1, 5, 0},
		{"quiet speaker (-20 dB), 20 dB SNR", 0.1, 20, 0.9},
	}
	for _, c := range conditions {
		var ok int
		var starts, ends []int
		var fails []string
		for i, s := range speech {
			rec, on, off := scene(s, c.gain, c.snr, 1.5, 1.5, r)
			res := runVAD(rec, on, off)
			if res.ok {
				ok++
				starts, ends = append(starts, res.startDelay), append(ends, res.endDelay)
			} else {
				fails = append(fails, fmt.Sprintf("%s %q: %s", vadVoices[i/len(vadSentences)].name, vadSentences[i%len(vadSentences)], res.why))
			}
		}
		share := float64(ok) / float64(len(speech))
		t.Logf("%-34s %2d/%d right; speech start heard after %3d ms, end after %3d ms (medians)", c.name, ok, len(speech), median(starts), median(ends))
		for _, f := range fails {
			t.Logf("  miss: %s", f)
		}
		if share < c.want {
			t.Errorf("%s: %.0f%% right, want >= %.0f%%", c.name, 100*share, 100*c.want)
		}
	}
}

func TestVADIgnoresNoiseAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, level := range []float64{30, 300, 1000} {
		v := voice.NewVAD()
		starts := 0
		frame := make([]int16, voice.FrameSamples)
		for f := 0; f < 60*50; f++ { // a minute
			for i := range frame {
				frame[i] = int16(level * r.NormFloat64())
			}
			if v.Process(frame) == voice.SpeechStart {
				starts++
			}
		}
		t.Logf("a minute of white noise at RMS %.0f: %d false starts", level, starts)
		if starts > 0 {
			t.Errorf("noise at RMS %.0f started speech %d times", level, starts)
		}
	}
}

// TestVADNoiseThatRises: the room gets louder at once (a fan switched on, ten times the noise):
// the detector may take it for speech, but ends it when every frame of 2 s stayed loud, and
// then hears nothing more in it.
func TestVADNoiseThatRises(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	v := voice.NewVAD()
	frame := make([]int16, voice.FrameSamples)
	var events []string
	var starts, ends []int
	for f := 0; f < 60*50; f++ {
		level := 100.0
		if f >= 30*50 {
			level = 1000
		}
		for i := range frame {
			frame[i] = int16(level * r.NormFloat64())
		}
		switch v.Process(frame) {
		case voice.SpeechStart:
			starts = append(starts, f)
			events = append(events, fmt.Sprintf("start at %.2f s", float64(f)/50))
		case voice.SpeechEnd:
			ends = append(ends, f)
			events = append(events, fmt.Sprintf("end at %.2f s", float64(f)/50))
		}
	}
	t.Logf("noise from RMS 100 to 1000 at 30 s: %v", events)
	if len(starts) > 1 || len(ends) != len(starts) || (len(ends) == 1 && ends[0] > 33*50) {
		t.Errorf("events %v: want at most one start, ended within 3 s of the change", events)
	}
}

// BenchmarkVADFrame is the cost of one 20 ms frame.
//
//	go test -run '^$' -bench VADFrame -count 5 ./backend/voice/
func BenchmarkVADFrame(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	frame := make([]int16, voice.FrameSamples)
	for i := range frame {
		frame[i] = int16(500 * r.NormFloat64())
	}
	v := voice.NewVAD()
	for b.Loop() {
		v.Process(frame)
	}
}
