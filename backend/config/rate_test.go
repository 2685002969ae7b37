package config

import "testing"

func TestParseRate(t *testing.T) {
	for in, want := range map[string][2]float64{"120/m": {2, 120}, " 5/s ": {5, 5}, "3600/hour": {1, 3600}, "1/min": {1.0 / 60, 1}} {
		if r, b, err := ParseRate(in); err != nil || r != want[0] || float64(b) != want[1] {
			t.Errorf("ParseRate(%q) = %v %v %v, want %v", in, r, b, err, want)
		}
	}
	for _, in := range []string{"", "fast", "0/m", "10/d", "10000000/s", "-1/s", "10 / m"} {
		if _, _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}
