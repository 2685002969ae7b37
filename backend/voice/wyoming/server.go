package wyoming

// The server side: VoiceBot's speech to text (asr), text to speech (tts) and conversation
// engine (handle) offered to Home Assistant's Wyoming integration. It follows the protocol as
// the Python library rhasspy/wyoming 1.7 (the version Home Assistant's integration pins) defines
// it: describe is answered with info (asr, tts, handle, intent and wake lists of programs, each
// with name, description, attribution {name, url}, installed, version and its models or
// voices); transcribe, audio-start, audio-chunk* and audio-stop with transcript {text,
// language}; synthesize {text, voice {name, language, speaker}} with audio-start, audio-chunk*
// and audio-stop; transcript {text, language, context {conversation_id}} with handled or
// not-handled {text, context}; ping with pong. Events are written as the Python library writes
// them: data apart from the header (data_length), then the payload.
//
// The protocol has no authentication: whoever reaches the port may use it. The server bounds
// everything it reads (Limits) and answers a bad event with an error event {text, code}; a
// stream it cannot follow any more (a header too long, data or payload over the limits, broken
// JSON) is answered and closed.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"voicebot/backend/voice"
)

// ProtocolVersion is the Wyoming version the server's events carry (rhasspy/wyoming 1.7.x, the
// one Home Assistant's integration requires).
const ProtocolVersion = "1.7.1"

// Info is the answer to describe, as wyoming.info.Info serialises it: every list is present.
type Info struct {
	Asr    []AsrProgram    `json:"asr"`
	Tts    []TtsProgram    `json:"tts"`
	Handle []HandleProgram `json:"handle"`
	Intent []any           `json:"intent"`
	Wake   []any           `json:"wake"`
}

// Attribution names who made a program or model.
type Attribution struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Artifact is what every program, model and voice has.
type Artifact struct {
	Name        string      `json:"name"`
	Attribution Attribution `json:"attribution"`
	Installed   bool        `json:"installed"`
	Description string      `json:"description"`
	Version     string      `json:"version"`
}

// Model is an asr or handle model: an artifact with its languages.
type Model struct {
	Artifact
	Languages []string `json:"languages"`
}

// Voice is a tts voice.
type Voice struct {
	Artifact
	Languages []string `json:"languages"`
	Speakers  []any    `json:"speakers"`
}

// AsrProgram is a speech to text service.
type AsrProgram struct {
	Artifact
	Models                      []Model `json:"models"`
	SupportsTranscriptStreaming bool    `json:"supports_transcript_streaming"`
}

// TtsProgram is a text to speech service.
type TtsProgram struct {
	Artifact
	Voices                      []Voice `json:"voices"`
	SupportsSynthesizeStreaming bool    `json:"supports_synthesize_streaming"`
}

// HandleProgram is a conversation service (transcript in, handled out).
type HandleProgram struct {
	Artifact
	Models                   []Model `json:"models"`
	SupportsHandledStreaming bool    `json:"supports_handled_streaming"`
	SupportsHomeControl      bool    `json:"supports_home_control"`
}

// Handled is a conversation service's answer: Handled false sends not-handled (the question
// was not one it can answer; Text says so).
type Handled struct {
	Text    string
	Handled bool
}

// Backend is what the server offers: VoiceBot's engines behind small methods. Lang is the
// language Home Assistant asked for ("" when it did not say).
type Backend interface {
	Info() Info
	Transcribe(ctx context.Context, a voice.Audio, lang string) (text, language string, err error)
	Synthesize(ctx context.Context, text, lang, voiceName string) (voice.Audio, error)
	// Handle answers one utterance; conversation is Home Assistant's conversation id (""
	// when none), so that follow-ups continue the same conversation.
	Handle(ctx context.Context, text, lang, conversation string) (Handled, error)
}

