package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/app"
)

// TestDecodeReport checks how a submission becomes the app's input, and the
// errors the decoder itself gives (the app validates the content).
func TestDecodeReport(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		keys      []string
		want      app.ReportInput
		wantCode  string
		wantField string
	}{
		{
			name: "everything",
			body: `{"urls":["https://a.example.com/","x"],"description":"d","category":"other","reporter":{"email":"r@example.org"},"source":"industry"}`,
			keys: []string{"k-1"},
			want: app.ReportInput{URLs: []string{"https://a.example.com/", "x"}, Description: "d", Category: "other",
				ReporterEmail: "r@example.org", Source: "industry", IdempotencyKey: "k-1", Client: "192.0.2.1"},
		},
		{name: "minimal", body: `{"urls":[]}`, want: app.ReportInput{URLs: []string{}, Client: "192.0.2.1"}},
		{name: "null reporter", body: `{"reporter":null}`, want: app.ReportInput{Client: "192.0.2.1"}},
		{name: "empty reporter", body: `{"reporter":{}}`, want: app.ReportInput{Client: "192.0.2.1"}},
		{name: "unknown field", body: `{"colour":1}`, wantCode: alliance.EINVALID, wantField: "colour"},
		{name: "unknown reporter field", body: `{"reporter":{"phone":"1"}}`, wantCode: alliance.EINVALID, wantField: "reporter.phone"},
		{name: "reporter a string", body: `{"reporter":"x"}`, wantCode: alliance.EINVALID, wantField: "reporter"},
		{name: "reporter a list", body: `{"reporter":[]}`, wantCode: alliance.EINVALID, wantField: "reporter"},
		{name: "reporter e-mail a number", body: `{"reporter":{"email":1}}`, wantCode: alliance.EINVALID, wantField: "reporter.email"},
		{name: "urls a string", body: `{"urls":"x"}`, wantCode: alliance.EINVALID, wantField: "urls"},
		{name: "empty key", body: `{}`, keys: []string{""}, wantCode: alliance.EINVALID, wantField: IdempotencyKeyHeader},
		{name: "two keys", body: `{}`, keys: []string{"a", "b"}, wantCode: alliance.EINVALID, wantField: IdempotencyKeyHeader},
		{name: "too large", body: `{"description":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`, wantCode: alliance.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), "POST", "/api/v1/reports", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = "192.0.2.1:4321"
			for _, k := range tt.keys {
				r.Header.Add(IdempotencyKeyHeader, k)
			}
			got, err := (&api{}).decodeReport(httptest.NewRecorder(), r)
			if tt.wantCode != "" {
				if alliance.ErrorCode(err) != tt.wantCode || alliance.ErrorField(err) != tt.wantField {
					t.Fatalf("error %v, want code %q field %q", err, tt.wantCode, tt.wantField)
				}
				if msg := alliance.ErrorMessage(err); tt.wantField != "" && !strings.Contains(msg, tt.wantField) {
					t.Errorf("message %q does not name %q", msg, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
