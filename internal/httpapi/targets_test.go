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

// TestTargetsAPI reads the targets, edits a goal's text as the
// secretariat, and checks the new version in the targets, the country
// report and the history, the refusals and the field errors.
func TestTargetsAPI(t *testing.T) {
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
		se, sec := in.tokens["SE-HOTLINE"], "Bearer "+tok.Secret
		call := func(method, auth, path, body string) *responseCheck {
			w := in.do(t, request{method: method, path: path, auth: auth, body: body})
			return &responseCheck{t: t, code: w.Code, body: w.Body.String()}
		}
		type goal struct {
			Code       string   `json:"code"`
			Text       string   `json:"text"`
			Indicators []string `json:"indicators"`
		}
		type target struct {
			Number int    `json:"number"`
			Title  string `json:"title"`
			Goals  []goal `json:"goals"`
		}
		type targetSet struct {
			Version       int      `json:"version_number"`
			Label         string   `json:"label"`
			LegacyVersion string   `json:"version"`
			Note          string   `json:"note"`
			CreatedBy     string   `json:"created_by"`
			CreatedAt     *string  `json:"created_at"`
			Targets       []target `json:"targets"`
			Indicators    []any    `json:"indicators"`
		}
		decode := func(r *responseCheck, v any) {
			t.Helper()
			if err := json.Unmarshal([]byte(r.body), v); err != nil {
				t.Fatalf("%v: %s", err, r.body)
			}
		}
		body := func(ts []target, note string) string {
			b, err := json.Marshal(map[string]any{"targets": ts, "note": note})
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}

		r := call("GET", se, "/api/v1/targets", "")
		r.want(http.StatusOK, `"version":"declaration-2012-12","version_number":0,"label":"declaration-2012-12"`)
		var v0 targetSet
		decode(r, &v0)
		if len(v0.Targets) != 4 || v0.CreatedAt != nil || len(v0.Indicators) != len(alliance.Indicators) || v0.Targets[3].Goals[1].Code != "4.2" {
			t.Fatalf("version 0: %+v", v0)
		}

		// The secretariat edits goal 4.2's text.
		ts := v0.Targets
		ts[3].Goals[1].Text = "Remove reported material within 3 days."
		r = call("PUT", sec, "/api/v1/targets", body(ts, "Goal 4.2 made measurable."))
		r.want(http.StatusOK, `"version":"declaration-2012-12-rev1","version_number":1,"label":"declaration-2012-12-rev1","note":"Goal 4.2 made measurable.","created_by":"sec@example.org"`)
		var v1 targetSet
		decode(r, &v1)
		if v1.CreatedAt == nil || v1.Targets[3].Goals[1].Text != "Remove reported material within 3 days." {
			t.Errorf("version 1: %+v", v1)
		}
		call("GET", se, "/api/v1/targets", "").want(http.StatusOK, `"text":"Remove reported material within 3 days."`)
		r = call("GET", se, "/api/v1/countries/SE/report?period=2026", "")
		r.want(http.StatusOK, `"targets_version":"declaration-2012-12-rev1"`)
		var rep struct {
			Targets []struct {
				Goals []struct{ Code, Text string } `json:"goals"`
			} `json:"targets"`
		}
		decode(r, &rep)
		if g := rep.Targets[3].Goals[1]; g.Code != "4.2" || g.Text != "Remove reported material within 3 days." {
			t.Errorf("goal 4.2 in the report: %+v", g)
		}

		// Who may edit.
		call("PUT", se, "/api/v1/targets", body(ts, "mine")).want(http.StatusForbidden, `"code":"forbidden"`)
		call("PUT", "", "/api/v1/targets", body(ts, "mine")).want(http.StatusUnauthorized, "")
		call("GET", "", "/api/v1/targets/versions", "").want(http.StatusUnauthorized, "")

		// Field errors.
		clone := func() []target {
			var out []target
			b, _ := json.Marshal(v1.Targets)
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		badCode, badInd, removed, five := clone(), clone(), clone(), clone()
		badCode[1].Goals[0].Code = "2-1"
		badInd[2].Goals[0].Indicators = []string{"awareness_actions", "likes"}
		removed[2].Goals = removed[2].Goals[1:]
		five = append(five, target{Number: 5, Title: "Fifth", Goals: []goal{{Code: "5.1", Text: "x"}}})
		for _, tc := range []struct{ name, body, field string }{
			{"bad goal code", body(badCode, "x"), "targets[1].goals[0].code"},
			{"unknown indicator", body(badInd, "x"), "targets[2].goals[0].indicators[1]"},
			{"removed goal", body(removed, "x"), "targets[2].goals"},
			{"five targets", body(five, "x"), "targets"},
			{"no note", body(clone(), ""), "note"},
		} {
			r := call("PUT", sec, "/api/v1/targets", tc.body)
			r.want(http.StatusBadRequest, `"field":"`+tc.field+`"`)
		}
		call("PUT", sec, "/api/v1/targets", `{"targets":[],"note":"x","extra":1}`).want(http.StatusBadRequest, "")
		call("PUT", sec, "/api/v1/targets", `{"note":"`+strings.Repeat("x", 1<<20)+`"}`).want(http.StatusRequestEntityTooLarge, "")

		// The history lists both versions, newest first.
		r = call("GET", se, "/api/v1/targets/versions", "")
		r.want(http.StatusOK, `"versions":[{"version_number":1,"label":"declaration-2012-12-rev1","note":"Goal 4.2 made measurable."`)
		var hist struct {
			Versions []targetSet `json:"versions"`
		}
		decode(r, &hist)
		if len(hist.Versions) != 2 || hist.Versions[1].Version != 0 || hist.Versions[1].Label != "declaration-2012-12" ||
			hist.Versions[1].CreatedAt != nil || hist.Versions[1].Targets[3].Goals[1].Text == v1.Targets[3].Goals[1].Text {
			t.Errorf("history: %+v", hist)
		}
	})
}