// Limits bound what one client may send.
type Limits struct {
	Header   int           // bytes of a header line
	Data     int           // bytes of an event's data
	Payload  int           // bytes of one event's payload
	Audio    time.Duration // audio of one transcription
	Text     int           // characters of a synthesize or transcript text
	Idle     time.Duration // time allowed between two events
	Turn     time.Duration // time allowed for one transcription, synthesis or handling
	PerAddr  int           // open connections from one remote address
	Conns    int           // open connections in all
	BadLimit int           // events answered with an error before the connection is closed
}

// DefaultLimits are the server's limits unless set: Home Assistant sends 16 kHz 16-bit mono
// audio in chunks of well under 64 KiB and one utterance at a time.
var DefaultLimits = Limits{Header: 8 << 10, Data: 64 << 10, Payload: 256 << 10, Audio: voice.MaxAudio, Text: 2000,
	Idle: 60 * time.Second, Turn: 60 * time.Second, PerAddr: 8, Conns: 64, BadLimit: 8}

// Error codes of the error events the server sends.
const (
	CodeBadEvent     = "bad_event"     // not a Wyoming event, or data of the wrong shape
	CodeTooLarge     = "too_large"     // a header, data, payload, text or audio over the limits
	CodeUnknownEvent = "unknown_event" // an event type the server does not serve
	CodeBadAudio     = "bad_audio"     // audio in a format the server cannot read
	CodeNoAudio      = "no_audio"      // audio-stop with no audio
	CodeUnavailable  = "unavailable"   // no engine for the language, or the appliance paused
	CodeFailed       = "failed"        // the engine failed
	CodeTooMany      = "too_many_connections"
)

// Refusal is an error a Backend returns to send a particular code and text.
type Refusal struct{ Code, Text string }

func (r *Refusal) Error() string { return r.Text }

// Server serves the Wyoming protocol on the listeners given to Serve.
type Server struct {
	Backend Backend
	Limits  Limits
	// Observe, if set, is told of each request served: service (describe, asr, tts, handle,
	// ping, bad), outcome (ok, not_handled or an error code) and time taken.
	Observe func(service, outcome string, took time.Duration)

	mu     sync.Mutex
	open   map[string]int
	total  int
	conns  map[net.Conn]struct{}
	lns    []net.Listener
	closed bool
	wg     sync.WaitGroup
	base   context.Context // ends with Close: the requests under way are cancelled
	cancel context.CancelFunc
}

func (s *Server) limits() Limits {
	l, d := s.Limits, DefaultLimits
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pickD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.Header, d.Header)
	pick(&l.Data, d.Data)
	pick(&l.Payload, d.Payload)
	pick(&l.Text, d.Text)
	pick(&l.PerAddr, d.PerAddr)
	pick(&l.Conns, d.Conns)
	pick(&l.BadLimit, d.BadLimit)
	pickD(&l.Audio, d.Audio)
	pickD(&l.Idle, d.Idle)
	pickD(&l.Turn, d.Turn)
	return l
}

// Serve accepts connections on ln until Close (or until ln fails).
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.lns = append(s.lns, ln)
	if s.open == nil {
		s.open, s.conns = map[string]int{}, map[net.Conn]struct{}{}
		s.base, s.cancel = context.WithCancel(context.Background())
	}
	s.mu.Unlock()
	lim := s.limits()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		addr := remoteHost(c)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return net.ErrClosed
		}
		if s.open[addr] >= lim.PerAddr || s.total >= lim.Conns {
			s.mu.Unlock()
			s.observe("bad", CodeTooMany, 0)
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_ = writeEvent(c, "error", map[string]any{"text": fmt.Sprintf("too many connections (at most %d from one address, %d in all)", lim.PerAddr, lim.Conns), "code": CodeTooMany}, nil)
			c.Close()
			continue
		}
		s.open[addr]++
		s.total++
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				if s.open[addr]--; s.open[addr] <= 0 {
					delete(s.open, addr)
				}
				s.total--
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.serveConn(c, lim)
			lingerClose(c)
		}()
	}
}

