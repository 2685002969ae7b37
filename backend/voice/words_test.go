package voice

import (
	"strings"
	"testing"
)

func TestWordEdits(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"what are the opening hours", "what are the opening hours", 0},
		{"what are the opening hours", "where are the lighthouse lens", 3},
		{"how much is a ticket", "how much is the", 2},
		{"", "hello there", 2},
		{"hello there", "", 2},
	} {
		if got := WordEdits(strings.Fields(tc.a), strings.Fields(tc.b)); got != tc.want {
			t.Errorf("WordEdits(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
