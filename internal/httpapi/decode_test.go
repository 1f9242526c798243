package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/httpapi"
)

func TestDecodeJSON(t *testing.T) {
	type input struct {
		Name string   `json:"name"`
		Age  int      `json:"age"`
		Tags []string `json:"tags"`
		Sub  struct {
			On bool `json:"on"`
		} `json:"sub"`
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		limit       int64
		wantStatus  int
		wantCode    string
		wantField   string
	}{
		{"ok", "application/json", `{"name":"Ann","age":41,"tags":["a"],"sub":{"on":true}}`, 0, 200, "", ""},
		{"ok with charset and white space", "application/json; charset=utf-8", " {\"name\":\"Ann\"} \n", 0, 200, "", ""},
		{"unknown field", "application/json", `{"name":"Ann","colour":"red"}`, 0, 400, alliance.EINVALID, "colour"},
		{"unknown nested field", "application/json", `{"sub":{"off":true}}`, 0, 400, alliance.EINVALID, "off"},
		{"wrong type", "application/json", `{"age":"old"}`, 0, 400, alliance.EINVALID, "age"},
		{"wrong nested type", "application/json", `{"sub":{"on":1}}`, 0, 400, alliance.EINVALID, "sub.on"},
		{"not an object", "application/json", `[1,2]`, 0, 400, alliance.EINVALID, ""},
		{"bad JSON", "application/json", `{"name":}`, 0, 400, alliance.EINVALID, ""},
		{"truncated JSON", "application/json", `{"name":"Ann"`, 0, 400, alliance.EINVALID, ""},
		{"empty body", "application/json", ``, 0, 400, alliance.EINVALID, ""},
		{"two values", "application/json", `{"name":"a"}{"name":"b"}`, 0, 400, alliance.EINVALID, ""},
		{"trailing garbage", "application/json", `{"name":"a"} x`, 0, 400, alliance.EINVALID, ""},
		{"no content type", "", `{"name":"Ann"}`, 0, 400, alliance.EINVALID, ""},
		{"form content type", "application/x-www-form-urlencoded", `name=Ann`, 0, 400, alliance.EINVALID, ""},
		{"too large for the limit", "application/json", `{"name":"` + strings.Repeat("a", 100) + `"}`, 64, 413, alliance.ETOOLARGE, ""},
		{"too large by default", "application/json", `{"name":"` + strings.Repeat("a", httpapi.DefaultMaxBodyBytes) + `"}`, 0, 413, alliance.ETOOLARGE, ""},
		{"large trailing data", "application/json", `{"name":"a"}` + strings.Repeat(" ", 100), 64, 413, alliance.ETOOLARGE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var in input
				if err := httpapi.DecodeJSON(w, r, &in, tt.limit); err != nil {
					httpapi.WriteError(w, err)
					return
				}
				_ = httpapi.WriteJSON(w, http.StatusOK, in)
			})
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/api/v1/test", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantCode == "" {
				return
			}
			var env envelope
			decodeBody(t, w, &env)
			if env.Error.Code != tt.wantCode || env.Error.Field != tt.wantField || env.Error.Message == "" {
				t.Errorf("error = %+v, want code %q field %q", env.Error, tt.wantCode, tt.wantField)
			}
		})
	}
}

// TestDecodeJSONContentLength checks that a declared length over the limit is
// refused before the body is read.
func TestDecodeJSONContentLength(t *testing.T) {
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/api/v1/test", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = 2 << 20
	var v struct{}
	err := httpapi.DecodeJSON(httptest.NewRecorder(), r, &v, 0)
	if code := alliance.ErrorCode(err); code != alliance.ETOOLARGE {
		t.Fatalf("code = %q (%v), want %q", code, err, alliance.ETOOLARGE)
	}
	if msg := alliance.ErrorMessage(err); !strings.Contains(msg, "1 MiB") {
		t.Errorf("message %q does not name the limit", msg)
	}
}