// Close stops accepting, closes every connection and waits for their handlers.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// lingerClose closes a connection the server is done with so that what it sent last (an error
// event) reaches the client: it stops writing, reads and drops what the client still sends
// (for at most a second and 1 MiB), then closes. Closing with unread input at once would reset
// the connection, and the client could lose the error.
func lingerClose(c net.Conn) {
	defer c.Close()
	tc, ok := c.(*net.TCPConn)
	if !ok || tc.CloseWrite() != nil {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.CopyN(io.Discard, c, 1<<20)
}

func remoteHost(c net.Conn) string {
	if h, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
		return h
	}
	return c.RemoteAddr().String()
}

func (s *Server) observe(service, outcome string, took time.Duration) {
	if s.Observe != nil {
		s.Observe(service, outcome, took)
	}
}

// conn is one client's connection and what it has sent of a transcription so far.
type conn struct {
	s    *Server
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	lim  Limits
	ctx  context.Context
	bad  int
	lang string // from transcribe
	// the audio of a transcription in progress
	audio            []int16
	rate, width, chs int
	started          bool
}

func (s *Server) serveConn(c net.Conn, lim Limits) {
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	defer cancel()
	cn := &conn{s: s, c: c, r: bufio.NewReaderSize(c, lim.Header), w: bufio.NewWriterSize(c, 32<<10), lim: lim, ctx: ctx}
	for {
		_ = c.SetReadDeadline(time.Now().Add(lim.Idle))
		e, err := ReadLimited(cn.r, lim.Data, lim.Payload)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // idle: closed without a word, as a silent peer expects nothing
			}
			code := CodeBadEvent
			if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrHeaderTooLong) {
				code = CodeTooLarge
			}
			s.observe("bad", code, 0)
			cn.send("error", map[string]any{"text": err.Error(), "code": code}, nil)
			return // the stream cannot be followed any more
		}
		if !cn.handle(e) {
			return
		}
		if cn.bad >= lim.BadLimit {
			return
		}
	}
}

// send writes one event and flushes it; false when the client is gone.
func (cn *conn) send(typ string, data any, payload []byte) bool {
	_ = cn.c.SetWriteDeadline(time.Now().Add(cn.lim.Idle))
	if err := writeEvent(cn.w, typ, data, payload); err != nil {
		return false
	}
	return cn.w.Flush() == nil
}

// fail answers a bad event with an error event and counts it.
func (cn *conn) fail(service, code, text string) bool {
	cn.bad++
	cn.s.observe(service, code, 0)
	return cn.send("error", map[string]any{"text": text, "code": code}, nil)
}

// writeEvent writes an event as the Python library does: the header with data_length and
// payload_length, the data, the payload.
func writeEvent(w io.Writer, typ string, data any, payload []byte) error {
	h := map[string]any{"type": typ, "version": ProtocolVersion}
	var db []byte
	if data != nil {
		var err error
		if db, err = json.Marshal(data); err != nil {
			return err
		}
		h["data_length"] = len(db)
	}
	if len(payload) > 0 {
		h["payload_length"] = len(payload)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(hb)+1+len(db))
	buf = append(append(append(buf, hb...), '\n'), db...)
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if len(payload) > 0 {
		_, err = w.Write(payload)
	}
	return err
}

func str(d map[string]any, k string) string {
	v, _ := d[k].(string)
	return v
}

// format reads an audio format (rate, width, channels) from event data.
func format(d map[string]any) (rate, width, channels int, ok bool) {
	num := func(k string) (int, bool) {
		f, ok := d[k].(float64)
		if !ok || f != float64(int(f)) {
			return 0, false
		}
		return int(f), true
	}
	rate, ok1 := num("rate")
	width, ok2 := num("width")
	channels, ok3 := num("channels")
	return rate, width, channels, ok1 && ok2 && ok3
}

