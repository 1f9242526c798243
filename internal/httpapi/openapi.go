package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of the API. It is written by
// hand next to the handlers; TestOpenAPICoversRoutes keeps it and the routes
// table in step.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns a copy of the OpenAPI 3.1 document of the API (JSON).
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPI answers GET /api/v1/openapi.json.
func (h *api) openAPI(w http.ResponseWriter, r *http.Request) error {
	writeBody(w, http.StatusOK, openAPIDocument)
	return nil
}
