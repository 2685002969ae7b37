//go:build cgo && linux

package sphinx

// Whether the grammar forced its sentence onto the speech. The grammar can only end on one of
// the content's sentences, so a question it does not hold comes out as the nearest one, said
// with confidence. The language model's reading is free to say other words. Both readings are
// aligned to the same speech by the same decoder (a one-sentence grammar each), and their
// acoustic scores compared per frame: a sentence that was said fits the speech about as well as
// the free reading (within 0.3 per thousand frames on the tuning voices' phrasings: 90% of
// them), a forced one fits far worse (below -0.75 for 90% of the tuning set's questions the
// grammar does not hold); measured with a prototype of this alignment at beams of 1e-80.
// docs/ARCHITECTURE.md ("knowing when it did not hear") has the figures.

/*
#include <stdio.h>
#include <stdlib.h>
#include <pocketsphinx.h>

// vb_align decodes the samples with a grammar of one sentence (an FSG in text form) and gives
// its path score (natural log) and the number of frames; the decoder goes back to its search.
static int vb_align(ps_decoder_t *ps, const char *back, char *fsg, size_t n, const short *buf, size_t ns, double *score, int *frames) {
	FILE *f = fmemopen(fsg, n, "r");
	if (f == NULL) return -1;
	fsg_model_t *m = fsg_model_read(f, ps_get_logmath(ps), 1.0);
	fclose(f);
	if (m == NULL) return -2;
	int rc = ps_set_fsg(ps, "align", m);
	fsg_model_free(m);
	if (rc < 0 || ps_set_search(ps, "align") < 0) return -3;
	rc = 0;
	if (ps_start_utt(ps) < 0) rc = -4;
	else {
		ps_process_raw(ps, buf, ns, FALSE, TRUE);
		ps_end_utt(ps);
		int32 sc;
		if (ps_get_hyp(ps, &sc) == NULL) rc = -5;
		*score = logmath_log_to_ln(ps_get_logmath(ps), sc);
		*frames = ps_get_n_frames(ps);
	}
	ps_set_search(ps, back);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"voicebot/backend/voice"
)

// Forced's scale: the expected sentence's score per thousand frames against the free
// reading's, from forcedFrom (as good as said: 0) down to forcedFrom-forcedSpan (surely
// forced: 1). Chosen on the tuning set (3 voices, replayed from the prototype's scores): at the
// engine's threshold of 0.5 (a gap of -0.6) 98.6% of the phrasings kept the typed answer, and
// the visitors' questions got it 72.7% of the time with 5.3% different answers.
const (
	forcedFrom = -0.3
	forcedSpan = 0.6
)

// align scores a sentence against the samples on the decoder (ok false when a word is not in
// its dictionary or the sentence cannot be aligned).
func align(d *decoder, words []string, samples []int16) (perFrame float64, ok bool) {
	if len(words) == 0 || len(samples) == 0 {
		return 0, false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FSG_BEGIN align\nNUM_STATES %d\nSTART_STATE 0\nFINAL_STATE %d\n", len(words)+1, len(words))
	for i, w := range words {
		cw := C.CString(w)
		known := C.ps_lookup_word(d.ps, cw) != nil
		C.free(unsafe.Pointer(cw))
		if !known {
			return 0, false
		}
		fmt.Fprintf(&b, "TRANSITION %d %d 1.0 %s\n", i, i+1, w)
	}
	b.WriteString("FSG_END\n")
	src, back := C.CString(b.String()), C.CString(d.search)
	defer C.free(unsafe.Pointer(src))
	defer C.free(unsafe.Pointer(back))
	var score C.double
	var frames C.int
	if C.vb_align(d.ps, back, src, C.size_t(b.Len()), (*C.short)(unsafe.Pointer(&samples[0])), C.size_t(len(samples)), &score, &frames) < 0 || frames == 0 {
		return 0, false
	}
	return 1000 * float64(score) / float64(frames), true
}

// forced compares the transcript's expected sentence with its free reading on the grammar's
// decoder, using the grammar's own alignment when it was made (0 when they are the same,
// either is empty, or one cannot be aligned).
func forced(d *decoder, t voice.Transcript, grammar heard, samples []int16) float64 {
	if t.Text == "" || t.Free == "" || t.Text == t.Free {
		return 0
	}
	e, ok1 := grammar.fit, grammar.fitOK
	if t.Text != grammar.text {
		e, ok1 = align(d, strings.Fields(t.Text), samples)
	}
	f, ok2 := align(d, strings.Fields(t.Free), samples)
	if !ok1 || !ok2 {
		return 0
	}
	return min(max((forcedFrom-(e-f))/forcedSpan, 0), 1)
}
