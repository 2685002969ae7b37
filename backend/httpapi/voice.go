package httpapi

// Voice routes: OpenAI-compatible transcription and speech, a whole voice turn (/v1/voice:
// WAV in, transcript + reply + a link to the spoken reply out), and the engines in use. Every
// route needs the voice scope; bad audio gets a 4xx with a code of its own.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"voicebot/backend/conversation"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/voice"
)

// Limits on voice input.
const (
	MaxAudioBody = 8 << 20 // 30 s of 48 kHz stereo 16-bit PCM is 5.8 MB
	AudioTTL     = 5 * time.Minute
	// AudioCacheBytes bounds the spoken replies kept for clients to fetch (up to 256 of them, for
	// AudioTTL): the oldest go first.
	AudioCacheBytes = 32 << 20
)

// Voice error codes.
const (
	CodeInvalidAudio     = "invalid_audio"      // not a WAV file, or a corrupt one
	CodeUnsupportedAudio = "unsupported_audio"  // WAV, but not 16/8-bit PCM mono/stereo 8-48 kHz
	CodeEmptyAudio       = "empty_audio"        // no samples
	CodeAudioTooLong     = "audio_too_long"     // longer than voice.MaxAudio
	CodeNoSpeech         = "no_speech"          // nothing was recognised
	CodeVoiceUnavailable = "voice_unavailable"  // no engine for the language
	CodeUnsupportedFmt   = "unsupported_format" // a response_format other than wav
)

// audioError maps an audio decoding error to the API.
func audioError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, voice.ErrNotWAV), errors.Is(err, voice.ErrCorruptWAV):
		writeError(w, http.StatusBadRequest, CodeInvalidAudio, err.Error())
	case errors.Is(err, voice.ErrWAVFormat):
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedAudio, err.Error())
	case errors.Is(err, voice.ErrNoAudio):
		writeError(w, http.StatusBadRequest, CodeEmptyAudio, err.Error())
	case errors.Is(err, voice.ErrTooLong):
		writeError(w, http.StatusRequestEntityTooLarge, CodeAudioTooLong, err.Error())
	case errors.Is(err, voice.ErrNoRecognizer), errors.Is(err, voice.ErrNoSynthesizer):
		writeError(w, http.StatusServiceUnavailable, CodeVoiceUnavailable, err.Error())
	default:
		internalError(w, "speech engine failed: "+err.Error(), err)
	}
}

// readAudio reads a body of at most MaxAudioBody bytes.
func readAudio(w http.ResponseWriter, r io.Reader) ([]byte, bool) {
	b, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the audio is larger than %d bytes", MaxAudioBody))
		} else {
			writeError(w, http.StatusBadRequest, CodeInvalidAudio, "could not read the audio")
		}
		return nil, false
	}
	return b, true
}

// voiceLang is the language asked for, else the content's default.
func (s *Server) voiceLang(w http.ResponseWriter, lang string) (string, bool) {
	snap := s.Engine.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotReady, "no content is loaded yet")
		return "", false
	}
	if lang == "" {
		return snap.Pack.Bot.DefaultLanguage, true
	}
	if served, ok := snap.Pack.Bot.MatchLanguage(lang); ok {
		return served, true // "en-US" is the content's "en"
	}
	writeError(w, http.StatusBadRequest, CodeUnsupportedLang, fmt.Sprintf("language %q is not one of the content's %v", lang, snap.Pack.Bot.Languages))
	return "", false
}

func (s *Server) transcribe(w http.ResponseWriter, r *http.Request, b []byte, lang string) (voice.Transcript, bool) {
	a, err := voice.DecodeWAV(b)
	if err != nil {
		audioError(w, err)
		return voice.Transcript{}, false
	}
	rec, err := s.Voice.Recognizer(lang)
	if err != nil {
		audioError(w, err)
		return voice.Transcript{}, false
	}
	ctx, sp := tracer().Start(r.Context(), "speech.transcribe", trace.WithAttributes(attribute.String("voicebot.engine", rec.Name()),
		attribute.String("voicebot.lang", lang), attribute.Float64("voicebot.audio_seconds", a.Duration().Seconds())))
	tr, err := rec.Transcribe(ctx, a, lang)
	endSpan(sp, err)
	if err != nil {
		audioError(w, err)
		return voice.Transcript{}, false
	}
	s.Metrics.NoteVoice("stt", tr.Took, a.Duration())
	return tr, true
}

// spokenOf is what a recogniser heard, as the engine weighs it (conversation/spoken.go): the
// built-in recogniser's grammar sentence as the expected reading, then its language model's
// readings, likeliest first; an external engine's transcript is both.
func spokenOf(tr voice.Transcript) *conversation.Spoken { return SpokenOf(tr) }

// SpokenOf is spokenOf for the appliance's other voice front ends (the Wyoming server).
func SpokenOf(tr voice.Transcript) *conversation.Spoken {
	first := tr.Free
	if first == "" {
		first = tr.Text
	}
	return &conversation.Spoken{Expected: tr.Text, Free: append([]string{first}, tr.Alternatives...), Forced: tr.Forced}
}

// transcriptions is OpenAI's POST /v1/audio/transcriptions: multipart file, optional language.
func (s *Server) transcriptions(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxAudioBody)
	if err := r.ParseMultipartForm(MaxAudioBody); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the audio is larger than %d bytes", MaxAudioBody))
			return
		}
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send multipart/form-data with the audio in the field file")
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, "the form has no file field")
		return
	}
	defer f.Close()
	b, ok := readAudio(w, f)
	if !ok {
		return
	}
	lang, ok := s.voiceLang(w, r.FormValue("language"))
	if !ok {
		return
	}
	tr, ok := s.transcribe(w, r, b, lang)
	if !ok {
		return
	}
	if tr.Text != "" {
		if h, err := s.Engine.Hear(*spokenOf(tr), lang); err == nil {
			tr.Text = h.Transcript
		}
	}
	if r.FormValue("response_format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, tr.Text)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"text": tr.Text, "language": lang})
}

