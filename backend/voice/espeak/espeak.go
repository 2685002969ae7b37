//go:build cgo && linux

package espeak

/*
#cgo LDFLAGS: -lespeak-ng
#include <stdlib.h>
#include <stdint.h>
#include <espeak-ng/speak_lib.h>

extern int vbSynthCallback(short *wav, int n, espeak_EVENT *events);

static int vb_init(void) {
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL, 0);
	if (rate > 0) espeak_SetSynthCallback(vbSynthCallback);
	return rate;
}

static int vb_synth(const char *text, size_t len, void *user) {
	return espeak_Synth(text, len + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, user);
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
type Synthesizer struct {
	mu   sync.Mutex
	rate int
	init bool
	err  error
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
	v, ok := voices[lang]
	if !ok {
		return voice.Audio{}, fmt.Errorf("%w %q", voice.ErrNoSynthesizer, lang)
	}
	if voiceName != "" && strings.HasPrefix(voiceName, lang) {
		v = voiceName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return voice.Audio{}, err
	}
	if !s.init {
		s.init = true
		if r := int(C.vb_init()); r <= 0 {
			s.err = errors.New("espeak-ng did not start (Debian: apt-get install espeak-ng-data)")
		} else {
			s.rate = r
		}
	}
	if s.err != nil {
		return voice.Audio{}, s.err
	}
	cv := C.CString(v)
	rc := C.espeak_SetVoiceByName(cv)
	C.free(unsafe.Pointer(cv))
	if rc != C.EE_OK {
		return voice.Audio{}, fmt.Errorf("espeak-ng has no voice %q", v)
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
	return voice.Audio{Rate: s.rate, Samples: col.samples}, nil
}
