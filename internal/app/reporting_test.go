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
	})
}
