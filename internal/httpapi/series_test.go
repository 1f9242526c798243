package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestSeriesAPI creates and changes a series as its police owner and
// checks who may see what, the deconfliction answer and the errors.
func TestSeriesAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		if err := in.app.Matcher().Load(t.Context()); err != nil {
			t.Fatal(err)
		}
		tokens := map[string]string{}
		for _, u := range []struct{ email, org, role string }{
			{"police@se.example.org", "SE-POLICE", "police"},
			{"police@nl.example.org", "NL-POLICE", "police"},
			{"sec@example.org", "INT-SECRETARIAT", "secretariat"},
		} {
			if _, err := in.app.AddUser(sys, app.NewUser{Email: u.email, Name: u.role, OrgCode: u.org, Role: u.role}); err != nil {
				t.Fatal(err)
			}
			tok, err := in.app.CreateToken(sys, u.email, "test")
			if err != nil {
				t.Fatal(err)
			}
			tokens[u.org] = "Bearer " + tok.Secret
		}
		call := func(method, auth, path, body string) *responseCheck {
			w := in.do(t, request{method: method, path: path, auth: auth, body: body})
			return &responseCheck{t: t, code: w.Code, body: w.Body.String()}
		}
		se, nl, sec, analyst := tokens["SE-POLICE"], tokens["NL-POLICE"], tokens["INT-SECRETARIAT"], in.tokens["SE-HOTLINE"]
		code := "SE 2026/17"
		path := "/api/v1/series/" + url.PathEscape(code)

		call("POST", se, "/api/v1/series", `{"code":"`+code+`","refs":"ICSE-0001","notes":"police only","contact":"SE-POLICE VID desk"}`).
			want(http.StatusCreated, `"status":"unidentified"`)
		call("POST", se, "/api/v1/series", `{"code":"`+code+`"}`).want(http.StatusConflict, "exists")
		call("POST", analyst, "/api/v1/series", `{"code":"X"}`).want(http.StatusForbidden, "")
		call("POST", se, "/api/v1/series", `{"code":""}`).want(http.StatusBadRequest, `"field":"code"`)
		call("GET", se, path, "").want(http.StatusOK, `"notes":"police only"`)
		r := call("GET", sec, path, "")
		r.want(http.StatusOK, `"owner":"SE-POLICE"`)
		if strings.Contains(r.body, "police only") {
			t.Errorf("the secretariat sees the notes: %s", r.body)
		}
		call("GET", analyst, path, "").want(http.StatusForbidden, "")
		call("GET", se, "/api/v1/series/unknown", "").want(http.StatusNotFound, "")
		call("POST", nl, path+"/status", `{"status":"identified"}`).want(http.StatusForbidden, "owned by SE-POLICE")
		call("POST", se, path+"/status", `{"status":"identified"}`).want(http.StatusOK, `"identified_at"`)
		call("POST", se, path+"/status", `{"status":"unidentified"}`).want(http.StatusBadRequest, `"field":"reason"`)
		call("POST", se, path+"/status", `{"status":"lost"}`).want(http.StatusBadRequest, `"field":"status"`)
		call("PUT", se, path, `{"do_not_duplicate":true,"contact":"SE-POLICE VID desk"}`).want(http.StatusOK, `"do_not_duplicate":true`)
		call("GET", analyst, "/api/v1/deconflict?series="+url.QueryEscape(code), "").want(http.StatusOK, `"action":"stand_down"`)
		call("GET", analyst, "/api/v1/deconflict?hash=md5:00", "").want(http.StatusBadRequest, `"field":"hash"`)
		call("GET", analyst, "/api/v1/deconflict?hash=md5:"+zeros(32), "").want(http.StatusOK, `"action":"new_material"`)
		call("GET", analyst, "/api/v1/deconflict", "").want(http.StatusBadRequest, "exactly one")
		call("GET", se, "/api/v1/alerts", "").want(http.StatusOK, `"alerts":[]`)
		call("GET", analyst, "/api/v1/alerts", "").want(http.StatusForbidden, "")
		call("POST", se, "/api/v1/alerts/99/read", "").want(http.StatusNotFound, "")
		call("GET", sec, "/api/v1/series", "").want(http.StatusOK, code)
		call("GET", sec, "/api/v1/stats/series", "").want(http.StatusOK, `"identified":1`)
		call("GET", analyst, "/api/v1/stats/series", "").want(http.StatusForbidden, "")
	})
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}
