package app_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestTargets edits the targets as the secretariat and checks the new
// version, that the country report and the goal checks follow it, who may
// edit, the field errors, the audit row and the history.
func TestTargets(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se := as(t, e.se)
		sec := as(t, testutil.CreateUser(t, db, "INT-SECRETARIAT", "sec@example.org", alliance.RoleSecretariat))
		year := strconv.Itoa(testutil.Epoch.Year())
		audits := func() int {
			t.Helper()
			var n int
			if err := db.SQL().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_events WHERE action = 'targets.put'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// Before any edit: the declaration's text, version 0.
		s, err := e.app.TargetSet(se)
		if err != nil || s.Version != 0 || s.Label != alliance.TargetsVersion || len(s.Targets) != 4 {
			t.Fatalf("built-in targets: %+v, %v", s, err)
		}
		if _, err := e.app.TargetSet(context.Background()); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("anonymous: %v", err)
		}
		rep, err := e.app.CountryReport(se, "SE", year)
		if err != nil || rep.TargetsVersion != alliance.TargetsVersion {
			t.Fatalf("report before the edit: %q, %v", rep.TargetsVersion, err)
		}
		if _, err := e.app.PutCommitment(se, "SE", app.CommitmentInput{Goal: "1.2"}); alliance.ErrorField(err) != "goal" {
			t.Errorf("goal 1.2 before it exists: %v", err)
		}

		// The secretariat edits goal 1.1 and adds goal 1.2.
		next := alliance.CloneTargets(s.Targets)
		next[0].Goals[0].Text = "  Identify more victims in the ICSE database.  "
		next[0].Goals = append(next[0].Goals, alliance.Goal{Code: "1.2", Text: "Refer identified victims to support.", Indicators: []string{"series_identified"}})
		v1, err := e.app.PutTargets(sec, next, " Clearer goal 1.1; goal 1.2 added. ")
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.Label != "declaration-2012-12-rev1" || v1.Note != "Clearer goal 1.1; goal 1.2 added." ||
			v1.By != "sec@example.org" || !v1.At.Equal(testutil.Epoch) || v1.Targets[0].Goals[0].Text != "Identify more victims in the ICSE database." {
			t.Errorf("version 1: %+v", v1)
		}
		if n := audits(); n != 1 {
			t.Errorf("%d audit rows, want 1", n)
		}
		if s, err := e.app.TargetSet(se); err != nil || s.Version != 1 || len(s.Targets[0].Goals) != 2 {
			t.Errorf("targets in force after the edit: %+v, %v", s, err)
		}

		// The report follows version 1; commitments under the new goal are accepted.
		if _, err := e.app.PutCommitment(se, "SE", app.CommitmentInput{Goal: "1.2", Baseline: "Referral in place."}); err != nil {
			t.Fatalf("a commitment under the new goal: %v", err)
		}
		if _, err := e.app.AddProgress(se, "SE", app.ProgressInput{Goal: "1.2", Period: year, Narrative: "Twelve referrals."}); err != nil {
			t.Fatalf("progress under the new goal: %v", err)
		}
		if _, err := e.app.PutCommitment(se, "SE", app.CommitmentInput{Goal: "9.9"}); alliance.ErrorField(err) != "goal" ||
			!strings.Contains(err.Error(), "1.1, 1.2, 2.1") {
			t.Errorf("an unknown goal: %v", err)
		}
		rep, err = e.app.CountryReport(sec, "SE", year)
		if err != nil {
			t.Fatal(err)
		}
		if rep.TargetsVersion != "declaration-2012-12-rev1" || len(rep.Targets) != 4 || len(rep.Targets[0].Goals) != 2 {
			t.Fatalf("report after the edit: %q, %+v", rep.TargetsVersion, rep.Targets)
		}
		if g := rep.Targets[0].Goals[0]; g.Text != "Identify more victims in the ICSE database." {
			t.Errorf("goal 1.1 in the report: %q", g.Text)
		}
		if g := rep.Targets[0].Goals[1]; g.Code != "1.2" || g.Commitment == nil || g.Commitment.Baseline != "Referral in place." ||
			len(g.Commitment.Progress) != 1 || len(g.Indicators) != 1 || g.Indicators[0].Key != "series_identified" {
			t.Errorf("goal 1.2 in the report: %+v", g)
		}

		// Only the secretariat edits.
		if _, err := e.app.PutTargets(se, next, "mine"); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("a country's user editing the targets: %v", err)
		}
		if _, err := e.app.PutTargets(context.Background(), next, "mine"); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("anonymous editing the targets: %v", err)
		}

		// Field errors; none of them saves anything.
		edit := func(f func(ts []alliance.Target) []alliance.Target) []alliance.Target {
			return f(alliance.CloneTargets(v1.Targets))
		}
		for _, tc := range []struct {
			name  string
			ts    []alliance.Target
			note  string
			field string
		}{
			{"bad goal code", edit(func(ts []alliance.Target) []alliance.Target { ts[1].Goals[0].Code = "3.9"; return ts }), "x", "targets[1].goals[0].code"},
			{"unknown indicator", edit(func(ts []alliance.Target) []alliance.Target {
				ts[3].Goals[0].Indicators = []string{"items_removed", "happiness"}
				return ts
			}), "x", "targets[3].goals[0].indicators[1]"},
			{"removed goal", edit(func(ts []alliance.Target) []alliance.Target { ts[0].Goals = ts[0].Goals[:1]; return ts }), "x", "targets[0].goals"},
			{"five targets", edit(func(ts []alliance.Target) []alliance.Target {
				return append(ts, alliance.Target{Number: 5, Title: "Fifth", Goals: []alliance.Goal{{Code: "5.1", Text: "x"}}})
			}), "x", "targets"},
			{"empty text", edit(func(ts []alliance.Target) []alliance.Target { ts[2].Goals[1].Text = "   "; return ts }), "x", "targets[2].goals[1].text"},
			{"no note", edit(func(ts []alliance.Target) []alliance.Target { return ts }), " ", "note"},
			{"long note", edit(func(ts []alliance.Target) []alliance.Target { return ts }), strings.Repeat("n", 2001), "note"},
		} {
			if _, err := e.app.PutTargets(sec, tc.ts, tc.note); alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != tc.field {
				t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
			}
		}

		// The same targets again make no new version.
		if same, err := e.app.PutTargets(sec, v1.Targets, "Again."); err != nil || same.Version != 1 || same.Note != v1.Note {
			t.Errorf("the same targets again: %+v, %v", same, err)
		}
		if n := audits(); n != 1 {
			t.Errorf("%d audit rows after refused and unchanged puts, want 1", n)
		}

		hist, err := e.app.TargetSetHistory(se)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Version != 1 || hist[0].Label != v1.Label || hist[0].Targets[0].Goals[1].Code != "1.2" ||
			hist[1].Version != 0 || hist[1].Label != alliance.TargetsVersion || len(hist[1].Targets[0].Goals) != 1 {
			t.Errorf("history: %+v", hist)
		}
		if _, err := e.app.TargetSetHistory(context.Background()); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("anonymous history: %v", err)
		}
	})
}
