package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/store"
)

// decodeJSON reads a JSON body of at most limit bytes into v, refusing wrong content types,
// oversize bodies, invalid UTF-8, duplicate keys, unknown fields and trailing data, each with its
// own code (strictJSON).
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send the body as Content-Type: application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, CodeInvalidJSON, "could not read the body")
		return false
	}
	if !utf8.Valid(body) {
		writeError(w, http.StatusBadRequest, CodeInvalidUTF8, "the body is not valid UTF-8")
		return false
	}
	if code, msg := strictJSON(body, v); code != "" {
		writeError(w, http.StatusBadRequest, code, msg)
		return false
	}
	return true
}

// strictJSON decodes exactly one JSON value into v, strictly, with the encoding/json/v2 rules
// (github.com/go-json-experiment/json, its prototype): a key given twice in an object is refused
// (CodeDuplicateKey), where encoding/json silently keeps the last; a key that is not exactly
// one of v's fields is refused (CodeInvalidJSON), where encoding/json ignored unknown keys
// only with DisallowUnknownFields and matched "TEXT" to text; so are wrong types and data after
// the value. It returns "" when v was decoded, else the code and a message naming the key.
func strictJSON(b []byte, v any) (code, msg string) {
	err := jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true))
	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, jsontext.ErrDuplicateName):
		return CodeDuplicateKey, "invalid JSON: " + err.Error() + " (give each key once)"
	case errors.Is(err, jsonv2.ErrUnknownName):
		return CodeInvalidJSON, "invalid JSON: " + err.Error() + " (keys are case-sensitive; see docs/API.md for the fields)"
	default:
		return CodeInvalidJSON, "invalid JSON: " + err.Error()
	}
}

// ChatRequest is the body of POST /v1/chat.
type ChatRequest struct {
	SessionID string `json:"session_id,omitempty"`
	Text      string `json:"text"`
	Lang      string `json:"lang,omitempty"`
}

// ChatReply is the answer of POST /v1/chat.
type ChatReply struct {
	SessionID string    `json:"session_id"`
	TurnID    string    `json:"turn_id"`
	Reply     ReplyBody `json:"reply"`
}

// chatReply is a turn's answer as the API gives it (chat, voice turns and the voice stream).
func chatReply(rep conversation.Reply) ChatReply {
	return ChatReply{SessionID: rep.SessionID, TurnID: fmt.Sprintf("%s.%d", rep.SessionID, rep.Turn), Reply: ReplyBody{
		Text: rep.Text, Lang: rep.Lang, Kind: rep.Kind, Intent: rep.Intent, Confidence: rep.Confidence, Slots: rep.Slots, Sources: rep.Sources,
		Offer: rep.Offer, Heard: rep.Heard,
	}}
}

// ReplyBody is the bot's reply inside ChatReply.
type ReplyBody struct {
	Text       string                `json:"text"`
	Lang       string                `json:"lang"`
	Kind       string                `json:"kind"`
	Intent     string                `json:"intent,omitempty"`
	Confidence float64               `json:"confidence,omitempty"`
	Slots      map[string]string     `json:"slots,omitempty"`
	Sources    []conversation.Source `json:"sources,omitempty"`
	// Offer is, on a repair (kind repair: a spoken question not heard well enough), the reading
	// the visitor can confirm with a tap; Heard is a voice turn's transcript, confidence and
	// alternatives.
	Offer string              `json:"offer,omitempty"`
	Heard *conversation.Heard `json:"heard,omitempty"`
}

// apiError is a refusal before it is written: status, stable code, message.
type apiError struct {
	status        int
	code, message string
}

// turn runs one conversation turn, writing the refusal when there is one.
func (s *Server) turn(w http.ResponseWriter, r *http.Request, req conversation.Request) (conversation.Reply, bool) {
	rep, e := s.runTurn(r.Context(), req)
	if e != nil {
		switch e.code {
		case CodePaused:
			w.Header().Set("Retry-After", "60")
		case CodeShuttingDown:
			w.Header().Set("Retry-After", "5")
		case CodeStorageFull:
			w.Header().Set("Retry-After", "30")
		}
		writeError(w, e.status, e.code, e.message)
		return conversation.Reply{}, false
	}
	return rep, true
}

