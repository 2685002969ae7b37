package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryParams are the query parameters each route reads (the transcription route's form fields
// may come in the query too, as net/http's FormValue reads both). A route not listed takes none.
var queryParams = map[string][]string{
	"GET /v1/sessions":              {"limit", "before", "q", "lang"},
	"GET /v1/audit":                 {"limit", "before", "actor", "action"},
	"GET /v1/content/candidates":    {"text", "lang", "n"},
	"POST /v1/voice":                {"lang", "session_id"},
	"GET /v1/voice/stream":          {"lang", "session_id"},
	"POST /v1/audio/transcriptions": {"language", "response_format"},
}

// strictQuery refuses, with 400 invalid_parameter, a query string that does not parse (a bad
// %-escape, a semicolon), a parameter the route does not read, and one given twice: url.Values.Get
// would otherwise drop what does not parse and keep the first of two values without a word,
// and a misspelt parameter (?limt=5) would be ignored. It runs after authorization, so a request
// without a valid key learns nothing of the route's parameters.
func strictQuery(pattern string, next http.HandlerFunc) http.HandlerFunc {
	allowed := queryParams[pattern]
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			next(w, r)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidParameter, "the query string does not parse: "+err.Error())
			return
		}
		for name, vs := range q {
			if !slices.Contains(allowed, name) {
				takes := "takes no query parameters"
				if len(allowed) > 0 {
					takes = "takes only " + strings.Join(allowed, ", ")
				}
				writeError(w, http.StatusBadRequest, CodeInvalidParameter, "unknown query parameter "+strconv.Quote(name)+": this route "+takes)
				return
			}
			if len(vs) > 1 {
				writeError(w, http.StatusBadRequest, CodeInvalidParameter, "query parameter "+strconv.Quote(name)+" is given more than once")
				return
			}
		}
		next(w, r)
	}
}
