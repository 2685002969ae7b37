package httpapi

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
)

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func pathID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !idRe.MatchString(id) {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, "the id in the path must be 1 to 64 letters, digits, '-' or '_'")
		return "", false
	}
	return id, true
}

func queryInt(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int64) (int64, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, name+" must be a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
		return 0, false
	}
	return n, true
}

// page reads the paging parameters limit and before (a cursor).
func page(w http.ResponseWriter, r *http.Request, defLimit, maxLimit int64) (limit, before int64, ok bool) {
	if limit, ok = queryInt(w, r, "limit", defLimit, 1, maxLimit); !ok {
		return 0, 0, false
	}
	before, ok = queryInt(w, r, "before", 0, 0, 1<<62)
	return limit, before, ok
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	limit, before, ok := page(w, r, 50, 200)
	if !ok {
		return
	}
	q := r.URL.Query().Get("q")
	if len(q) > 200 {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, "q is longer than 200 characters")
		return
	}
	list, err := s.History.List(r.Context(), history.ListQuery{Search: q, Lang: r.URL.Query().Get("lang"), Before: before, Limit: int(limit)})
	if err != nil {
		internalError(w, "could not list sessions", err)
		return
	}
	if list == nil {
		list = []history.Session{}
	}
	body := map[string]any{"sessions": list}
	if len(list) == int(limit) {
		body["next_before"] = list[len(list)-1].Updated.UnixMilli()
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) sessionMessages(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	msgs, err := s.History.Messages(r.Context(), id)
	if s.historyError(w, err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"session_id": id, "messages": msgs})
}

func (s *Server) exportSession(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	x, err := s.History.Export(r.Context(), id, keyFrom(r).ID, remoteAddr(r))
	if s.historyError(w, err) {
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="session-`+id+`.json"`)
	writeJSON(w, http.StatusOK, x)
}

func (s *Server) eraseSession(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if s.historyError(w, s.History.Erase(r.Context(), id, keyFrom(r).ID, remoteAddr(r))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) historyError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, history.ErrNoSession):
		writeError(w, http.StatusNotFound, CodeNotFound, "no such session")
	default:
		internalError(w, "could not read the session", err)
	}
	return true
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	list, err := s.Keys.List(r.Context())
	if err != nil {
		internalError(w, "could not list keys", err)
		return
	}
	if list == nil {
		list = []*keys.Key{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": list})
}

type createKeyRequest struct {
	Name    string   `json:"name"`
	Scopes  []string `json:"scopes"`
	Origins []string `json:"origins,omitempty"`
	Rate    string   `json:"rate,omitempty"`
	Expires string   `json:"expires,omitempty"` // a Go duration, e.g. 720h
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) {
	var req createKeyRequest
	if !decodeJSON(w, r, MaxAdminBody, &req) {
		return
	}
	spec := keys.Spec{Name: req.Name, Scopes: req.Scopes, Origins: req.Origins, Rate: req.Rate}
	if req.Expires != "" {
		d, err := time.ParseDuration(req.Expires)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, "expires must be a positive duration such as 720h")
			return
		}
		spec.Expires = d
	}
	plain, k, err := s.Keys.Create(r.Context(), spec, keyFrom(r).ID, remoteAddr(r))
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"key": plain, "info": k, "note": "the key is shown once: store it now"})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	err := s.Keys.Revoke(r.Context(), id, keyFrom(r).ID, remoteAddr(r))
	switch {
	case errors.Is(err, keys.ErrNoKey):
		writeError(w, http.StatusNotFound, CodeNotFound, "no such key")
	case errors.Is(err, keys.ErrRevoked):
		writeError(w, http.StatusConflict, CodeRevokedKey, "the key is already revoked")
	case err != nil:
		internalError(w, "could not revoke the key", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	plain, k, err := s.Keys.Rotate(r.Context(), id, keyFrom(r).ID, remoteAddr(r))
	switch {
	case errors.Is(err, keys.ErrNoKey):
		writeError(w, http.StatusNotFound, CodeNotFound, "no such key")
	case errors.Is(err, keys.ErrRevoked), errors.Is(err, keys.ErrExpired):
		writeError(w, http.StatusConflict, CodeRevokedKey, "a revoked or expired key cannot be rotated: create a new one")
	case err != nil:
		internalError(w, "could not rotate the key", err)
	default:
		writeJSON(w, http.StatusCreated, map[string]any{"key": plain, "info": k, "note": "the old key no longer works; the new key is shown once"})
	}
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	limit, before, ok := page(w, r, 100, 500)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Before: before, Limit: int(limit)}
	if len(f.Actor) > 64 || len(f.Action) > 32 {
		writeError(w, http.StatusBadRequest, CodeInvalidParameter, "actor or action is too long")
		return
	}
	entries, err := s.DB.AuditSearch(r.Context(), f)
	if err != nil {
		internalError(w, "could not read the audit log", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}
