package httpapi

// POST /v1/pair: a screen trades the one-time code of the dashboard's QR code for a chat+voice
// key of its own. The route is public (the screen has no key yet); the code is the credential:
// 128 random bits, single-use, 10 minutes. A refused code spends the address's allowance of
// failed authentications, like a bad key.

import (
	"context"
	"errors"
	"net/http"

	"voicebot/backend/keys"
)

// ErrInvalidPairing: the code is unknown, used or expired (they are not told apart).
var ErrInvalidPairing = errors.New("this pairing code is unknown, used or expired: make a new one on the dashboard's Keys page")

// Pairing trades a pairing code for a new key (the appliance).
type Pairing interface {
	Pair(ctx context.Context, code, remote string) (plain string, k *keys.Key, err error)
}

// PairRequest is the body of POST /v1/pair.
type PairRequest struct {
	Code string `json:"code"`
}

// PairReply is the new key, shown once.
type PairReply struct {
	Key    string   `json:"key"`
	KeyID  string   `json:"key_id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (s *Server) pair(w http.ResponseWriter, r *http.Request) {
	if s.Pairing == nil {
		writeError(w, http.StatusNotFound, CodeNotFound, "pairing is not offered here")
		return
	}
	if !s.AddressGate(w, r, false) {
		s.Metrics.NoteRateLimited("pair")
		writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many refused pairing codes from this address; retry after the Retry-After seconds")
		return
	}
	var req PairRequest
	if !decodeJSON(w, r, 1<<10, &req) {
		return
	}
	plain, k, err := s.Pairing.Pair(r.Context(), req.Code, remoteAddr(r))
	switch {
	case errors.Is(err, ErrInvalidPairing):
		s.AddressGate(w, r, true)
		s.Metrics.AuthFailures.WithLabelValues(CodeInvalidPairing).Inc()
		writeError(w, http.StatusBadRequest, CodeInvalidPairing, err.Error())
		return
	case err != nil:
		internalError(w, "the screen was not paired", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, PairReply{Key: plain, KeyID: k.ID, Name: k.Name, Scopes: k.Scopes})
}