// runTurn runs one conversation turn, mapping engine errors to API errors.
func (s *Server) runTurn(ctx context.Context, req conversation.Request) (conversation.Reply, *apiError) {
	if s.Paused() {
		return conversation.Reply{}, &apiError{http.StatusServiceUnavailable, CodePaused, "the assistant is paused by the operator; please ask at the desk"}
	}
	if !s.beginTurn() {
		return conversation.Reply{}, &apiError{http.StatusServiceUnavailable, CodeShuttingDown, "the appliance is shutting down; try again in a moment"}
	}
	defer s.endTurn()
	start := time.Now()
	rep, err := s.Engine.Reply(ctx, req)
	var le *conversation.LanguageError
	switch {
	case err == nil:
		took := time.Since(start)
		s.Metrics.Turns.WithLabelValues(rep.Kind, rep.Lang).Inc()
		s.Metrics.TurnSeconds.Observe(took.Seconds())
		s.Metrics.TurnConfidence.WithLabelValues(rep.Kind).Observe(rep.Confidence)
		s.Metrics.Rollup.Add(start, rep.Kind, rep.Intent, req.KeyID, took)
		if rep.Via == "cache" {
			s.Metrics.NoteCacheHit()
		}
		return rep, nil
	case errors.Is(err, conversation.ErrEmpty):
		return rep, &apiError{http.StatusBadRequest, CodeEmptyText, "text is empty"}
	case errors.Is(err, conversation.ErrTooLong):
		return rep, &apiError{http.StatusBadRequest, CodeTextTooLong, err.Error()}
	case errors.Is(err, conversation.ErrSessionID):
		return rep, &apiError{http.StatusBadRequest, CodeInvalidSessionID, err.Error()}
	case errors.As(err, &le):
		return rep, &apiError{http.StatusBadRequest, CodeUnsupportedLang, err.Error()}
	case errors.Is(err, conversation.ErrNotReady):
		return rep, &apiError{http.StatusServiceUnavailable, CodeNotReady, "no content is loaded yet"}
	case errors.Is(err, store.ErrFull):
		slog.Error("turn refused: the data volume is full", "session", req.SessionID, "err", err)
		return rep, &apiError{http.StatusServiceUnavailable, CodeStorageFull, "the appliance's storage is full: this turn was not saved; try again once the operator has freed disk space"}
	case errors.Is(err, history.ErrSessionErased):
		return rep, &apiError{http.StatusConflict, CodeSessionErased, "the conversation was erased while this turn was answered; start a new one"}
	case strings.Contains(err.Error(), "UTF-8"):
		return rep, &apiError{http.StatusBadRequest, CodeInvalidUTF8, err.Error()}
	default:
		slog.Error("turn failed", "session", req.SessionID, "key", req.KeyID, "err", err)
		return rep, &apiError{http.StatusInternalServerError, CodeInternal, "the turn could not be saved"}
	}
}

func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req ChatRequest
	if !decodeJSON(w, r, MaxChatBody, &req) {
		return
	}
	rep, ok := s.turn(w, r, conversation.Request{SessionID: req.SessionID, Text: req.Text, Lang: req.Lang, KeyID: keyFrom(r).ID})
	if !ok {
		return
	}
	out := chatReply(rep)
	if !wantsStream(r) {
		writeJSON(w, http.StatusOK, out)
		return
	}
	// Server-sent events: the turn's ids first, the text in pieces as it would be spoken, then
	// the whole reply. The turn is already saved when the first event is sent.
	sse := newSSE(w)
	sse.event("turn", map[string]string{"session_id": out.SessionID, "turn_id": out.TurnID})
	for _, piece := range pieces(rep.Text) {
		sse.event("delta", map[string]string{"text": piece})
	}
	sse.event("done", out)
}

