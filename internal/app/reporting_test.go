package app_test

import (
	"strconv"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestCommitments records a commitment with actions and a progress update
// as a country's user, checks the field errors, who may edit what, and that
// the manual indicator reaches the indicators.
func TestCommitments(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se, nl := as(t, e.se), as(t, e.nl)
		sec := as(t, testutil.CreateUser(t, db, "INT-SECRETARIAT", "sec@example.org", alliance.RoleSecretariat))
		year := testutil.Epoch.Year()
		due := strconv.Itoa(year+1) + "-06-30"
		c, err := e.app.PutCommitment(se, "SE", app.CommitmentInput{Goal: "4.2", Baseline: "Notices within 48 h.", BaselineDate: "2013-01-01",
			Actions: []app.ActionInput{{Description: "Direct notices to hosts", OwnerOrg: "SE-HOTLINE", Due: due}}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Baseline != "Notices within 48 h." || len(c.Actions) != 1 || c.Actions[0].Status != "planned" {
			t.Errorf("commitment: %+v", c)
		}
		for _, tc := range []struct {
			in    app.CommitmentInput
			field string
		}{
			{app.CommitmentInput{Goal: "9.9"}, "goal"},
			{app.CommitmentInput{Goal: "4.2", BaselineDate: "yesterday"}, "baseline_date"},
			{app.CommitmentInput{Goal: "4.2", Actions: []app.ActionInput{{Description: "x", OwnerOrg: "SE-HOTLINE", Due: "2000-01-01"}}}, "actions[0].due"},
			{app.CommitmentInput{Goal: "4.2", Actions: []app.ActionInput{{Description: "x", OwnerOrg: "XX-NONE", Due: due}}}, "actions[0].owner"},
			{app.CommitmentInput{Goal: "4.2", Actions: []app.ActionInput{{Description: "x", OwnerOrg: "SE-HOTLINE", Due: due, Status: "maybe"}}}, "actions[0].status"},
		} {
			if _, err := e.app.PutCommitment(se, "SE", tc.in); alliance.ErrorField(err) != tc.field {
				t.Errorf("%+v: %v, want an error on %s", tc.in, err, tc.field)
			}
		}
		if _, err := e.app.PutCommitment(nl, "SE", app.CommitmentInput{Goal: "4.2"}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("NL editing SE: %v", err)
		}
		if _, err := e.app.PutCommitment(sec, "SE", app.CommitmentInput{Goal: "4.2"}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("the secretariat editing SE: %v", err)
		}
		if _, err := e.app.AddProgress(se, "SE", app.ProgressInput{Goal: "3.1", Period: strconv.Itoa(year) + "-Q1", Narrative: "School campaign.",
			Values: map[string]float64{"awareness_actions": 3}, Evidence: []string{"https://example.org/campaign"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.AddProgress(se, "SE", app.ProgressInput{Goal: "3.1", Period: strconv.Itoa(year), Narrative: "x",
			Values: map[string]float64{"items_removed": 9}}); alliance.ErrorField(err) != "values.items_removed" {
			t.Errorf("a computed indicator entered by hand: %v", err)
		}
		if _, err := e.app.AddProgress(se, "SE", app.ProgressInput{Goal: "3.1", Period: strconv.Itoa(year), Narrative: "x",
			Values: map[string]float64{"awareness_actions": 1.5}}); alliance.ErrorField(err) != "values.awareness_actions" {
			t.Errorf("a fraction for a count: %v", err)
		}
		if _, err := e.app.AddProgress(se, "SE", app.ProgressInput{Goal: "3.1", Period: strconv.Itoa(year), Narrative: "x",
			Evidence: []string{"javascript:alert(1)"}}); alliance.ErrorField(err) != "evidence[0]" {
			t.Errorf("a bad link: %v", err)
		}
		ind, err := e.app.Indicators(sec, "SE", strconv.Itoa(year))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range ind.Values {
			if v.Key == "awareness_actions" && (v.Value == nil || *v.Value != 3) {
				t.Errorf("awareness actions of the year: %v, want 3 (from Q1)", v.Value)
			}
		}
		if err := e.app.RequestUpdate(sec, "SE", strconv.Itoa(year), strconv.Itoa(year+1)+"-01-31", "Please report."); err != nil {
			t.Fatal(err)
		}
		if err := e.app.RequestUpdate(se, "SE", strconv.Itoa(year), strconv.Itoa(year+1)+"-01-31", ""); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("a country requesting updates: %v", err)
		}
		cs, rqs, err := e.app.Commitments(sec, "SE")
		if err != nil || len(cs) != 2 || len(rqs) != 1 {
			t.Errorf("the secretariat's view: %d commitments, %d requests, %v", len(cs), len(rqs), err)
		}
		if _, _, err := e.app.Commitments(nl, "SE"); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("NL reading SE: %v", err)
		}

		// A status change alone keeps the baseline; an unknown action is
		// refused on its field.
		c, err = e.app.PutCommitment(se, "SE", app.CommitmentInput{Goal: "4.2", KeepBaseline: true,
			Actions: []app.ActionInput{{ID: c.Actions[0].ID, Status: "done"}}})
		if err != nil {
			t.Fatal(err)
		}
		cs, _, _ = e.app.Commitments(se, "SE")
		for _, x := range cs {
			if x.Goal == "4.2" && (x.Baseline != "Notices within 48 h." || len(x.Actions) != 1 || x.Actions[0].Status != "done") {
				t.Errorf("after a status change: %+v", x)
			}
		}
		if _, err := e.app.PutCommitment(se, "SE", app.CommitmentInput{Goal: "3.1", KeepBaseline: true,
			Actions: []app.ActionInput{{ID: c.Actions[0].ID, Status: "done"}}}); alliance.ErrorField(err) != "actions[0].id" {
			t.Errorf("another goal's action: %v", err)
		}

		rep, err := e.app.CountryReport(sec, "SE", strconv.Itoa(year))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Country != "SE" || len(rep.Targets) != 4 || !rep.HasData || len(rep.Requests) != 1 {
			t.Errorf("report: %+v", rep)
		}
		g31 := rep.Targets[2].Goals[0]
		if g31.Code != "3.1" || g31.Commitment == nil || len(g31.Commitment.Progress) != 1 || *g31.Indicators[0].Value != 3 {
			t.Errorf("goal 3.1 in the report: %+v", g31)
		}
		rows := rep.CSV()
		if len(rows) != 1+12 || len(rows[0]) != len(app.CSVHeader) {
			t.Errorf("CSV: %d rows of %d columns", len(rows), len(rows[0]))
		}
		if _, err := e.app.CountryReport(nl, "SE", strconv.Itoa(year)); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("NL reading SE's report: %v", err)
		}
		if _, err := e.app.AllianceOverview(se, strconv.Itoa(year)); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("a country reading the overview: %v", err)
		}
		ov, err := e.app.AllianceOverview(sec, strconv.Itoa(year))
		if err != nil || len(ov.Members) != len(alliance.FoundingMembers) || len(ov.Quarters) != 8 || ov.Quarters[7].Label != strconv.Itoa(year)+"-Q4" {
			t.Errorf("overview: %d members, %+v, %v", len(ov.Members), ov.Quarters, err)
		}
	})
}

// TestReportGoal checks the +10% goal of target 1 and the direction of
// change, on values rather than records.
func TestReportGoal(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	ri := app.ReportIndicator{Better: "less", Value: v(10), Previous: v(20)}
	if ri.Improved() != 1 {
		t.Errorf("a shorter time is progress")
	}
	ri = app.ReportIndicator{Better: "more", Value: v(10), Previous: v(20)}
	if ri.Improved() != -1 {
		t.Errorf("fewer removals is a step back")
	}
	if (app.ReportIndicator{Value: v(10), Previous: v(20)}).Improved() != 0 {
		t.Errorf("no direction, no judgement")
	}
}
