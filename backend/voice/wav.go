package voice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// SampleRate is the rate the recognizers work at: 16 kHz, 16-bit, mono.
const SampleRate = 16000

// MaxAudio is the longest utterance accepted (a visitor's question, not a recording).
const MaxAudio = 30 * time.Second

// Audio is mono 16-bit PCM at Rate samples per second.
type Audio struct {
	Rate    int
	Samples []int16
}

// Duration is the audio's length.
func (a Audio) Duration() time.Duration {
	if a.Rate == 0 {
		return 0
	}
	return time.Duration(len(a.Samples)) * time.Second / time.Duration(a.Rate)
}

// Errors for audio that cannot be used; each says what is wrong in words a client can act on.
var (
	ErrNotWAV     = errors.New("not a WAV file: send RIFF/WAVE audio (16-bit PCM)")
	ErrCorruptWAV = errors.New("corrupt WAV file")
	ErrWAVFormat  = errors.New("unsupported WAV format")
	ErrNoAudio    = errors.New("the audio is empty")
	ErrTooLong    = fmt.Errorf("the audio is longer than %s", MaxAudio)
)

// DecodeWAV reads a WAV file: 16-bit (or 8-bit) PCM, mono or stereo (mixed down), 8 to 48 kHz.
// It returns the audio resampled to 16 kHz mono.
func DecodeWAV(b []byte) (Audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return Audio{}, ErrNotWAV
	}
	var (
		haveFmt          bool
		format, channels uint16
		rate             uint32
		bits             uint16
		data             []byte
		haveData         bool
	)
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		if size < 0 || body+size > len(b) {
			if id == "data" && haveFmt { // a streaming writer's size placeholder: take what is there
				size = len(b) - body
			} else {
				return Audio{}, fmt.Errorf("%w: chunk %q says %d bytes, the file has %d", ErrCorruptWAV, id, size, len(b)-body)
			}
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return Audio{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrCorruptWAV, size)
			}
			format = binary.LittleEndian.Uint16(b[body:])
			channels = binary.LittleEndian.Uint16(b[body+2:])
			rate = binary.LittleEndian.Uint32(b[body+4:])
			bits = binary.LittleEndian.Uint16(b[body+14:])
			if format == 0xFFFE && size >= 40 { // WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
				format = binary.LittleEndian.Uint16(b[body+24:])
			}
			haveFmt = true
		case "data":
			data, haveData = b[body:body+size], true
		}
		off = body + size + size%2
	}
	if !haveFmt || !haveData {
		return Audio{}, fmt.Errorf("%w: no fmt or data chunk", ErrCorruptWAV)
	}
	if format != 1 || (bits != 16 && bits != 8) {
		return Audio{}, fmt.Errorf("%w: format %d with %d bits; send 16-bit PCM", ErrWAVFormat, format, bits)
	}
	if channels < 1 || channels > 2 {
		return Audio{}, fmt.Errorf("%w: %d channels; send mono or stereo", ErrWAVFormat, channels)
	}
	if rate < 8000 || rate > 48000 {
		return Audio{}, fmt.Errorf("%w: %d Hz; send 8 to 48 kHz (16 kHz is best)", ErrWAVFormat, rate)
	}
	frame := int(channels) * int(bits/8)
	n := len(data) / frame
	if n == 0 {
		return Audio{}, ErrNoAudio
	}
	if time.Duration(n)*time.Second/time.Duration(rate) > MaxAudio {
		return Audio{}, ErrTooLong
	}
	mono := make([]int16, n)
	for i := 0; i < n; i++ {
		var sum int
		for c := 0; c < int(channels); c++ {
			p := i*frame + c*int(bits/8)
			if bits == 16 {
				sum += int(int16(binary.LittleEndian.Uint16(data[p:])))
			} else {
				sum += (int(data[p]) - 128) << 8
			}
		}
		mono[i] = int16(sum / int(channels))
	}
	out := Resample(Audio{Rate: int(rate), Samples: mono}, SampleRate)
	if len(out.Samples) == 0 { // a sample or two at a higher rate is less than one at 16 kHz
		return Audio{}, ErrNoAudio
	}
	return out, nil
}

// Resample converts to another rate. Going down, a windowed-sinc low-pass (63 taps, cut at
// 0.45 of the new rate) removes what would otherwise fold back into the speech band (espeak-ng
// speaks at 22,050 Hz; plain interpolation to 16 kHz cost the recognizer several points);
// then samples are interpolated linearly.
func Resample(a Audio, rate int) Audio {
	if a.Rate == rate || len(a.Samples) == 0 {
		return Audio{Rate: rate, Samples: a.Samples}
	}
	src := make([]float64, len(a.Samples))
	for i, v := range a.Samples {
		src[i] = float64(v)
	}
	if rate < a.Rate {
		src = lowPass(src, 0.45*float64(rate)/float64(a.Rate))
	}
	n := int(int64(len(src)) * int64(rate) / int64(a.Rate))
	out := make([]int16, n)
	step := float64(a.Rate) / float64(rate)
	for i := range out {
		x := float64(i) * step
		j := int(x)
		v := src[len(src)-1]
		if j+1 < len(src) {
			f := x - float64(j)
			v = src[j]*(1-f) + src[j+1]*f
		}
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return Audio{Rate: rate, Samples: out}
}

// lowPass filters with a Blackman-windowed sinc; cut is the cut-off as a share of the rate.
func lowPass(x []float64, cut float64) []float64 {
	const taps = 63
	h := make([]float64, taps)
	var sum float64
	for i := range h {
		m := float64(i - taps/2)
		if m == 0 {
			h[i] = 2 * cut
		} else {
			h[i] = math.Sin(2*math.Pi*cut*m) / (math.Pi * m)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(taps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(taps-1))
		h[i] *= w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	y := make([]float64, len(x))
	for i := range x {
		var acc float64
		for k, c := range h {
			j := i + k - taps/2
			if j >= 0 && j < len(x) {
				acc += c * x[j]
			}
		}
		y[i] = acc
	}
	return y
}

// EncodeWAV writes 16-bit mono PCM as a WAV file.
func EncodeWAV(a Audio) []byte {
	var buf bytes.Buffer
	data := len(a.Samples) * 2
	buf.Grow(44 + data)
	buf.WriteString("RIFF")
	_ = binary.Write(&buf, binary.LittleEndian, uint32(36+data))
	buf.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(a.Rate), uint32(a.Rate * 2), uint16(2), uint16(16)} {
		_ = binary.Write(&buf, binary.LittleEndian, v)
	}
	buf.WriteString("data")
	_ = binary.Write(&buf, binary.LittleEndian, uint32(data))
	_ = binary.Write(&buf, binary.LittleEndian, a.Samples)
	return buf.Bytes()
}
