package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

// TestAssessAPI drives the queue, an assessment, the police's hold and
// clearance through the API, with the errors a client meets on the way.
func TestAssessAPI(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		in := newIntake(t, db, testHosts, httpapi.Options{})
		sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		if _, err := in.app.AddUser(sys, app.NewUser{Email: "police@se.example.org", Name: "SE police", OrgCode: "SE-POLICE", Role: "police"}); err != nil {
			t.Fatal(err)
		}
		tok, err := in.app.CreateToken(sys, "police@se.example.org", "test")
		if err != nil {
			t.Fatal(err)
		}
		police := "Bearer " + tok.Secret
		s := in.submit(t, in.tokens["SE-HOTLINE"], `{"urls":["http://`+trace.ExampleSE+`/x","http://`+trace.ExampleNL+`/y"]}`)
		if _, err := in.app.TraceBatch(sys, 100); err != nil {
			t.Fatal(err)
		}
		se, nl := s.Items[0].ID, s.Items[1].ID

		var queue struct {
			Items []itemOut `json:"items"`
		}
		in.get(t, "SE-HOTLINE", "/api/v1/queue", &queue)
		if len(queue.Items) != 1 || queue.Items[0].ID != se {
			t.Fatalf("SE queue: %+v", queue.Items)
		}
		post := func(auth, path, body string) *responseCheck {
			w := in.do(t, request{method: http.MethodPost, path: path, auth: auth, body: body})
			return &responseCheck{t: t, code: w.Code, body: w.Body.String()}
		}
		post(in.tokens["SE-HOTLINE"], itemPath(nl)+"/assessments", `{"verdict":"not_illegal"}`).want(http.StatusForbidden, "routed to NL-HOTLINE")
		post(in.tokens["NL-HOTLINE"], itemPath(se)+"/assessments", `{"verdict":"not_illegal"}`).want(http.StatusNotFound, "")
		post(in.tokens["SE-HOTLINE"], itemPath(se)+"/assessments", `{"verdict":"baseline","content_type":"image"}`).want(http.StatusBadRequest, "labels.age_band")
		post(in.tokens["SE-HOTLINE"], itemPath(se)+"/assessments", `{"verdict":"baseline","colour":"x"}`).want(http.StatusBadRequest, "colour")
		r := post(in.tokens["SE-HOTLINE"], itemPath(se)+"/assessments", `{"verdict":"baseline","content_type":"image","labels":{"age_band":"13_to_17","industry_class":"B1"},"note":"checked"}`)
		r.want(http.StatusCreated, `"agreement":"first"`)

		var item itemOut
		in.get(t, "SE-HOTLINE", itemPath(se), &item)
		if item.Takedown["status"] != "police_notified" || item.Takedown["police"] != "SE-POLICE" || len(item.Assessments) != 1 ||
			len(item.TakedownHistory) != 2 || item.Assessments[0]["labels"].(map[string]any)["industry_class"] != "B1" {
			t.Errorf("item after the assessment: takedown %v, assessments %v, history %v", item.Takedown, item.Assessments, item.TakedownHistory)
		}

		until := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
		post(in.tokens["SE-HOTLINE"], itemPath(se)+"/hold", `{"reason":"x","until":"`+until+`"}`).want(http.StatusForbidden, "")
		post(police, itemPath(se)+"/hold", `{"reason":"investigation"}`).want(http.StatusBadRequest, `"field":"until"`)
		post(police, itemPath(se)+"/hold", `{"reason":"investigation","until":"`+until+`"}`).want(http.StatusOK, `"status":"police_hold"`)
		post(police, itemPath(se)+"/clear", `{}`).want(http.StatusOK, `"status":"police_cleared"`)
		post(police, itemPath(se)+"/hold", `{"reason":"again","until":"`+until+`"}`).want(http.StatusConflict, "police_cleared")

		var scheme struct {
			Name     string   `json:"name"`
			Verdicts []string `json:"verdicts"`
			Fields   []struct {
				Name     string   `json:"name"`
				Required bool     `json:"required"`
				Values   []string `json:"values"`
			} `json:"fields"`
		}
		in.get(t, "SE-HOTLINE", "/api/v1/label-scheme", &scheme)
		if scheme.Name != alliance.DefaultLabelScheme.Name || len(scheme.Fields) != 2 || len(scheme.Verdicts) != 4 || !scheme.Fields[0].Required {
			t.Errorf("label scheme: %+v", scheme)
		}
		w := in.do(t, request{method: http.MethodGet, path: "/api/v1/queue?kind=nonsense", auth: in.tokens["SE-HOTLINE"]})
		if w.Code != http.StatusBadRequest {
			t.Errorf("unknown queue: %d %s", w.Code, w.Body)
		}
	})
}