// SpeechRequest is OpenAI's speech request (lang is ours: the language to speak, else detected).
type SpeechRequest struct {
	Model          string  `json:"model,omitempty"`
	Input          string  `json:"input"`
	Voice          string  `json:"voice,omitempty"`
	ResponseFormat string  `json:"response_format,omitempty"`
	Speed          float64 `json:"speed,omitempty"`
	Lang           string  `json:"lang,omitempty"`
}

func (s *Server) speech(w http.ResponseWriter, r *http.Request) {
	var req SpeechRequest
	if !decodeJSON(w, r, MaxChatBody, &req) {
		return
	}
	if f := req.ResponseFormat; f != "" && f != "wav" {
		writeError(w, http.StatusBadRequest, CodeUnsupportedFmt, "response_format must be wav (the only format made offline)")
		return
	}
	text := strings.TrimSpace(req.Input)
	if text == "" {
		writeError(w, http.StatusBadRequest, CodeEmptyText, "input is empty")
		return
	}
	if len([]rune(text)) > conversation.MaxUtteranceRunes {
		writeError(w, http.StatusBadRequest, CodeTextTooLong, fmt.Sprintf("input is longer than %d characters", conversation.MaxUtteranceRunes))
		return
	}
	lang := req.Lang
	if lang == "" {
		lang = s.Engine.DetectLanguage(text)
	}
	lang, ok := s.voiceLang(w, lang)
	if !ok {
		return
	}
	a, ok := s.speak(w, r, text, lang, req.Voice)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	_, _ = w.Write(voice.EncodeWAV(a))
}

func (s *Server) speak(w http.ResponseWriter, r *http.Request, text, lang, voiceName string) (voice.Audio, bool) {
	syn, err := s.Voice.Synthesizer(lang)
	if err != nil {
		audioError(w, err)
		return voice.Audio{}, false
	}
	start := time.Now()
	ctx, sp := tracer().Start(r.Context(), "speech.synthesize", trace.WithAttributes(attribute.String("voicebot.engine", syn.Name()), attribute.String("voicebot.lang", lang)))
	a, err := syn.Synthesize(ctx, text, lang, voiceName)
	endSpan(sp, err)
	if err != nil {
		audioError(w, err)
		return voice.Audio{}, false
	}
	s.Metrics.NoteVoice("tts", time.Since(start), a.Duration())
	return a, true
}

// VoiceReply is a voice turn's answer: Transcript is the reading answered (on a repair, the
// one offered, or the likeliest).
type VoiceReply struct {
	ChatReply
	Transcript string `json:"transcript"`
	AudioURL   string `json:"audio_url"`
}

// voiceTurn is POST /v1/voice?session_id=&lang=: a WAV body in, the transcript, the reply and
// where to fetch the spoken reply out.
func (s *Server) voiceTurn(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "audio/wav" && mt != "audio/x-wav" && mt != "audio/wave" {
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send the recording as Content-Type: audio/wav")
		return
	}
	b, ok := readAudio(w, http.MaxBytesReader(w, r.Body, MaxAudioBody))
	if !ok {
		return
	}
	q := r.URL.Query()
	lang, ok := s.voiceLang(w, q.Get("lang"))
	if !ok {
		return
	}
	tr, ok := s.transcribe(w, r, b, lang)
	if !ok {
		return
	}
	if tr.Text == "" {
		writeError(w, http.StatusUnprocessableEntity, CodeNoSpeech, "no speech was recognised; speak closer to the microphone or type the question")
		return
	}
	rep, ok := s.turn(w, r, conversation.Request{SessionID: q.Get("session_id"), Spoken: spokenOf(tr), Lang: lang, KeyID: keyFrom(r).ID})
	if !ok {
		return
	}
	transcript := tr.Text
	if rep.Heard != nil {
		transcript = rep.Heard.Transcript
	}
	a, ok := s.speak(w, r, rep.Text, rep.Lang, "")
	if !ok {
		return
	}
	id := audioID()
	s.audio.Add(id, voice.EncodeWAV(a))
	writeJSON(w, http.StatusOK, VoiceReply{
		ChatReply:  chatReply(rep),
		Transcript: transcript,
		AudioURL:   "/v1/voice/audio/" + id,
	})
}

func audioID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "au_" + hex.EncodeToString(b)
}

// voiceAudio serves a spoken reply kept for AudioTTL (unguessable id, voice scope).
func (s *Server) voiceAudio(w http.ResponseWriter, r *http.Request) {
	b, ok := s.audio.Get(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such audio (spoken replies are kept for 5 minutes)")
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, max-age=300")
	_, _ = w.Write(b)
}

// voiceEngines lists the engines, what is missing, and the words the recognizer cannot say.
func (s *Server) voiceEngines(w http.ResponseWriter, _ *http.Request) {
	engines, notes := s.Voice.Engines()
	if engines == nil {
		engines = []voice.EngineInfo{}
	}
	if notes == nil {
		notes = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"engines": engines, "notes": notes, "adapted": s.Voice.Report()})
}

func newAudioCache() *ttlcache.Cache[string, []byte] {
	return ttlcache.NewWeighed[string, []byte](256, AudioTTL, AudioCacheBytes, func(b []byte) int64 { return int64(len(b)) })
}

// endSpan ends a span, marked failed with the error when there is one.
func endSpan(sp trace.Span, err error) {
	if err != nil {
		sp.RecordError(err)
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
}
