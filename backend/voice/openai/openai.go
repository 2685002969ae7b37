// Package openai is a client of OpenAI-compatible audio endpoints, as whisper.cpp's server,
// LocalAI and speaches serve them: POST {base}/audio/transcriptions (multipart file) and
// POST {base}/audio/speech (JSON, response_format wav).
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"voicebot/backend/voice"
)

// Client talks to one server for some languages.
type Client struct {
	Base   string // e.g. http://127.0.0.1:8000/v1
	Langs  []string
	Model  string
	Voice  string
	APIKey string
	HTTP   *http.Client
}

func (c *Client) Name() string        { return "openai " + c.Base }
func (c *Client) Languages() []string { return c.Langs }

func (c *Client) do(req *http.Request) ([]byte, error) {
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		// otelhttp: a client span per request, and the turn's traceparent passed on to the
		// engine (both no-ops unless tracing is on)
		hc = &http.Client{Timeout: 60 * time.Second, Transport: otelhttp.NewTransport(http.DefaultTransport)}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Base, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %s: %s", c.Base, res.Status, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	return b, nil
}

// Transcribe posts the audio as a WAV file.
func (c *Client) Transcribe(ctx context.Context, a voice.Audio, lang string) (voice.Transcript, error) {
	start := time.Now()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "speech.wav")
	_, _ = fw.Write(voice.EncodeWAV(a))
	model := c.Model
	if model == "" {
		model = "whisper-1"
	}
	_ = mw.WriteField("model", model)
	_ = mw.WriteField("language", voice.EngineLanguage(c.Langs, lang))
	_ = mw.WriteField("response_format", "json")
	_ = mw.Close()
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(c.Base, "/")+"/audio/transcriptions", &body)
	if err != nil {
		return voice.Transcript{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	b, err := c.do(req)
	if err != nil {
		return voice.Transcript{}, err
	}
	var out struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return voice.Transcript{}, fmt.Errorf("%s: not a transcription: %w", c.Base, err)
	}
	return voice.Transcript{Text: strings.TrimSpace(out.Text), Lang: lang, Took: time.Since(start)}, nil
}

// Synthesize asks for WAV speech.
func (c *Client) Synthesize(ctx context.Context, text, lang, voiceName string) (voice.Audio, error) {
	if voiceName == "" {
		voiceName = c.Voice
	}
	model := c.Model
	if model == "" {
		model = "tts-1"
	}
	payload, _ := json.Marshal(map[string]any{"model": model, "input": text, "voice": voiceName, "response_format": "wav"})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(c.Base, "/")+"/audio/speech", bytes.NewReader(payload))
	if err != nil {
		return voice.Audio{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	b, err := c.do(req)
	if err != nil {
		return voice.Audio{}, err
	}
	a, err := voice.DecodeWAV(b)
	if err != nil {
		return voice.Audio{}, fmt.Errorf("%s: %w", c.Base, err)
	}
	return a, nil
}
