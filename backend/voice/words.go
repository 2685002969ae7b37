package voice

// WordEdits is the word-level edit distance between two transcripts: the fewest words to
// substitute, insert or delete to turn one into the other (the numerator of a word error rate).
func WordEdits(a, b []string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			sub := prev
			if a[i-1] != b[j-1] {
				sub++
			}
			d[j] = min(d[j]+1, d[j-1]+1, sub)
			prev = cur
		}
	}
	return d[len(b)]
}
