package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"voicebot/backend/content"
	"voicebot/backend/conversation"
)

// ContentEditor is what the teach routes need of the appliance (the consumer declares it): write
// a phrasing into the content in service, reload it and audit it.
type ContentEditor interface {
	Teach(ctx context.Context, t content.Teach, actor, remote string) (conversation.Taught, error)
}

// TeachRequest is the body of POST /v1/content/teach.
type TeachRequest struct {
	Text       string `json:"text"`
	Lang       string `json:"lang,omitempty"`
	Intent     string `json:"intent,omitempty"`
	Response   string `json:"response,omitempty"`
	OutOfScope bool   `json:"out_of_scope,omitempty"`
}

// teachStatus maps the stable codes of content.TeachError to HTTP statuses.
var teachStatus = map[string]int{
	content.CodeReadOnly:        http.StatusConflict,
	content.CodeInvalid:         http.StatusUnprocessableEntity,
	content.CodeUnknownIntent:   http.StatusNotFound,
	content.CodeIntentExists:    http.StatusConflict,
	content.CodePhrasingTaken:   http.StatusConflict,
	content.CodeInvalidTeach:    http.StatusBadRequest,
	content.CodeUnsupportedLang: http.StatusBadRequest,
}

func (s *Server) teach(w http.ResponseWriter, r *http.Request) {
	var req TeachRequest
	if !decodeJSON(w, r, MaxAdminBody, &req) {
		return
	}
	if s.Content == nil {
		writeError(w, http.StatusConflict, CodeContentReadOnly, "this server cannot edit its content")
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		writeError(w, http.StatusBadRequest, CodeEmptyText, "text is empty: give the phrasing to teach")
		return
	}
	out, err := s.Content.Teach(r.Context(), content.Teach{Text: req.Text, Lang: req.Lang, Intent: req.Intent, Response: req.Response, OutOfScope: req.OutOfScope}, keyFrom(r).ID, remoteAddr(r))
	var te *content.TeachError
	switch {
	case err == nil:
		status := http.StatusOK
		if out.Changed {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	case errors.As(err, &te):
		st, ok := teachStatus[te.Code]
		if !ok {
			st = http.StatusBadRequest
		}
		writeError(w, st, te.Code, te.Msg)
	default:
		internalError(w, "the content could not be written: "+err.Error(), err)
	}
}

// candidates answers GET /v1/content/candidates?text=...&lang=...&n=3: the intents the model
// finds likeliest for a phrasing, to choose where to teach it.
func (s *Server) candidates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, ok := queryInt(w, r, "n", 3, 1, 20)
	if !ok {
		return
	}
	text := q.Get("text")
	c, err := s.Engine.Candidates(text, q.Get("lang"), int(n))
	var le *conversation.LanguageError
	switch {
	case err == nil:
		if c == nil {
			c = []conversation.Candidate{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"text": strings.TrimSpace(text), "candidates": c})
	case errors.Is(err, conversation.ErrEmpty):
		writeError(w, http.StatusBadRequest, CodeEmptyText, "text is empty")
	case errors.Is(err, conversation.ErrTooLong):
		writeError(w, http.StatusBadRequest, CodeTextTooLong, err.Error())
	case errors.As(err, &le):
		writeError(w, http.StatusBadRequest, CodeUnsupportedLang, err.Error())
	case errors.Is(err, conversation.ErrNotReady):
		writeError(w, http.StatusServiceUnavailable, CodeNotReady, "no content is loaded yet")
	default:
		writeError(w, http.StatusBadRequest, CodeInvalidUTF8, err.Error())
	}
}
