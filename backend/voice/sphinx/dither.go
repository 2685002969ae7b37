package sphinx

// ditherer adds a little noise to the audio before the decoders see it (-3 to +3, triangular:
// 80 dB below full scale), as sphinxbase's own -dither does, but from a generator of its own:
// the decoder's dither draws from one process-wide generator seeded from the clock, which two
// decoders at work at once share, so the same recording could be heard differently from run
// to run.
//
// Why at all: digital silence (runs of exact zeros, as synthesised speech and a browser's
// noise suppression both produce) has no energy, its log is clamped to the floor, and those
// frames pull the utterance's cepstral mean far from speech. Measured on the spoken demo
// corpus (docs/BENCHMARKS.md), the 846 spoken phrasings answered as typed from the grammar
// 96.7% -> 97.0%, from the language model 76.5% -> 83.1%.
type ditherer struct{ state uint64 }

// apply appends the dithered samples to dst.
func (d *ditherer) apply(dst, samples []int16) []int16 {
	if d.state == 0 {
		d.state = 0x9e3779b97f4a7c15
	}
	for _, v := range samples {
		// xorshift64*
		d.state ^= d.state >> 12
		d.state ^= d.state << 25
		d.state ^= d.state >> 27
		r := d.state * 0x2545f4914f6cdd1d
		x := int32(v) + int32(r>>62) - int32(r>>60&3) // -3 ... +3, triangular (TPDF dither)
		dst = append(dst, int16(max(-32768, min(32767, x))))
	}
	return dst
}