// handle serves one event; false closes the connection.
func (cn *conn) handle(e Event) bool {
	switch e.Type {
	case "describe":
		start := time.Now()
		ok := cn.send("info", cn.s.Backend.Info(), nil)
		cn.s.observe("describe", "ok", time.Since(start))
		return ok
	case "ping":
		d := map[string]any{}
		if t := str(e.Data, "text"); t != "" && len(t) <= 256 {
			d["text"] = t
		}
		return cn.send("pong", d, nil)
	case "transcribe":
		cn.lang = str(e.Data, "language")
		cn.reset()
		return true
	case "audio-start":
		cn.reset()
		if why := cn.audioFormat(e.Data); why != "" {
			return cn.fail("asr", CodeBadAudio, why)
		}
		return true
	case "audio-chunk":
		return cn.chunk(e)
	case "audio-stop":
		return cn.transcribe()
	case "synthesize":
		return cn.synthesize(e.Data)
	case "transcript":
		return cn.converse(e.Data)
	default:
		if len(e.Type) > 64 || !utf8.ValidString(e.Type) {
			return cn.fail("bad", CodeUnknownEvent, "unknown event type")
		}
		return cn.fail("bad", CodeUnknownEvent, fmt.Sprintf("unknown event type %q (this server offers describe, transcribe/audio-start/audio-chunk/audio-stop, synthesize, transcript, ping)", e.Type))
	}
}

func (cn *conn) reset() {
	cn.audio, cn.started, cn.rate, cn.width, cn.chs = cn.audio[:0], false, 0, 0, 0
}

// audioFormat takes the format of the audio to come; only 16-bit PCM of 1 or 2 channels at 8
// to 48 kHz is read. It returns why not ("" when taken).
func (cn *conn) audioFormat(d map[string]any) string {
	rate, width, chs, ok := format(d)
	if !ok {
		return "audio needs rate, width and channels"
	}
	if rate < 8000 || rate > 48000 || width != 2 || chs < 1 || chs > 2 {
		return fmt.Sprintf("audio of %d Hz, width %d, %d channels: send 16-bit PCM (width 2), 1 or 2 channels, 8 to 48 kHz", rate, width, chs)
	}
	cn.rate, cn.width, cn.chs, cn.started = rate, width, chs, true
	return ""
}

func (cn *conn) chunk(e Event) bool {
	if !cn.started {
		// wyoming-faster-whisper takes a chunk's own format when no audio-start came first.
		if why := cn.audioFormat(e.Data); why != "" {
			return cn.fail("asr", CodeBadAudio, why)
		}
	} else if rate, width, chs, ok := format(e.Data); ok && (rate != cn.rate || width != cn.width || chs != cn.chs) {
		return cn.fail("asr", CodeBadAudio, "an audio chunk's format differs from audio-start's")
	}
	frame := cn.width * cn.chs
	if len(e.Payload)%frame != 0 {
		return cn.fail("asr", CodeBadAudio, fmt.Sprintf("an audio chunk of %d bytes is not whole frames of %d bytes", len(e.Payload), frame))
	}
	n := len(e.Payload) / frame
	if time.Duration(len(cn.audio)+n)*time.Second/time.Duration(cn.rate) > cn.lim.Audio {
		cn.reset()
		cn.fail("asr", CodeTooLarge, fmt.Sprintf("the audio is longer than %s", cn.lim.Audio))
		return false // the rest of the utterance would follow: close instead of reading it
	}
	for i := 0; i < len(e.Payload); i += frame {
		s := int(int16(binary.LittleEndian.Uint16(e.Payload[i:])))
		if cn.chs == 2 {
			s = (s + int(int16(binary.LittleEndian.Uint16(e.Payload[i+2:])))) / 2
		}
		cn.audio = append(cn.audio, int16(s))
	}
	return true
}

