package content

import (
	"testing"

	vbembed "voicebot/embed"
)

// BenchmarkLoadDemo parses and validates the built-in demo pack: the part of a reload that reads
// the YAML (and the documents), before training.
func BenchmarkLoadDemo(b *testing.B) {
	fsys := vbembed.DemoContent()
	for b.Loop() {
		if _, err := Load(fsys, "demo"); err != nil {
			b.Fatal(err)
		}
	}
}
