package sphinx

import (
	"slices"
	"testing"
)

// The dither breaks runs of digital silence with a little symmetric noise, the same for the
// same recording every time, and never wraps a sample at full scale.
func TestDither(t *testing.T) {
	in := make([]int16, 16000)
	in[10], in[11] = 32767, -32768
	var a, b ditherer
	x, y := a.apply(nil, in), b.apply(nil, in)
	if !slices.Equal(x, y) {
		t.Fatal("the same recording was dithered differently")
	}
	var zeros, sum int
	hist := map[int16]int{}
	for i, v := range x {
		if i == 10 || i == 11 {
			continue
		}
		if v < -3 || v > 3 {
			t.Fatalf("sample %d dithered to %d, want within -3..3", i, v)
		}
		hist[v]++
		sum += int(v)
		if v == 0 {
			zeros++
		}
	}
	if x[10] < 32764 || x[11] > -32765 {
		t.Fatalf("full-scale samples wrapped: %d %d", x[10], x[11])
	}
	// Triangular: 0 is the most likely value (4 of 16), ±3 the least (1 of 16).
	if zeros < 3500 || zeros > 4500 || hist[3] > 1300 || hist[-3] > 1300 || len(hist) != 7 {
		t.Fatalf("not a triangular dither: %v", hist)
	}
	if sum < -800 || sum > 800 {
		t.Fatalf("dither has a bias: sum %d over 16000 samples", sum)
	}
	// Appending in pieces continues the same sequence.
	var c ditherer
	z := c.apply(nil, in[:5000])
	z = c.apply(z, in[5000:])
	if !slices.Equal(x, z) {
		t.Fatal("dithering in pieces differs from dithering at once")
	}
}
