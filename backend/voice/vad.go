package voice

import "math"

// VAD finds where speech starts and ends in 16 kHz audio, frame by frame (20 ms), from each
// frame's energy against the room's noise floor:
//   - speech starts after StartFrames frames in a row that are Ratio times the floor (and above
//     an absolute MinRMS), and ends after EndFrames frames in a row that are below EndRatio times
//     it (hysteresis: a word's quiet end does not end the sentence);
//   - the floor is learnt from the first frame (the microphone opens before the visitor
//     speaks), follows a quieter room at once and a louder one slowly while nobody speaks, and
//     when every frame of the last 2 s stayed above it, it rises to the quietest of them even
//     in speech: a fan switched on or a crowd arriving is not a visitor who never stops.
//
// An energy detector is enough for a kiosk's microphone and costs well under a microsecond a
// frame; TestVADOnSpokenQuestionsInNoise and docs/BENCHMARKS.md measure it on spoken questions
// in noise. It runs in the server for every client (docs/ARCHITECTURE.md says why).
type VAD struct {
	StartFrames int     // voiced frames in a row that start speech (default 3: 60 ms)
	EndFrames   int     // quiet frames in a row that end it (default 20: 400 ms)
	MinRMS      float64 // below this a frame is never voiced (default 100 of 32768: -50 dBFS)
	Ratio       float64 // a frame starts speech at this many times the floor (default 3)
	EndRatio    float64 // and keeps it going above this many times (default 2)

	noise        float64
	started      bool
	recent       [100]float64 // the last 2 s of frame energies
	next, filled int
	speaking     bool
	voiced, calm int
}

// FrameSamples is one VAD frame: 20 ms at 16 kHz.
const FrameSamples = SampleRate / 50

// VAD events.
const (
	NoChange = iota
	SpeechStart
	SpeechEnd
)

// NewVAD returns a detector with the defaults.
func NewVAD() *VAD {
	return &VAD{StartFrames: 3, EndFrames: 20, MinRMS: 100, Ratio: 3, EndRatio: 2}
}

// Speaking reports whether the detector is inside speech.
func (v *VAD) Speaking() bool { return v.speaking }

// Reset ends the current utterance (push-to-talk released) and keeps what it learnt of the room.
func (v *VAD) Reset() { v.speaking, v.voiced, v.calm = false, 0, 0 }

// Process takes one frame and says whether speech started or ended with it.
func (v *VAD) Process(frame []int16) int {
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(max(len(frame), 1)))
	if !v.started {
		v.noise, v.started = max(rms, 1), true
	}
	v.recent[v.next] = rms
	v.next = (v.next + 1) % len(v.recent)
	v.filled = min(v.filled+1, len(v.recent))
	if v.filled == len(v.recent) {
		low := v.recent[0]
		for _, r := range v.recent[1:] {
			low = min(low, r)
		}
		if low > v.noise*v.EndRatio || (!v.speaking && low > v.noise) {
			v.noise = low
		}
	}
	if !v.speaking {
		voiced := rms > v.MinRMS && rms > v.Ratio*v.noise
		switch {
		case rms < v.noise:
			v.noise = 0.8*v.noise + 0.2*rms
		case !voiced:
			v.noise = 0.95*v.noise + 0.05*rms
		}
		v.noise = max(v.noise, 1)
		if !voiced {
			v.voiced = 0
			return NoChange
		}
		if v.voiced++; v.voiced >= v.StartFrames {
			v.speaking, v.calm = true, 0
			return SpeechStart
		}
		return NoChange
	}
	if rms > v.MinRMS && rms > v.EndRatio*v.noise {
		v.calm = 0
		return NoChange
	}
	if v.calm++; v.calm >= v.EndFrames {
		v.speaking, v.voiced = false, 0
		return SpeechEnd
	}
	return NoChange
}
