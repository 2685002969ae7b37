//go:build desktop

package app

// The window's voice bridge. The page is served from wails://, and WebKit refuses a WebSocket
// from there to the ws:// listener ("The operation is insecure"), so the window's voice
// conversation runs over Wails' own bridge instead: the page sends frames with VoiceSend, the
// core's voice session (httpapi.ServeVoice, the same code as /v1/voice/stream) answers with
// "voice" events, PCM base64-encoded.

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"sync"

	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"voicebot/backend/appliance"
)

type frame struct {
	text bool
	data []byte
}

type bridge struct {
	w      *Window
	in     chan frame
	cancel context.CancelFunc
}

func (b *bridge) Read(ctx context.Context) (bool, []byte, error) {
	select {
	case f, ok := <-b.in:
		if !ok {
			return false, nil, errors.New("closed")
		}
		return f.text, f.data, nil
	case <-ctx.Done():
		return false, nil, ctx.Err()
	}
}

func (b *bridge) Write(ctx context.Context, text bool, data []byte) error {
	wctx := b.w.context()
	if wctx == nil || ctx.Err() != nil {
		return errors.New("closed")
	}
	if text {
		wruntime.EventsEmit(wctx, "voice", map[string]string{"event": string(data)})
	} else {
		wruntime.EventsEmit(wctx, "voice", map[string]string{"audio": base64.StdEncoding.EncodeToString(data)})
	}
	return nil
}

var voiceMu sync.Mutex

// VoiceOpen starts a voice conversation in a language of the content ("" on success, else why
// not); one at a time per window.
func (w *Window) VoiceOpen(lang, session string) string {
	snap := w.a.Engine.Snapshot()
	if snap == nil || !slices.Contains(snap.Pack.Bot.Languages, lang) {
		return "unknown language " + lang
	}
	if _, err := w.a.Voice.Recognizer(lang); err != nil {
		return err.Error()
	}
	w.VoiceClose()
	ctx, cancel := context.WithCancel(context.Background())
	b := &bridge{w: w, in: make(chan frame, 256), cancel: cancel}
	voiceMu.Lock()
	w.voice = b
	voiceMu.Unlock()
	go func() {
		w.a.API.ServeVoice(ctx, b, lang, session, appliance.WindowKey.ID)
		w.withRuntime(func(wctx context.Context) {
			wruntime.EventsEmit(wctx, "voice", map[string]string{"event": `{"type":"closed"}`})
		})
	}()
	return ""
}

// VoiceSend passes one frame from the page: PCM (base64) or a JSON control event.
func (w *Window) VoiceSend(pcm string, control string) {
	voiceMu.Lock()
	b := w.voice
	voiceMu.Unlock()
	if b == nil {
		return
	}
	f := frame{text: true, data: []byte(control)}
	if control == "" {
		data, err := base64.StdEncoding.DecodeString(pcm)
		if err != nil {
			return
		}
		f = frame{data: data}
	}
	select {
	case b.in <- f:
	default: // the session is behind: drop the frame rather than block the page
	}
}

// VoiceClose ends the window's voice conversation.
func (w *Window) VoiceClose() {
	voiceMu.Lock()
	b := w.voice
	w.voice = nil
	voiceMu.Unlock()
	if b != nil {
		b.cancel()
	}
}
