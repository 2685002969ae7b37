package voice

import "math"

// VAD finds where speech starts and ends in 16 kHz audio, frame by frame (20 ms): a frame is
// voiced when its energy is well above the running noise floor (and above an absolute floor);
// StartFrames voiced frames in a row start speech, EndFrames quiet frames in a row end it. An
// energy detector is enough for a kiosk's close-talking microphone and costs nothing; it is
// the same rule the visitor screen runs in the browser.
type VAD struct {
	StartFrames int     // voiced frames in a row that start speech (default 3: 60 ms)
	EndFrames   int     // quiet frames in a row that end it (default 20: 400 ms)
	MinRMS      float64 // below this a frame is never voiced (default 300 of 32768)
	Ratio       float64 // a voiced frame is this many times the noise floor (default 3)

	noise        float64
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
func NewVAD() *VAD { return &VAD{StartFrames: 3, EndFrames: 20, MinRMS: 300, Ratio: 3, noise: 100} }

// Speaking reports whether the detector is inside speech.
func (v *VAD) Speaking() bool { return v.speaking }

// Process takes one frame and says whether speech started or ended with it.
func (v *VAD) Process(frame []int16) int {
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(max(len(frame), 1)))
	voiced := rms > v.MinRMS && rms > v.Ratio*v.noise
	if !voiced {
		v.noise = 0.95*v.noise + 0.05*rms // follow the room, only while nobody speaks
	}
	if !v.speaking {
		if voiced {
			v.voiced++
			if v.voiced >= v.StartFrames {
				v.speaking, v.calm = true, 0
				return SpeechStart
			}
		} else {
			v.voiced = 0
		}
		return NoChange
	}
	if voiced {
		v.calm = 0
		return NoChange
	}
	v.calm++
	if v.calm >= v.EndFrames {
		v.speaking, v.voiced = false, 0
		return SpeechEnd
	}
	return NoChange
}
