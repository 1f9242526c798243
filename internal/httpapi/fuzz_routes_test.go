package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"alliance/internal/httpapi"
	"alliance/internal/testutil"
)

// jsonRoutes are the API's routes that decode a JSON body, with a path an
// SE analyst may write to (or is refused on, which is also an answer).
var jsonRoutes = []struct{ method, path, seed string }{
	{http.MethodPost, "/api/v1/match", `{"hashes":[{"algorithm":"pdq","value":"` + strings.Repeat("0", 64) + `","threshold":31}]}`},
	{http.MethodPost, "/api/v1/banks", `{"name":"fuzz","description":"x","pdq_threshold":31}`},
	{http.MethodPut, "/api/v1/countries/SE/commitments", `{"goal":"4.2","baseline":"x","actions":[{"description":"d","owner":"SE-HOTLINE","due":"2099-01-01"}]}`},
	{http.MethodPost, "/api/v1/countries/SE/progress", `{"goal":"3.1","period":"2026","narrative":"n","values":{"awareness_actions":2},"evidence":["https://example.org/e"]}`},
	{http.MethodPut, "/api/v1/countries/SE/capabilities", `{"capabilities":[{"capability":"MNR-01","level":2,"note":"n"}]}`},
	{http.MethodPut, "/api/v1/notice-template", `{"subject":"s","body":"b"}`},
	{http.MethodPost, "/api/v1/series", `{"code":"fuzz-1","refs":"r"}`},
	{http.MethodPut, "/api/v1/targets", `{"targets":[],"note":"n"}`},
	{http.MethodPost, "/api/v1/items/1/assessments", `{"verdict":"baseline","content_type":"image"}`},
}

// FuzzJSONRoutes sends arbitrary bodies to every route that decodes JSON,
// through the decoder and the app's validation: whatever comes in (deep
// nesting, huge numbers, invalid UTF-8, NUL bytes, a second value), the
// API must not panic or fail with a 500, and must answer JSON. The seeds below
// and the corpus in testdata/fuzz/FuzzJSONRoutes start it.
func FuzzJSONRoutes(f *testing.F) {
	in := newIntake(f, testutil.NewSQLite(f), testHosts, httpapi.Options{})
	for i, r := range jsonRoutes {
		f.Add(uint8(i), []byte(r.seed))
	}
	for _, bad := range []string{
		strings.Repeat("[", 100000), `{"a":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat("}", 5001),
		"{\"goal\":\"4.2\x00\"}", "{\"name\":\"\xff\xfe\"}", `{"level":1e999}`, `{} {}`, `"\ud800"`,
	} {
		f.Add(uint8(len(bad)), []byte(bad))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := jsonRoutes[int(route)%len(jsonRoutes)]
		w := in.do(t, request{method: r.method, path: r.path, body: string(body), header: http.Header{"Content-Type": {"application/json"}},
			auth: in.tokens["SE-HOTLINE"]})
		// 503 is an answer (matching starts in the background); 500 is a bug.
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s: status %d for body %q; answer %s", r.method, r.path, w.Code, body, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) && w.Code != http.StatusNoContent {
			t.Fatalf("%s %s: status %d with a body that is not JSON: %q", r.method, r.path, w.Code, w.Body)
		}
	})
}
