package httpapi

// GET /v1/voice/stream: a voice conversation over a WebSocket. The client sends the microphone
// as binary frames of 16 kHz mono 16-bit little-endian PCM; the server finds speech with its
// VAD, decodes while the visitor speaks (partial transcripts), and at the end of speech sends
// the final transcript, the reply, and the reply's audio in binary frames sentence by
// sentence as it is synthesised. Speech during the reply (or {"type":"stop"}) stops it:
// barge-in. Text frames are JSON events; docs/API.md has the protocol.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"voicebot/backend/conversation"
	"voicebot/backend/voice"
)

// Stream limits.
const (
	MaxStreamMessage = 64 << 10        // one binary frame: 2 s of audio
	StreamIdle       = 2 * time.Minute // a connection with no audio for this long is closed
	// 400 ms before the VAD fires go to the recognizer too: a soft first sound ("wh") can come
	// that long before the VAD is sure (TestVADOnSpokenQuestionsInNoise).
	preRollFrames = 20
	audioChunk    = 4096 // samples per binary reply frame
)

// streamEvent is a server event.
type streamEvent map[string]any

// VoiceConn is the two-way channel of a voice conversation: the WebSocket of /v1/voice/stream,
// or the desktop window's bridge (its page cannot open a WebSocket to the listener from its
// wails:// origin). Text frames carry JSON events, binary frames PCM.
type VoiceConn interface {
	Read(ctx context.Context) (text bool, data []byte, err error)
	Write(ctx context.Context, text bool, data []byte) error
}

type wsConn struct{ c *websocket.Conn }

func (w wsConn) Read(ctx context.Context) (bool, []byte, error) {
	typ, b, err := w.c.Read(ctx)
	return typ == websocket.MessageText, b, err
}

func (w wsConn) Write(ctx context.Context, text bool, b []byte) error {
	typ := websocket.MessageBinary
	if text {
		typ = websocket.MessageText
	}
	return w.c.Write(ctx, typ, b)
}

type voiceSession struct {
	s       *Server
	c       VoiceConn
	ctx     context.Context
	lang    string
	session string
	keyID   string

	mu      sync.Mutex
	cancel  context.CancelFunc // stops the reply being spoken
	speakTo time.Time          // when the audio sent so far ends playing (estimated)
}

func (v *voiceSession) send(ev streamEvent) {
	b, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(v.ctx, 10*time.Second)
	defer cancel()
	_ = v.c.Write(ctx, true, b)
}

// replying reports whether a reply is being spoken (synthesised or still playing).
func (v *voiceSession) replying() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cancel != nil || time.Now().Before(v.speakTo)
}

// stopReply cancels the reply being spoken; it reports whether there was one.
func (v *voiceSession) stopReply() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	was := v.cancel != nil || time.Now().Before(v.speakTo)
	if v.cancel != nil {
		v.cancel()
		v.cancel = nil
	}
	v.speakTo = time.Time{}
	return was
}

// acceptWriter holds back the plain-text refusal websocket.Accept writes for a request that is
// not a WebSocket handshake (426, 400) or comes from an origin not allowed (403), so that it goes
// out as the API's JSON error instead; a handshake that succeeds passes through (Hijack).
type acceptWriter struct {
	http.ResponseWriter
	status int
	msg    strings.Builder
}

