package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestReportingPages walks the reporting pages: a country user records a
// commitment, a progress update and a capability level and sees them in
// the country report and its exports; another country and the
// secretariat are refused edits; the secretariat sees the dashboard and
// requests an update.
func TestReportingPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		nl := e.addUser("analyst@nl-hotline.example", "NL-HOTLINE", alliance.RoleAnalyst)
		sec := e.addUser("secretariat@alliance.example", alliance.SecretariatCode, alliance.RoleSecretariat)
		year := strconv.Itoa(time.Now().UTC().Year())
		due := strconv.Itoa(time.Now().UTC().Year()+1) + "-06-30"

		anon := e.client()
		if res := anon.get("/reporting"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
			t.Errorf("anonymous: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		c := e.client()
		c.login(se.Email)
		res := c.get("/reporting")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/reporting/SE" {
			t.Fatalf("a country user's dashboard: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		page := c.get("/reporting/SE")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, "Sweden: report for "+year, `id="report-empty"`, `id="t1"`, `id="goal-4-2"`,
			`id="edit-commitments"`, `href="/reporting/SE/report.csv?period=`+year+`"`, `data-key="median_removal"`,
			`<a href="/reporting" aria-current="page">Alliance reporting</a>`, `id="capabilities"`)

		edit := c.get("/reporting/SE/edit")
		wantStatus(t, edit, http.StatusOK)
		tok := formToken(t, edit.Body, "/goals/4.2")

		t.Run("refused commitment", func(t *testing.T) {
			res := c.post("/reporting/SE/goals/4.2", url.Values{"csrf": {tok}, "baseline": {"Kept text"},
				"new_description": {"Direct notices"}, "new_owner": {"SE-HOTLINE"}, "new_due": {"2001-01-01"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="new-due-4-2-error"`, "due today or later", "Kept text", `value="Direct notices"`)
			wantStatus(t, c.post("/reporting/SE/goals/4.2", url.Values{"csrf": {"forged"}}), http.StatusForbidden)
			wantStatus(t, c.post("/reporting/SE/goals/9.9", url.Values{"csrf": {tok}}), http.StatusNotFound)
		})

		res = c.post("/reporting/SE/goals/4.2", url.Values{"csrf": {tok}, "baseline": {"Notices within 48 h."},
			"baseline_date": {"2013-01-01"}, "new_description": {"Direct notices to hosts"}, "new_owner": {"SE-HOTLINE"},
			"new_due": {due}, "new_status": {"in_progress"}})
		wantStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/reporting/SE/edit?saved=4.2#goal-4-2" {
			t.Errorf("after saving: %s", loc)
		}
		edit = c.get("/reporting/SE/edit?saved=4.2")
		wantContains(t, edit.Body, `id="saved-4-2"`, "Notices within 48 h.", "Direct notices to hosts",
			`<option value="in_progress" selected>in progress</option>`)

		t.Run("progress", func(t *testing.T) {
			res := c.post("/reporting/SE/goals/3.1/progress", url.Values{"csrf": {tok}, "period": {year},
				"narrative": {"School campaign."}, "awareness_actions": {"1.5"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="awareness-3-1-error"`, "whole number", "School campaign.")
			res = c.post("/reporting/SE/goals/3.1/progress", url.Values{"csrf": {tok}, "period": {year},
				"narrative": {"School campaign."}, "evidence": {"ftp://example.com/x"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="evidence-3-1-error"`)
			res = c.post("/reporting/SE/goals/3.1/progress", url.Values{"csrf": {tok}, "period": {year},
				"narrative": {"School campaign."}, "awareness_actions": {"2"}, "evidence": {"https://example.com/campaign\r\n"}})
			wantStatus(t, res, http.StatusSeeOther)
		})

		t.Run("capabilities", func(t *testing.T) {
			res := c.post("/reporting/SE/capabilities", url.Values{"csrf": {tok}, "level_MNR-12": {"3"}, "note_MNR-12": {"Hotline since 2003"}})
			wantStatus(t, res, http.StatusSeeOther)
			res = c.post("/reporting/SE/capabilities", url.Values{"csrf": {tok}, "level_MNR-01": {"9"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `aria-invalid="true"`)
		})

		page = c.get("/reporting/SE")
		wantContains(t, page.Body, "Notices within 48 h.", "Direct notices to hosts", "School campaign.",
			`href="https://example.com/campaign"`, "3 – established", "Hotline since 2003")
		if strings.Contains(page.Body, `id="report-empty"`) {
			t.Error("the report still says nothing was recorded")
		}

		t.Run("exports", func(t *testing.T) {
			res := c.get("/reporting/SE/report.csv?period=" + year)
			wantStatus(t, res, http.StatusOK)
			recs, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
			if err != nil || len(recs) != 13 {
				t.Fatalf("CSV: %v, %d rows", err, len(recs))
			}
			found := false
			for _, r := range recs {
				found = found || (r[4] == "awareness_actions" && r[6] == "2")
			}
			if !found {
				t.Errorf("the CSV lacks the awareness actions: %v", recs)
			}
			res = c.get("/reporting/SE/report.json?period=" + year)
			var rep struct {
				Country string `json:"country"`
				Targets []struct {
					Goals []struct {
						Code       string `json:"code"`
						Commitment *struct {
							Baseline string `json:"baseline"`
						} `json:"commitment"`
					} `json:"goals"`
				} `json:"targets"`
			}
			if err := json.Unmarshal([]byte(res.Body), &rep); err != nil || rep.Country != "SE" || len(rep.Targets) != 4 {
				t.Fatalf("JSON: %v %s", err, res.Body)
			}
			if g := rep.Targets[3].Goals[1]; g.Code != "4.2" || g.Commitment == nil || g.Commitment.Baseline != "Notices within 48 h." {
				t.Errorf("goal 4.2 in the JSON: %+v", g)
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "alliance-SE-"+year+".json") {
				t.Errorf("Content-Disposition %q", cd)
			}
		})

		t.Run("another country", func(t *testing.T) {
			n := e.client()
			n.login(nl.Email)
			wantStatus(t, n.get("/reporting/SE"), http.StatusForbidden)
			wantStatus(t, n.get("/reporting/SE/edit"), http.StatusForbidden)
			wantStatus(t, n.get("/reporting/SE/report.csv"), http.StatusForbidden)
			ntok := formToken(t, n.get("/reporting/NL/edit").Body, "/goals/4.2")
			wantStatus(t, n.post("/reporting/SE/goals/3.1/progress", url.Values{"csrf": {ntok}, "period": {year}, "narrative": {"x"}}), http.StatusForbidden)
			wantStatus(t, n.post("/reporting/SE/capabilities", url.Values{"csrf": {ntok}, "level_MNR-01": {"1"}}), http.StatusForbidden)
		})

		t.Run("secretariat", func(t *testing.T) {
			s := e.client()
			s.login(sec.Email)
			dash := s.get("/reporting")
			wantStatus(t, dash, http.StatusOK)
			wantContains(t, dash.Body, `id="alliance-map-title"`, `class="worldmap"`, `data-code="SE"`, `id="members-table"`,
				"48 member countries", `<tr data-country="SE">`, `id="quarters-table"`, `id="goal-heading"`)
			if n := strings.Count(dash.Body, "<tr data-country="); n != len(alliance.FoundingMembers) {
				t.Errorf("%d rows in the members' table, want %d", n, len(alliance.FoundingMembers))
			}
			wantContains(t, s.get("/reporting?indicator=awareness_actions&period="+year).Body, `id="indicator-chart"`, "Awareness actions")
			res := s.get("/reporting?indicator=bogus")
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="indicator-error"`)
			res = s.get("/reporting?period=2026-Q9")
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="period-error"`, "A period is a year")
			wantContains(t, s.get("/reporting?period="+year+"-Q1").Body, `id="goal-yearly"`)

			page := s.get("/reporting/SE")
			wantStatus(t, page, http.StatusOK)
			if strings.Contains(page.Body, `id="edit-commitments"`) {
				t.Error("the secretariat is offered to edit a country's commitments")
			}
			wantStatus(t, s.get("/reporting/SE/edit"), http.StatusForbidden)
			stok := formToken(t, page.Body, "/requests")
			res = s.post("/reporting/SE/requests", url.Values{"csrf": {stok}, "period": {year}, "deadline": {"2001-01-01"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="rq-deadline-error"`)
			res = s.post("/reporting/SE/requests", url.Values{"csrf": {stok}, "period": {year}, "deadline": {due}, "note": {"Please report."}})
			wantStatus(t, res, http.StatusSeeOther)
			// Browsers do not send the fragment.
			loc, _, _ := strings.Cut(res.Header.Get("Location"), "#")
			wantContains(t, s.get(loc).Body, `id="notice-sent"`, "Please report.")
			wantContains(t, c.get("/reporting/SE/edit").Body, "Please report.")
			wantStatus(t, s.get("/reporting/XX"), http.StatusNotFound)
		})
	})
}

// TestTargetsPage has the secretariat save a new version of the targets
// through the form, with a changed goal and a new one, and a country user
// read them.
func TestTargetsPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		sec := e.addUser("secretariat@alliance.example", alliance.SecretariatCode, alliance.RoleSecretariat)
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		s := e.client()
		s.login(sec.Email)
		page := s.get("/reporting/targets")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, `id="targets-form"`, "declaration-2012-12", `name="g3_1_text"`, `name="g3_2_code"`)
		tok := formToken(t, page.Body, "/reporting/targets")
		// The form as the browser sends it: every field of the page.
		form := url.Values{"csrf": {tok}}
		for i, tg := range alliance.DeclarationTargets {
			form.Set(fmt.Sprintf("t%d_title", i), tg.Title)
			for j, g := range tg.Goals {
				f := fmt.Sprintf("g%d_%d", i, j)
				form.Set(f+"_code", g.Code)
				form.Set(f+"_text", g.Text)
				form[f+"_ind"] = g.Indicators
			}
		}
		form.Set("g3_1_text", "Increase the speed of notice and takedown, measured every quarter.")
		form.Set("g3_2_code", "4.3")
		form.Set("g3_2_text", "Share removal figures with the hosting industry.")
		form["g3_2_ind"] = []string{"items_removed"}

		res := s.post("/reporting/targets", form)
		wantStatus(t, res, http.StatusBadRequest)
		wantContains(t, res.Body, `id="targets-note-error"`, "measured every quarter")

		form.Set("note", "Quarterly measurement agreed.")
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("g0_0_text", "")
		res = s.post("/reporting/targets", bad)
		wantStatus(t, res, http.StatusBadRequest)
		if !strings.Contains(res.Body, `class="field-error"`) {
			t.Errorf("an emptied goal is not flagged:\n%s", res.Body)
		}

		res = s.post("/reporting/targets", form)
		wantStatus(t, res, http.StatusSeeOther)
		page = s.get(res.Header.Get("Location"))
		wantContains(t, page.Body, `id="notice-saved"`, "declaration-2012-12-rev1", "measured every quarter", "Quarterly measurement agreed.",
			`name="g3_2_code" type="text" value="4.3"`)

		c := e.client()
		c.login(se.Email)
		page = c.get("/reporting/targets")
		wantStatus(t, page, http.StatusOK)
		if strings.Contains(page.Body, `id="targets-form"`) {
			t.Error("a country user is offered the targets form")
		}
		wantContains(t, page.Body, "Goal 4.3", "Share removal figures")
		wantContains(t, c.get("/reporting/SE").Body, "Goal 4.3", "declaration-2012-12-rev1")
		ctok := formToken(t, c.get("/reporting/SE/edit").Body, "/goals/4.3")
		wantStatus(t, c.post("/reporting/targets", url.Values{"csrf": {ctok}, "note": {"x"}}), http.StatusForbidden)
	})
}