// pieces cuts a reply into sentence-sized pieces for streaming.
func pieces(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if (r == '.' || r == '!' || r == '?' || r == ':') && i+1 < len(text) && text[i+1] == ' ' {
			out = append(out, text[start:i+2])
			start = i + 2
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

type sse struct {
	w http.ResponseWriter
	f http.Flusher
}

func newSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	return &sse{w: w, f: f}
}

func (s *sse) event(name string, v any) {
	b, _ := json.Marshal(v)
	if name != "" {
		fmt.Fprintf(s.w, "event: %s\n", name)
	}
	fmt.Fprintf(s.w, "data: %s\n\n", b)
	if s.f != nil {
		s.f.Flush()
	}
}

func (s *sse) raw(data string) {
	fmt.Fprintf(s.w, "data: %s\n\n", data)
	if s.f != nil {
		s.f.Flush()
	}
}

// OpenAI-compatible chat completions: the same turn, in the form OpenAI clients send and read,
// so that existing clients can talk to the kiosk bot (model "voicebot").

// SessionHeader carries the session of an OpenAI-compatible turn: set on every answer, and
// echoed by a client that wants its next turn in the same session.
const SessionHeader = "VoiceBot-Session"

type oaMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type oaRequest struct {
	Model       string      `json:"model"`
	Messages    []oaMessage `json:"messages"`
	Stream      bool        `json:"stream,omitempty"`
	User        string      `json:"user,omitempty"`
	Temperature *float64    `json:"temperature,omitempty"`
	MaxTokens   *int        `json:"max_tokens,omitempty"`
	TopP        *float64    `json:"top_p,omitempty"`
}

func (s *Server) chatCompletions(w http.ResponseWriter, r *http.Request) {
	var req oaRequest
	if !decodeJSON(w, r, MaxChatBody, &req) {
		return
	}
	if req.Model != "" && req.Model != "voicebot" {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, `model must be "voicebot"`)
		return
	}
	last := -1
	for i, m := range req.Messages {
		if m.Role == "user" {
			last = i
		}
	}
	if last < 0 {
		writeError(w, http.StatusBadRequest, CodeEmptyText, "messages must hold at least one user message")
		return
	}
	// Which session answers (docs/API.md, OpenAI-compatible): the VoiceBot-Session header, an
	// id this route returned, continues that session; else `user`, the client's name for its
	// visitor, names a session of its own per key and user; else the turn starts a new session,
	// with the earlier user messages the client resent answered into its memory first (saved:
	// only this turn). Nothing a visitor says decides another visitor's session.
	turn := conversation.Request{Text: req.Messages[last].Content, KeyID: keyFrom(r).ID}
	switch {
	case r.Header.Get(SessionHeader) != "":
		turn.SessionID = r.Header.Get(SessionHeader)
	case req.User != "":
		if len(req.User) > 256 {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, "user must be at most 256 bytes")
			return
		}
		h := sha256.Sum256([]byte(keyFrom(r).ID + "\x00user\x00" + req.User))
		turn.SessionID = "oa_" + hex.EncodeToString(h[:12])
	default:
		for _, m := range req.Messages[:last] {
			if m.Role == "user" {
				turn.Prior = append(turn.Prior, m.Content)
			}
		}
	}
	rep, ok := s.turn(w, r, turn)
	if !ok {
		return
	}
	w.Header().Set(SessionHeader, rep.SessionID)
	id := fmt.Sprintf("chatcmpl-%s-%d", rep.SessionID, rep.Turn)
	created := time.Now().Unix()
	if !req.Stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": "voicebot", "session_id": rep.SessionID,
			"choices": []map[string]any{{"index": 0, "message": oaMessage{Role: "assistant", Content: rep.Text}, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": words(req.Messages[last].Content), "completion_tokens": words(rep.Text), "total_tokens": words(req.Messages[last].Content) + words(rep.Text)},
		})
		return
	}
	sse := newSSE(w)
	chunk := func(delta map[string]string, finish any) {
		sse.event("", map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": "voicebot",
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}})
	}
	chunk(map[string]string{"role": "assistant"}, nil)
	for _, p := range pieces(rep.Text) {
		chunk(map[string]string{"content": p}, nil)
	}
	chunk(map[string]string{}, "stop")
	sse.raw("[DONE]")
}

func words(s string) int { return len(strings.Fields(s)) }

// IdleSeconds is how long the visitor screen waits in silence before it starts a new
// conversation for the next visitor.
const IdleSeconds = 120

// botInfo tells a visitor screen who the bot is: name, languages, greetings and suggestions.
func (s *Server) botInfo(w http.ResponseWriter, _ *http.Request) {
	snap := s.Engine.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotReady, "no content is loaded yet")
		return
	}
	b := snap.Pack.Bot
	suggestions := b.Suggestions
	if suggestions == nil {
		suggestions = map[string][]string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": b.Name, "languages": b.Languages, "default_language": b.DefaultLanguage,
		"greeting": b.Greeting, "suggestions": suggestions, "idle_seconds": IdleSeconds,
		"paused": s.Paused(),
	})
}

// RunTurn runs one conversation turn for a caller other than the HTTP routes (the Wyoming
// server): the same refusals (paused, shutting down, not ready, ...), metrics and history as a
// chat turn. On a refusal it returns its stable code and message.
func (s *Server) RunTurn(ctx context.Context, req conversation.Request) (rep conversation.Reply, code, message string) {
	rep, e := s.runTurn(ctx, req)
	if e != nil {
		return rep, e.code, e.message
	}
	return rep, "", ""
}
