package httpapi_test

import (
	"net/http"
	"testing"

	"alliance/internal/httpapi"
	"alliance/internal/testutil"
)

func TestReportingAPI(t *testing.T) {
	in := newIntake(t, testutil.NewSQLite(t), testHosts, httpapi.Options{})
	call := func(path string) *responseCheck {
		w := in.do(t, request{method: http.MethodGet, path: path, auth: in.tokens["SE-HOTLINE"]})
		return &responseCheck{t: t, code: w.Code, body: w.Body.String()}
	}
	call("/api/v1/targets").want(http.StatusOK, `"code":"1.1"`)
	call("/api/v1/indicators?country=SE&period=2026").want(http.StatusOK, `"key":"items_hosted"`)
	call("/api/v1/indicators?country=NL&period=2026").want(http.StatusForbidden, "")
	call("/api/v1/indicators?country=SE&period=soon").want(http.StatusBadRequest, `"field":"period"`)
	if w := in.do(t, request{method: http.MethodGet, path: "/api/v1/targets"}); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous targets: %d", w.Code)
	}
}
