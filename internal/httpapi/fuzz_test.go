package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"alliance/internal/httpapi"
	"alliance/internal/testutil"
)

// FuzzDecodeReport sends arbitrary bodies and idempotency keys to POST
// /api/v1/reports, through the decoder and the app's validation to the
// database: whatever comes in, the API must not panic or fail with a 500,
// and must answer with JSON, the report or the error envelope. The seed
// corpus is in testdata/fuzz/FuzzDecodeReport.
func FuzzDecodeReport(f *testing.F) {
	in := newIntake(f, testutil.NewSQLite(f), testHosts, httpapi.Options{})
	f.Add([]byte(`{"urls":["https://www.example.com/"]}`), "", true)
	f.Fuzz(func(t *testing.T, body []byte, key string, withToken bool) {
		req := request{method: http.MethodPost, path: "/api/v1/reports", body: string(body), header: http.Header{}}
		if len(body) == 0 {
			req.header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.header.Set(httpapi.IdempotencyKeyHeader, key)
		}
		if withToken {
			req.auth = in.tokens["SE-HOTLINE"]
		}
		w := in.do(t, req)
		if w.Code >= 500 {
			t.Fatalf("status %d for body %q; answer %s", w.Code, body, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		if w.Code == http.StatusCreated {
			var s submitted
			if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil || s.ID <= 0 || len(s.Items) == 0 {
				t.Fatalf("201 with %s (%v)", w.Body, err)
			}
			return
		}
		var env envelope
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
			t.Fatalf("status %d without the envelope: %s (%v)", w.Code, w.Body, err)
		}
		if got := httpapi.StatusCode(env.Error.Code); got != w.Code {
			t.Fatalf("code %q with status %d", env.Error.Code, w.Code)
		}
	})
}
