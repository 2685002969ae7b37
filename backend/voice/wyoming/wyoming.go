// Package wyoming speaks the Wyoming protocol, the one Home Assistant's speech services speak
// (wyoming-faster-whisper, wyoming-piper), both ways: Client uses such a service as one of
// VoiceBot's engines, Server (server.go) offers VoiceBot's own speech and conversation to Home
// Assistant. Over TCP, each event is a JSON header line
// {"type", "data"?, "data_length"?, "payload_length"?} followed by data_length bytes of JSON
// data and payload_length bytes of payload. The client: speech to text sends transcribe, audio-start,
// audio-chunk (PCM payloads) and audio-stop and reads transcript; text to speech sends
// synthesize and reads audio-start, audio-chunk and audio-stop.
package wyoming

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	tracing "voicebot/backend/internal/tracer"
	"voicebot/backend/voice"
)

// Event is one protocol event.
type Event struct {
	Type    string
	Data    map[string]any
	Payload []byte
}

type header struct {
	Type          string         `json:"type"`
	Data          map[string]any `json:"data,omitempty"`
	DataLength    int            `json:"data_length,omitempty"`
	PayloadLength int            `json:"payload_length,omitempty"`
	Version       string         `json:"version,omitempty"`
}

// Limits on what a server may send.
const (
	maxHeader  = 64 << 10
	maxData    = 1 << 20
	maxPayload = 16 << 20
)

// Write sends an event (data inline in the header).
func Write(w io.Writer, e Event) error {
	h := header{Type: e.Type, Data: e.Data, PayloadLength: len(e.Payload), Version: "1.5.0"}
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return err
	}
	if len(e.Payload) > 0 {
		_, err = w.Write(e.Payload)
	}
	return err
}

// Read reads one event within the limits on what a server may send.
func Read(r *bufio.Reader) (Event, error) { return ReadLimited(r, maxData, maxPayload) }

// ErrHeaderTooLong is a header line longer than the reader's buffer.
var ErrHeaderTooLong = errors.New("wyoming: header line too long")

// ErrTooLarge is an event whose data or payload is over the reader's limits (or negative).
var ErrTooLarge = errors.New("wyoming: event too large")

// ReadLimited reads one event whose data and payload are at most maxData and maxPayload bytes;
// the header line is bounded by r's buffer size.
func ReadLimited(r *bufio.Reader, maxData, maxPayload int) (Event, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return Event{}, ErrHeaderTooLong
		}
		return Event{}, err
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return Event{}, fmt.Errorf("wyoming: bad header: %w", err)
	}
	if h.DataLength < 0 || h.DataLength > maxData || h.PayloadLength < 0 || h.PayloadLength > maxPayload {
		return Event{}, ErrTooLarge
	}
	e := Event{Type: h.Type, Data: h.Data}
	if h.DataLength > 0 {
		b := make([]byte, h.DataLength)
		if _, err := io.ReadFull(r, b); err != nil {
			return Event{}, err
		}
		extra := map[string]any{}
		if err := json.Unmarshal(b, &extra); err != nil {
			return Event{}, fmt.Errorf("wyoming: bad data: %w", err)
		}
		if e.Data == nil {
			e.Data = map[string]any{}
		}
		for k, v := range extra {
			e.Data[k] = v
		}
	}
	if h.PayloadLength > 0 {
		e.Payload = make([]byte, h.PayloadLength)
		if _, err := io.ReadFull(r, e.Payload); err != nil {
			return Event{}, err
		}
	}
	return e, nil
}

// Client talks to one Wyoming server for some languages.
type Client struct {
	Addr    string   // host:port
	Langs   []string // languages it is used for
	Voice   string   // voice name for synthesize (optional)
	Timeout time.Duration
}

func (c *Client) Name() string        { return "wyoming " + c.Addr }
func (c *Client) Languages() []string { return c.Langs }

// span starts a client span for one exchange with the server (a no-op unless tracing is on; the
// Wyoming protocol has no field to carry a traceparent to the server).
func (c *Client) span(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, sp := tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attribute.String("server.address", c.Addr)))
	return ctx, func(err error) {
		if err != nil {
			sp.SetStatus(codes.Error, err.Error())
		}
		sp.End()
	}
}

// It follows the global provider in force (backend/internal/tracer says why).
var spans = tracing.New("voicebot/backend/voice/wyoming")

