package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// Stable error codes of the API. Clients match on these; the messages may change.
const (
	CodeUnauthorized       = "unauthorized"         // no key
	CodeMalformedKey       = "malformed_key"        // not a VoiceBot key
	CodeBadChecksum        = "bad_key_checksum"     // mistyped or cut short
	CodeUnknownKey         = "unknown_key"          // well formed, not issued here
	CodeRevokedKey         = "revoked_key"          // revoked or rotated
	CodeExpiredKey         = "expired_key"          // past its expiry
	CodeForbiddenScope     = "forbidden_scope"      // key lacks the scope
	CodeForbiddenOrigin    = "forbidden_origin"     // browser origin not allowed for the key
	CodeRateLimited        = "rate_limited"         // 429
	CodeTooManyConnections = "too_many_connections" // 429: the address holds too many connections open
	CodeBodyTooLarge       = "body_too_large"       // 413
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeInvalidJSON        = "invalid_json"
	CodeDuplicateKey       = "duplicate_key"      // 400: a JSON object gives a key twice
	CodeWebSocketRequired  = "websocket_required" // 426 (400: a broken handshake): /v1/voice/stream is a WebSocket
	CodeInvalidUTF8        = "invalid_utf8"
	CodeEmptyText          = "empty_text"
	CodeTextTooLong        = "text_too_long"
	CodeUnsupportedLang    = "unsupported_language"
	CodeInvalidSessionID   = "invalid_session_id"
	CodeSessionErased      = "session_erased" // 409: the session was erased while its turn was answered
	CodeInvalidParameter   = "invalid_parameter"
	CodeNotFound           = "not_found"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeNotReady           = "not_ready"
	CodePaused             = "paused"        // the operator paused visitor conversation
	CodeShuttingDown       = "shutting_down" // 503: the appliance is stopping; no new turns
	CodeStorageFull        = "storage_full"  // 503: the data volume is full; turns are refused until space is freed
	CodeInternal           = "internal"
	CodeHTTPSRequired      = "https_required"       // 403: plain HTTP from another machine; use https (docs/OPERATIONS.md)
	CodeInvalidPairing     = "invalid_pairing_code" // 400: unknown, used or expired pairing code
	CodeUnsupportedStream  = "not_acceptable"
	// teaching the content (POST /v1/content/teach; the codes of content.TeachError)
	CodeContentReadOnly = "content_read_only" // the built-in demo or a folder that cannot be written: 409
	CodeContentInvalid  = "content_invalid"   // the content has errors, or would with the change: 422
	CodeUnknownIntent   = "unknown_intent"    // 404
	CodeIntentExists    = "intent_exists"     // 409
	CodePhrasingTaken   = "phrasing_taken"    // another intent or out_of_scope has it: 409
)

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// internalError logs a failure the client sees as 500 internal (what failed and why), and
// writes the error.
func internalError(w http.ResponseWriter, message string, err error) {
	slog.Error("500: "+message, "err", err)
	writeError(w, http.StatusInternalServerError, CodeInternal, message)
}

// WriteError writes an error as the API does, for the appliance's own routes.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeError(w, status, code, message)
}

// writeError writes {"error": {"code", "message"}} with the status.
func writeError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