func (a *acceptWriter) WriteHeader(code int) {
	if code >= 400 {
		a.status = code
		return
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *acceptWriter) Write(b []byte) (int, error) {
	if a.status >= 400 {
		return a.msg.Write(b)
	}
	return a.ResponseWriter.Write(b)
}

func (a *acceptWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(a.ResponseWriter).Hijack()
}

// refuse writes the held-back refusal as JSON.
func (a *acceptWriter) refuse() {
	if a.status == 0 {
		return
	}
	msg := strings.TrimSpace(a.msg.String())
	switch a.status {
	case http.StatusForbidden:
		writeError(a.ResponseWriter, a.status, CodeForbiddenOrigin, msg)
	case http.StatusUpgradeRequired:
		a.ResponseWriter.Header().Set("Upgrade", "websocket")
		writeError(a.ResponseWriter, a.status, CodeWebSocketRequired, "open /v1/voice/stream as a WebSocket with the subprotocol voicebot.v1 ("+msg+")")
	case http.StatusBadRequest:
		writeError(a.ResponseWriter, a.status, CodeWebSocketRequired, "not a valid WebSocket handshake: "+msg)
	default:
		internalError(a.ResponseWriter, "could not open the WebSocket: "+msg, errors.New(msg))
	}
}

func (s *Server) voiceStream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang, ok := s.voiceLang(w, q.Get("lang"))
	if !ok {
		return
	}
	if _, err := s.Voice.Recognizer(lang); err != nil {
		audioError(w, err)
		return
	}
	aw := &acceptWriter{ResponseWriter: w}
	c, err := websocket.Accept(aw, r, &websocket.AcceptOptions{Subprotocols: []string{"voicebot.v1"}, OriginPatterns: s.config().CORSOrigins})
	if err != nil {
		aw.refuse()
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(MaxStreamMessage)
	s.ServeVoice(r.Context(), wsConn{c}, lang, q.Get("session_id"), keyFrom(r).ID)
	c.Close(websocket.StatusNormalClosure, "")
}

// ServeVoice runs a voice conversation on conn until it closes (the desktop window calls it
// with its bridge; the WebSocket route with its socket). lang must be one of the content's.
func (s *Server) ServeVoice(ctx context.Context, conn VoiceConn, lang, session, keyID string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.life.streams, cancel)() // Shutdown ends the stream
	v := &voiceSession{s: s, c: conn, ctx: ctx, lang: lang, session: session, keyID: keyID}
	v.send(streamEvent{"type": "ready", "lang": lang, "sample_rate": voice.SampleRate, "format": "pcm_s16le"})
	v.run()
	v.stopReply()
}

func (v *voiceSession) run() {
	vad := voice.NewVAD()
	var (
		pending []int16   // samples not yet framed
		preroll [][]int16 // the last frames before speech
		st      voice.Stream
		partial string
		frames  int
	)
	endUtterance := func() {
		if st == nil {
			return
		}
		eos := time.Now()
		_, sp := tracer().Start(v.ctx, "speech.transcribe", trace.WithAttributes(attribute.String("voicebot.lang", v.lang)))
		tr, err := st.End()
		endSpan(sp, err)
		st = nil
		if err != nil {
			v.send(streamEvent{"type": "error", "code": CodeInternal, "message": err.Error()})
			return
		}
		v.s.Metrics.NoteVoice("stt", tr.Took, 0) // a stream decodes while the visitor speaks: no real-time factor
		if tr.Text == "" {
			v.send(streamEvent{"type": "final", "text": "", "decode_ms": time.Since(eos).Milliseconds()})
			v.send(streamEvent{"type": "error", "code": CodeNoSpeech, "message": "no speech was recognised"})
			return
		}
		v.reply(spokenOf(tr), eos)
	}
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	for {
		ctx, cancel := context.WithTimeout(v.ctx, StreamIdle)
		text, data, err := v.c.Read(ctx)
		cancel()
		if err != nil {
			return
		}
		if len(data) > MaxStreamMessage {
			v.send(streamEvent{"type": "error", "code": CodeBodyTooLarge, "message": "a frame is larger than 64 KB"})
			continue
		}
		if text {
			var msg struct {
				Type string `json:"type"`
			}
			if code, m := strictJSON(data, &msg); code != "" {
				v.send(streamEvent{"type": "error", "code": code, "message": "text frames are JSON events: {\"type\":\"stop\"} or {\"type\":\"end\"}; " + m})
				continue
			}
			switch msg.Type {
			case "stop": // the visitor tapped: stop speaking
				if v.stopReply() {
					v.send(streamEvent{"type": "barge_in", "by": "stop"})
				}
			case "end": // push-to-talk released: the utterance ends now
				endUtterance()
				vad.Reset()
			default:
				v.send(streamEvent{"type": "error", "code": CodeInvalidParameter, "message": "unknown event " + msg.Type})
			}
			continue
		}
		if len(data)%2 != 0 {
			v.send(streamEvent{"type": "error", "code": CodeInvalidAudio, "message": "binary frames are 16-bit PCM: an even number of bytes"})
			continue
		}
		for i := 0; i+1 < len(data); i += 2 {
			pending = append(pending, int16(binary.LittleEndian.Uint16(data[i:])))
		}
		v.s.Metrics.VoiceHeard.Add(float64(len(data)/2) / voice.SampleRate)
		for len(pending) >= voice.FrameSamples {
			frame := append([]int16(nil), pending[:voice.FrameSamples]...)
			pending = pending[voice.FrameSamples:]
			switch vad.Process(frame) {
			case voice.SpeechStart:
				if v.stopReply() {
					v.send(streamEvent{"type": "barge_in", "by": "speech"})
				}
				s, err := v.s.Voice.NewStream(v.ctx, v.lang)
				if err != nil {
					v.send(streamEvent{"type": "error", "code": CodeVoiceUnavailable, "message": err.Error()})
					return
				}
				st, partial, frames = s, "", 0
				for _, f := range preroll {
					_ = st.Write(f)
				}
				preroll = nil
				v.send(streamEvent{"type": "speech_start"})
			case voice.SpeechEnd:
				if st != nil {
					_ = st.Write(frame)
				}
				endUtterance()
				continue
			}
			if st != nil {
				if err := st.Write(frame); errors.Is(err, voice.ErrTooLong) {
					endUtterance()
					continue
				}
				if frames++; frames%10 == 0 { // every 200 ms
					if p := st.Partial(); p != "" && p != partial {
						partial = p
						v.send(streamEvent{"type": "partial", "text": p})
					}
				}
			} else {
				preroll = append(preroll, frame)
				if len(preroll) > preRollFrames {
					preroll = preroll[1:]
				}
			}
		}
	}
}