func (cn *conn) transcribe() bool {
	if len(cn.audio) == 0 {
		cn.reset()
		return cn.fail("asr", CodeNoAudio, "audio-stop without audio")
	}
	a := voice.Audio{Rate: cn.rate, Samples: append([]int16(nil), cn.audio...)}
	cn.reset()
	if a.Rate != voice.SampleRate {
		a = voice.Resample(a, voice.SampleRate)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(cn.ctx, cn.lim.Turn)
	text, lang, err := cn.s.Backend.Transcribe(ctx, a, cn.lang)
	cancel()
	if err != nil {
		return cn.refused("asr", err, start)
	}
	cn.s.observe("asr", "ok", time.Since(start))
	d := map[string]any{"text": text}
	if lang != "" {
		d["language"] = lang
	}
	return cn.send("transcript", d, nil)
}

// refused answers a backend's error: its Refusal code, else failed.
func (cn *conn) refused(service string, err error, start time.Time) bool {
	code, text := CodeFailed, err.Error()
	var r *Refusal
	if errors.As(err, &r) {
		code = r.Code
	} else {
		slog.Warn("wyoming: request failed", "service", service, "err", err)
	}
	cn.s.observe(service, code, time.Since(start))
	return cn.send("error", map[string]any{"text": text, "code": code}, nil)
}

// text reads a bounded, valid text from event data.
func (cn *conn) text(service string, d map[string]any) (string, bool) {
	t, ok := d["text"].(string)
	switch {
	case !ok:
		cn.fail(service, CodeBadEvent, "the event needs a text")
		return "", false
	case !utf8.ValidString(t):
		cn.fail(service, CodeBadEvent, "the text is not valid UTF-8")
		return "", false
	case utf8.RuneCountInString(t) > cn.lim.Text:
		cn.fail(service, CodeTooLarge, fmt.Sprintf("the text is longer than %d characters", cn.lim.Text))
		return "", false
	}
	return t, true
}

func (cn *conn) synthesize(d map[string]any) bool {
	text, ok := cn.text("tts", d)
	if !ok {
		return cn.bad < cn.lim.BadLimit
	}
	var lang, name string
	if v, ok := d["voice"].(map[string]any); ok {
		lang, name = str(v, "language"), str(v, "name")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(cn.ctx, cn.lim.Turn)
	a, err := cn.s.Backend.Synthesize(ctx, text, lang, name)
	cancel()
	if err == nil && (a.Rate < 8000 || a.Rate > 48000) {
		err = fmt.Errorf("the synthesiser made audio at %d Hz", a.Rate)
	}
	if err != nil {
		return cn.refused("tts", err, start)
	}
	cn.s.observe("tts", "ok", time.Since(start))
	f := map[string]any{"rate": a.Rate, "width": 2, "channels": 1}
	if !cn.send("audio-start", f, nil) {
		return false
	}
	const chunk = 1024 // samples per chunk, as wyoming-piper sends them
	for i := 0; i < len(a.Samples); i += chunk {
		if !cn.send("audio-chunk", f, pcm(a.Samples[i:min(i+chunk, len(a.Samples))])) {
			return false
		}
	}
	return cn.send("audio-stop", map[string]any{}, nil)
}

func (cn *conn) converse(d map[string]any) bool {
	text, ok := cn.text("handle", d)
	if !ok {
		return cn.bad < cn.lim.BadLimit
	}
	lang := str(d, "language")
	var conv string
	ctxData, _ := d["context"].(map[string]any)
	if c := str(ctxData, "conversation_id"); len(c) <= 128 {
		conv = c
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(cn.ctx, cn.lim.Turn)
	h, err := cn.s.Backend.Handle(ctx, text, lang, conv)
	cancel()
	if err != nil {
		return cn.refused("handle", err, start)
	}
	out := map[string]any{"text": h.Text}
	if conv != "" {
		out["context"] = map[string]any{"conversation_id": conv}
	}
	if !h.Handled {
		cn.s.observe("handle", "not_handled", time.Since(start))
		return cn.send("not-handled", out, nil)
	}
	cn.s.observe("handle", "ok", time.Since(start))
	return cn.send("handled", out, nil)
}
