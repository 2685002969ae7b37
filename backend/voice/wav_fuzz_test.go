package voice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"
)

// wavOf is a WAV file with a fmt chunk of the given format and the data bytes.
func wavOf(format, channels uint16, rate uint32, bits uint16, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	frame := channels * bits / 8
	for _, v := range []any{uint32(16), format, channels, rate, rate * uint32(frame), frame, bits} {
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// FuzzDecodeWAV: any bytes sent as a recording (POST /v1/voice, the transcription upload) decode
// or are refused with one of the documented errors, never a panic; decoded audio is 16 kHz mono,
// not empty and within MaxAudio; and 16 kHz mono audio survives EncodeWAV -> DecodeWAV unchanged.
func FuzzDecodeWAV(f *testing.F) {
	pcm := make([]byte, 640)
	for i := range pcm {
		pcm[i] = byte(i * 7)
	}
	f.Add(wavOf(1, 1, 16000, 16, pcm))
	f.Add(wavOf(1, 2, 44100, 16, pcm))
	f.Add(wavOf(1, 1, 8000, 8, pcm[:101]))
	f.Add(wavOf(1, 2, 48000, 8, pcm))
	f.Add(wavOf(3, 1, 16000, 32, pcm))
	f.Add(wavOf(0xFFFE, 1, 16000, 16, pcm))
	f.Add(wavOf(1, 0, 16000, 16, pcm))
	f.Add(wavOf(1, 1, 16000, 16, nil))
	f.Add(EncodeWAV(Audio{Rate: 22050, Samples: []int16{1, -1, 300, -32768, 32767}}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00"))
	f.Add([]byte("not a wav"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeWAV(b)
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrCorruptWAV) && !errors.Is(err, ErrWAVFormat) && !errors.Is(err, ErrNoAudio) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("an error that is none of the documented ones: %v", err)
			}
			return
		}
		if a.Rate != SampleRate || len(a.Samples) == 0 {
			t.Fatalf("decoded to %d Hz, %d samples", a.Rate, len(a.Samples))
		}
		if a.Duration() > MaxAudio+time.Second/SampleRate {
			t.Fatalf("decoded %s, longer than MaxAudio", a.Duration())
		}
		if len(a.Samples) > len(b) { // 8-bit 8 kHz is the most a byte can become: 2 samples
			if len(a.Samples) > 2*len(b) {
				t.Fatalf("%d bytes became %d samples", len(b), len(a.Samples))
			}
		}
		again, err := DecodeWAV(EncodeWAV(a))
		if err != nil || again.Rate != SampleRate || !slices.Equal(again.Samples, a.Samples) {
			t.Fatalf("EncodeWAV -> DecodeWAV changed the audio: %v (%d vs %d samples)", err, len(again.Samples), len(a.Samples))
		}
	})
}