// reply runs the turn on what was heard, sends the transcript the engine chose (the one
// answered, or offered on a repair) and the reply, and speaks the answer sentence by sentence
// in the background.
func (v *voiceSession) reply(sp *conversation.Spoken, eos time.Time) {
	rep, e := v.s.runTurn(v.ctx, conversation.Request{SessionID: v.session, Spoken: sp, Lang: v.lang, KeyID: v.keyID})
	if e != nil {
		v.send(streamEvent{"type": "final", "text": sp.Expected, "decode_ms": time.Since(eos).Milliseconds()})
		v.send(streamEvent{"type": "error", "code": e.code, "message": e.message})
		return
	}
	final := streamEvent{"type": "final", "text": sp.Expected, "decode_ms": time.Since(eos).Milliseconds()}
	if rep.Heard != nil {
		final["text"], final["confidence"] = rep.Heard.Transcript, rep.Heard.Confidence
	}
	v.send(final)
	v.session = rep.SessionID
	out := chatReply(rep)
	v.send(streamEvent{"type": "reply", "session_id": out.SessionID, "turn_id": out.TurnID, "reply": out.Reply})
	syn, err := v.s.Voice.Synthesizer(rep.Lang)
	if err != nil {
		v.send(streamEvent{"type": "error", "code": CodeVoiceUnavailable, "message": err.Error()})
		return
	}
	ctx, cancel := context.WithCancel(v.ctx)
	v.mu.Lock()
	if v.cancel != nil {
		v.cancel()
	}
	v.cancel = cancel
	v.mu.Unlock()
	go func() {
		defer func() {
			v.mu.Lock()
			if ctx.Err() == nil {
				v.cancel = nil
			}
			v.mu.Unlock()
			cancel()
		}()
		started := false
		for _, piece := range pieces(rep.Text) {
			piece = strings.TrimSpace(piece)
			if piece == "" {
				continue
			}
			t0 := time.Now()
			sctx, sp := tracer().Start(ctx, "speech.synthesize", trace.WithAttributes(attribute.String("voicebot.engine", syn.Name()), attribute.String("voicebot.lang", rep.Lang)))
			a, err := syn.Synthesize(sctx, piece, rep.Lang, "")
			endSpan(sp, err)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				v.send(streamEvent{"type": "error", "code": CodeVoiceUnavailable, "message": err.Error()})
				return
			}
			v.s.Metrics.NoteVoice("tts", time.Since(t0), a.Duration())
			if !started {
				started = true
				v.send(streamEvent{"type": "audio_start", "sample_rate": a.Rate, "format": "pcm_s16le", "eos_to_audio_ms": time.Since(eos).Milliseconds()})
			}
			v.mu.Lock()
			from := time.Now()
			if v.speakTo.After(from) {
				from = v.speakTo
			}
			v.speakTo = from.Add(a.Duration())
			v.mu.Unlock()
			for i := 0; i < len(a.Samples); i += audioChunk {
				chunk := a.Samples[i:min(i+audioChunk, len(a.Samples))]
				b := make([]byte, 2*len(chunk))
				for j, s := range chunk {
					binary.LittleEndian.PutUint16(b[2*j:], uint16(s))
				}
				if ctx.Err() != nil || v.c.Write(ctx, false, b) != nil {
					return
				}
			}
		}
		if started {
			v.send(streamEvent{"type": "audio_end"})
		}
	}()
}
