package httpapi

import (
	_ "embed"
	"net/http"
)

// openapiDoc is the OpenAPI 3.1 document of this API, kept by hand next to the handlers; a test
// checks that it names every route the server registers.
//
//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the document.
func OpenAPI() []byte { return openapiDoc }

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(openapiDoc)
}
