package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestCapabilitiesAPI reads the capability list, records a country's
// maturity levels, reads them back, and checks the errors and who may do
// what.
func TestCapabilitiesAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		if _, err := in.app.AddUser(sys, app.NewUser{Email: "sec@example.org", Name: "sec", OrgCode: "INT-SECRETARIAT", Role: "secretariat"}); err != nil {
			t.Fatal(err)
		}
		tok, err := in.app.CreateToken(sys, "sec@example.org", "test")
		if err != nil {
			t.Fatal(err)
		}
		se, nl, sec := in.tokens["SE-HOTLINE"], in.tokens["NL-HOTLINE"], "Bearer "+tok.Secret
		call := func(method, auth, path, body string) *responseCheck {
			w := in.do(t, request{method: method, path: path, auth: auth, body: body})
			return &responseCheck{t: t, code: w.Code, body: w.Body.String()}
		}

		r := call("GET", se, "/api/v1/capabilities", "")
		r.want(http.StatusOK, `{"code":"MNR-12","domain":"Societal","name":"CSEA hotline"}`)
		var list struct {
			Capabilities []struct{ Code, Domain, Name string } `json:"capabilities"`
			Levels       []struct {
				Level             int
				Name, Description string
			} `json:"levels"`
		}
		if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list.Capabilities) != 21 || len(list.Levels) != 5 ||
			list.Levels[0].Level != 0 || list.Levels[4].Level != 4 {
			t.Errorf("capability list: %v %s", err, r.body)
		}
		call("GET", "", "/api/v1/capabilities", "").want(http.StatusUnauthorized, "")

		path := "/api/v1/countries/SE/capabilities"
		call("GET", se, path, "").want(http.StatusOK, `{"country":"SE","capabilities":[]}`)
		call("PUT", se, path, `{"capabilities":[{"capability":"MNR-12","level":4,"note":"Hotline since 2005."},{"capability":"MNR-01","level":0}]}`).
			want(http.StatusOK, `"capability":"MNR-12","level":4,"note":"Hotline since 2005.","updated_by":"se-hotline@example.org"`)
		call("PUT", se, path, `{"capabilities":[{"capability":"MNR-01","level":3}]}`).want(http.StatusOK, `"capability":"MNR-01","level":3`)
		r = call("GET", sec, path, "")
		r.want(http.StatusOK, `"country":"SE"`)
		var got struct {
			Capabilities []struct {
				Capability string `json:"capability"`
				Level      int    `json:"level"`
				Note       string `json:"note"`
			} `json:"capabilities"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got.Capabilities) != 2 ||
			got.Capabilities[0].Capability != "MNR-01" || got.Capabilities[0].Level != 3 ||
			got.Capabilities[1].Capability != "MNR-12" || got.Capabilities[1].Level != 4 || got.Capabilities[1].Note != "Hotline since 2005." {
			t.Errorf("levels read back: %v %s", err, r.body)
		}

		for _, tc := range []struct{ body, field string }{
			{`{"capabilities":[{"capability":"MNR-01","level":1},{"capability":"MNR-02","level":1},{"capability":"MNR-03","level":7}]}`, `"field":"capabilities[2].level"`},
			{`{"capabilities":[{"capability":"MNR-01"}]}`, `"field":"capabilities[0].level"`},
			{`{"capabilities":[{"capability":"MNR-99","level":1}]}`, `"field":"capabilities[0].capability"`},
			{`{"capabilities":[]}`, `"field":"capabilities"`},
			{`{"capabilities":[{"capability":"MNR-01","level":1,"colour":"red"}]}`, ""},
			{`{"capabilities":[{"capability":"MNR-01","level":"high"}]}`, ""},
		} {
			call("PUT", se, path, tc.body).want(http.StatusBadRequest, tc.field)
		}
		call("PUT", se, path, `{"capabilities":[{"capability":"MNR-01","level":1,"note":"`+strings.Repeat("x", 1<<20)+`"}]}`).
			want(http.StatusRequestEntityTooLarge, "")
		// The refused puts changed nothing.
		call("GET", se, path, "").want(http.StatusOK, `"capability":"MNR-01","level":3`)

		call("PUT", nl, path, `{"capabilities":[{"capability":"MNR-01","level":1}]}`).want(http.StatusForbidden, "")
		call("PUT", sec, path, `{"capabilities":[{"capability":"MNR-01","level":1}]}`).want(http.StatusForbidden, "")
		call("GET", nl, path, "").want(http.StatusForbidden, "")
		call("PUT", "", path, `{"capabilities":[{"capability":"MNR-01","level":1}]}`).want(http.StatusUnauthorized, "")
		call("GET", se, "/api/v1/countries/XX/capabilities", "").want(http.StatusBadRequest, `"field":"country"`)
	})
}