func tracer() trace.Tracer { return spans.For(otel.GetTracerProvider()) }

func (c *Client) dial(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("wyoming %s: %w", c.Addr, err)
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	return conn, bufio.NewReaderSize(conn, maxHeader), nil
}

func pcm(samples []int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// Transcribe sends the audio and reads the transcript.
func (c *Client) Transcribe(ctx context.Context, a voice.Audio, lang string) (tr voice.Transcript, err error) {
	ctx, end := c.span(ctx, "wyoming transcribe")
	defer func() { end(err) }()
	start := time.Now()
	conn, r, err := c.dial(ctx)
	if err != nil {
		return voice.Transcript{}, err
	}
	defer conn.Close()
	format := map[string]any{"rate": a.Rate, "width": 2, "channels": 1}
	w := bufio.NewWriter(conn)
	events := []Event{{Type: "transcribe", Data: map[string]any{"language": voice.EngineLanguage(c.Langs, lang)}}, {Type: "audio-start", Data: format}}
	const chunk = 1024
	for i := 0; i < len(a.Samples); i += chunk {
		events = append(events, Event{Type: "audio-chunk", Data: format, Payload: pcm(a.Samples[i:min(i+chunk, len(a.Samples))])})
	}
	events = append(events, Event{Type: "audio-stop", Data: map[string]any{}})
	for _, e := range events {
		if err := Write(w, e); err != nil {
			return voice.Transcript{}, err
		}
	}
	if err := w.Flush(); err != nil {
		return voice.Transcript{}, err
	}
	for {
		e, err := Read(r)
		if err != nil {
			return voice.Transcript{}, fmt.Errorf("wyoming %s: %w", c.Addr, err)
		}
		if e.Type == "error" {
			return voice.Transcript{}, fmt.Errorf("wyoming %s: %v", c.Addr, e.Data["text"])
		}
		if e.Type == "transcript" {
			text, _ := e.Data["text"].(string)
			return voice.Transcript{Text: text, Lang: lang, Took: time.Since(start)}, nil
		}
	}
}

// Synthesize asks for speech and collects the audio chunks.
func (c *Client) Synthesize(ctx context.Context, text, lang, voiceName string) (_ voice.Audio, err error) {
	ctx, end := c.span(ctx, "wyoming synthesize")
	defer func() { end(err) }()
	conn, r, err := c.dial(ctx)
	if err != nil {
		return voice.Audio{}, err
	}
	defer conn.Close()
	v := map[string]any{"language": voice.EngineLanguage(c.Langs, lang)}
	if voiceName == "" {
		voiceName = c.Voice
	}
	if voiceName != "" {
		v["name"] = voiceName
	}
	if err := Write(conn, Event{Type: "synthesize", Data: map[string]any{"text": text, "voice": v}}); err != nil {
		return voice.Audio{}, err
	}
	var out voice.Audio
	width, channels := 2, 1
	for {
		e, err := Read(r)
		if err != nil {
			return voice.Audio{}, fmt.Errorf("wyoming %s: %w", c.Addr, err)
		}
		switch e.Type {
		case "error":
			return voice.Audio{}, fmt.Errorf("wyoming %s: %v", c.Addr, e.Data["text"])
		case "audio-start", "audio-chunk":
			if rate, ok := e.Data["rate"].(float64); ok {
				if rate < 8000 || rate > 48000 { // what the rest of the appliance plays and encodes
					return voice.Audio{}, fmt.Errorf("wyoming %s: audio at %v Hz (8 to 48 kHz expected)", c.Addr, rate)
				}
				out.Rate = int(rate)
			}
			if w, ok := e.Data["width"].(float64); ok {
				width = int(w)
			}
			if ch, ok := e.Data["channels"].(float64); ok {
				channels = int(ch)
			}
			if width != 2 || channels < 1 {
				return voice.Audio{}, fmt.Errorf("wyoming %s: audio of width %d and %d channels (16-bit expected)", c.Addr, width, channels)
			}
			for i := 0; i+2*channels <= len(e.Payload); i += 2 * channels {
				out.Samples = append(out.Samples, int16(binary.LittleEndian.Uint16(e.Payload[i:])))
			}
		case "audio-stop":
			if out.Rate == 0 {
				return voice.Audio{}, fmt.Errorf("wyoming %s: audio without a rate", c.Addr)
			}
			return out, nil
		}
	}
}
