package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"alliance/internal/app"
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

// TestCommitmentsAndReportAPI records a commitment and a progress update
// through the API and reads the country report as JSON and CSV.
func TestCommitmentsAndReportAPI(t *testing.T) {
	in := newIntake(t, testutil.NewSQLite(t), testHosts, httpapi.Options{})
	do := func(method, path, body string) *responseCheck {
		w := in.do(t, request{method: method, path: path, auth: in.tokens["SE-HOTLINE"], body: body})
		return &responseCheck{t: t, code: w.Code, body: w.Body.String()}
	}
	do("PUT", "/api/v1/countries/SE/commitments", `{"goal":"4.2","baseline":"48 h","actions":[{"description":"Direct notices","owner":"SE-HOTLINE","due":"2099-01-01"}]}`).
		want(http.StatusOK, `"status":"planned"`)
	do("PUT", "/api/v1/countries/SE/commitments", `{"goal":"4.2","actions":[{"description":"x","owner":"SE-HOTLINE","due":"2001-01-01"}]}`).
		want(http.StatusBadRequest, `"field":"actions[0].due"`)
	do("PUT", "/api/v1/countries/NL/commitments", `{"goal":"4.2"}`).want(http.StatusForbidden, "")
	do("POST", "/api/v1/countries/SE/progress", `{"goal":"3.1","period":"2026","narrative":"Campaign","values":{"awareness_actions":2}}`).
		want(http.StatusCreated, `"awareness_actions":2`)
	do("POST", "/api/v1/countries/SE/progress", `{"goal":"3.1","period":"2026","narrative":"x","values":{"awareness_actions":"many"}}`).
		want(http.StatusBadRequest, "")
	do("GET", "/api/v1/countries/SE/commitments", "").want(http.StatusOK, `"goal":"4.2"`)
	r := do("GET", "/api/v1/countries/SE/report?period=2026", "")
	r.want(http.StatusOK, `"code":"4.2"`)
	var rep struct {
		Targets []struct {
			Goals []struct {
				Code       string `json:"code"`
				Indicators []struct {
					Key   string   `json:"key"`
					Value *float64 `json:"value"`
				} `json:"indicators"`
			} `json:"goals"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || len(rep.Targets) != 4 {
		t.Fatalf("report JSON: %v %s", err, r.body)
	}
	w := in.do(t, request{method: "GET", path: "/api/v1/countries/SE/report?period=2026&format=csv", auth: in.tokens["SE-HOTLINE"]})
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if w.Code != http.StatusOK || err != nil || len(recs) < 10 || recs[0][0] != "country" {
		t.Errorf("report CSV: %d %v %d rows", w.Code, err, len(recs))
	}
	found := false
	for _, rec := range recs {
		if len(rec) == len(app.CSVHeader) && rec[slices.Index(app.CSVHeader, "indicator")] == "awareness_actions" &&
			rec[slices.Index(app.CSVHeader, "value")] == "2" {
			found = true
		}
	}
	if !found {
		t.Errorf("the CSV lacks the awareness actions entered: %v", recs)
	}
	do("GET", "/api/v1/countries/SE/report?period=2026&format=xml", "").want(http.StatusBadRequest, `"field":"format"`)
}