type responseCheck struct {
	t    *testing.T
	code int
	body string
}

func (r *responseCheck) want(code int, contains string) {
	r.t.Helper()
	if r.code != code || !strings.Contains(r.body, contains) {
		r.t.Errorf("status %d body %s; want %d containing %q", r.code, r.body, code, contains)
	}
	if code >= 400 {
		var e map[string]any
		if err := json.Unmarshal([]byte(r.body), &e); err != nil {
			r.t.Errorf("error body is not JSON: %s", r.body)
		}
	}
}

// TestTakedownStatsAPI checks the figures endpoint's answers and errors.
func TestTakedownStatsAPI(t *testing.T) {
	db := testutil.NewSQLite(t)
	in := newIntake(t, db, testHosts, httpapi.Options{})
	var st struct {
		Overall struct {
			Items  int      `json:"items"`
			Median *float64 `json:"median_report_to_removal_s"`
		} `json:"overall"`
		ByCountry []map[string]any `json:"by_country"`
	}
	w := in.do(t, request{method: http.MethodGet, path: "/api/v1/stats/takedown?from=2026-01-01&to=2027-01-01", auth: in.tokens["SE-HOTLINE"]})
	if w.Code != http.StatusOK {
		t.Fatalf("stats: %d %s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Overall.Items != 0 || st.Overall.Median != nil || st.ByCountry == nil {
		t.Errorf("empty figures: %s", w.Body)
	}
	for q, field := range map[string]string{"from=yesterday": "from", "from=2027-01-01&to=2026-01-01": "from",
		"host_asn=x": "host_asn", "country=Sweden": "country"} {
		w := in.do(t, request{method: http.MethodGet, path: "/api/v1/stats/takedown?" + q, auth: in.tokens["SE-HOTLINE"]})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s, want 400 on %s", q, w.Code, w.Body, field)
		}
	}
	if w := in.do(t, request{method: http.MethodGet, path: "/api/v1/stats/takedown"}); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", w.Code)
	}
}

// TestNoticeTemplateAPI reads the built-in template, rejects a broken one
// naming the part, and sets one as an admin only.
func TestNoticeTemplateAPI(t *testing.T) {
	db := testutil.NewSQLite(t)
	in := newIntake(t, db, testHosts, httpapi.Options{})
	sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
	if _, err := in.app.AddUser(sys, app.NewUser{Email: "admin@se.example.org", Name: "SE admin", OrgCode: "SE-HOTLINE", Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	tok, err := in.app.CreateToken(sys, "admin@se.example.org", "test")
	if err != nil {
		t.Fatal(err)
	}
	admin := "Bearer " + tok.Secret
	var tmpl struct {
		Subject, Body string
		Own           bool
	}
	in.get(t, "SE-HOTLINE", "/api/v1/notice-template", &tmpl)
	if tmpl.Own || tmpl.Subject == "" || tmpl.Body == "" {
		t.Errorf("built-in template: %+v", tmpl)
	}
	put := func(auth, body string) (int, string) {
		w := in.do(t, request{method: http.MethodPut, path: "/api/v1/notice-template", auth: auth, body: body})
		return w.Code, w.Body.String()
	}
	if code, _ := put(in.tokens["SE-HOTLINE"], `{"subject":"x","body":"y"}`); code != http.StatusForbidden {
		t.Errorf("analyst setting the template: %d", code)
	}
	if code, body := put(admin, `{"subject":"Notice {{.Nope}}","body":"y"}`); code != http.StatusBadRequest || !strings.Contains(body, `"field":"subject"`) {
		t.Errorf("bad subject: %d %s", code, body)
	}
	if code, body := put(admin, `{"subject":"Notice {{.Reference}}","body":"Please remove {{.ItemURL}}. {{"}`); code != http.StatusBadRequest || !strings.Contains(body, `"field":"body"`) {
		t.Errorf("bad body: %d %s", code, body)
	}
	if code, body := put(admin, `{"subject":"Notice {{.Reference}}","body":"Please remove {{.ItemURL}}."}`); code != http.StatusOK || !strings.Contains(body, `"own":true`) {
		t.Errorf("good template: %d %s", code, body)
	}
	in.get(t, "SE-HOTLINE", "/api/v1/notice-template", &tmpl)
	if !tmpl.Own || tmpl.Subject != "Notice {{.Reference}}" {
		t.Errorf("after setting: %+v", tmpl)
	}
}
