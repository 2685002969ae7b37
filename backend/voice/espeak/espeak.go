//go:build cgo && linux

package espeak

/*
#cgo LDFLAGS: -lespeak-ng
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <espeak-ng/speak_lib.h>

#define VB_CUSHION 65536

extern int vbSynthCallback(short *wav, int n, espeak_EVENT *events);

static int vb_init(void) {
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL, 0);
	if (rate > 0) espeak_SetSynthCallback(vbSynthCallback);
	return rate;
}

// vb_synth speaks text. espeak-ng 1.51 (Debian's) can scan past the end of a word buffer on
// its own stack, upwards until it meets a space, while it translates a clause (utf8_in). On a
// process's main thread the environment above the stack stops it; called from Go, espeak-ng
// runs near the top of a thread's stack, and the scan ran into the unmapped page beyond: a
// SIGSEGV now and then (speaking the demo's Spanish replies with phoneme lookups between them:
// 8 runs of 12). A cushion of spaces on the stack above espeak-ng's frames stops the scan
// (0 of 32). A cushion of zeros did not (the scan does not stop at a zero).
static int vb_synth(const char *text, size_t len, void *user) {
	volatile char cushion[VB_CUSHION];
	memset((char *)cushion, ' ', sizeof cushion);
	int rc = espeak_Synth(text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, user);
	cushion[0] = 0;
	return rc;
}

// vb_phonemes writes the IPA phonemes of text (one clause at a time, joined by spaces) into out,
// with '_' between the phonemes of a word: phoneme mode bit 1 is IPA, bits 8-23 the separator.
static int vb_phonemes(const char *text, char *out, size_t n) {
	volatile char cushion[VB_CUSHION]; // as in vb_synth
	memset((char *)cushion, ' ', sizeof cushion);
	const void *p = text;
	size_t used = 0;
	out[0] = 0;
	while (p != NULL) {
		const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, 0x02 | ('_' << 8));
		if (ph == NULL) break;
		size_t k = strlen(ph);
		if (used + k + 2 > n) return -1;
		if (used > 0) out[used++] = ' ';
		memcpy(out + used, ph, k);
		used += k;
		out[used] = 0;
	}
	cushion[0] = 0;
	return (int)used;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	vbtext "voicebot/backend/text"
	"voicebot/backend/voice"
)

func init() {
	voice.Register(func() (voice.Recognizer, voice.Synthesizer, error) {
		s, err := New()
		if err != nil {
			return nil, nil, err
		}
		return nil, s, nil
	})
}

// Synthesizer is espeak-ng.
type Synthesizer struct{}

// engine is espeak-ng itself, one per process: it is not thread-safe, so synthesis and
// phoneme lookups take turns under mu; it starts on first use.
var engine struct {
	mu   sync.Mutex
	rate int
	init bool
	err  error
}

// start starts espeak-ng once; engine.mu is held.
func start() error {
	if !engine.init {
		engine.init = true
		if r := int(C.vb_init()); r <= 0 {
			engine.err = errors.New("espeak-ng did not start (Debian: apt-get install espeak-ng-data)")
		} else {
			engine.rate = r
		}
	}
	return engine.err
}

// setVoice selects a voice by name; engine.mu is held.
func setVoice(v string) error {
	cv := C.CString(v)
	rc := C.espeak_SetVoiceByName(cv)
	C.free(unsafe.Pointer(cv))
	if rc != C.EE_OK {
		return fmt.Errorf("espeak-ng has no voice %q", v)
	}
	return nil
}

// Phonemes returns how espeak-ng's voice for lang (a language such as "es", or a voice such as
// "es-419") pronounces text, in IPA: the phonemes of a word separated by "_" (so that "t_ʃ" and
// "tʃ" differ), words by spaces, with espeak-ng's stress marks (ˈ ˌ) and lengths (ː) where it
// puts them. Safe for concurrent use with Synthesize.
func Phonemes(text, lang string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", nil
	}
	if len(text) > MaxText {
		return "", fmt.Errorf("text longer than %d bytes", MaxText)
	}
	v, ok := voices[lang]
	if !ok {
		v = lang
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if err := start(); err != nil {
		return "", err
	}
	if err := setVoice(v); err != nil {
		return "", err
	}
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	n := 16*len(text) + 64
	out := (*C.char)(C.malloc(C.size_t(n)))
	defer C.free(unsafe.Pointer(out))
	if C.vb_phonemes(ct, out, C.size_t(n)) < 0 {
		return "", errors.New("espeak-ng: phonemes longer than expected")
	}
	return strings.TrimSpace(C.GoString(out)), nil
}

// New makes the synthesizer; espeak-ng itself starts on first use.
func New() (*Synthesizer, error) { return &Synthesizer{}, nil }

func (s *Synthesizer) Name() string        { return "espeak-ng" }
func (s *Synthesizer) Languages() []string { return []string{"en", "es", "fr", "de", "it", "pt"} }
func (s *Synthesizer) Builtin() bool       { return true }

// voices maps a language to espeak-ng's voice; a voice given by the caller (e.g. "en-gb",
// "en-us+f3") wins when it is one of the language's.
var voices = map[string]string{"en": "en-us", "es": "es", "fr": "fr", "de": "de", "it": "it", "pt": "pt"}

// MaxText bounds what one synthesis speaks.
const MaxText = 4000

type collector struct{ samples []int16 }

//export vbSynthCallback
func vbSynthCallback(wav *C.short, n C.int, events *C.espeak_EVENT) C.int {
	if wav == nil || n <= 0 {
		return 0
	}
	h := cgo.Handle(*(*C.uintptr_t)(events.user_data))
	c := h.Value().(*collector)
	c.samples = append(c.samples, unsafe.Slice((*int16)(unsafe.Pointer(wav)), int(n))...)
	return 0
}

// Synthesize speaks text in the language's voice.
func (s *Synthesizer) Synthesize(ctx context.Context, text, lang, voiceName string) (voice.Audio, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return voice.Audio{}, errors.New("nothing to say")
	}
	if len(text) > MaxText {
		return voice.Audio{}, fmt.Errorf("text longer than %d bytes", MaxText)
	}
	v, ok := voices[vbtext.Base(lang)] // "en-GB" is said by the English voice
	if !ok {
		return voice.Audio{}, fmt.Errorf("%w %q", voice.ErrNoSynthesizer, lang)
	}
	if voiceName != "" && strings.HasPrefix(voiceName, lang) {
		v = voiceName
	}
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return voice.Audio{}, err
	}
	if err := start(); err != nil {
		return voice.Audio{}, err
	}
	if err := setVoice(v); err != nil {
		return voice.Audio{}, err
	}
	col := &collector{}
	h := cgo.NewHandle(col)
	defer h.Delete()
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	user := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0)))) // C memory holding the handle
	defer C.free(user)
	*(*C.uintptr_t)(user) = C.uintptr_t(h)
	if rc := C.vb_synth(ct, C.size_t(len(text)), user); rc != C.EE_OK {
		return voice.Audio{}, fmt.Errorf("espeak-ng synthesis failed (%d)", int(rc))
	}
	return voice.Audio{Rate: engine.rate, Samples: col.samples}, nil
}
