package app_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestCapabilityAssessments records a country's maturity levels as its own
// user, checks that they round-trip, the field errors, that a batch with
// one bad entry changes nothing, who may read and edit what, the audit row
// and the secretariat's view of every country.
func TestCapabilityAssessments(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se, nl := as(t, e.se), as(t, e.nl)
		sec := as(t, testutil.CreateUser(t, db, "INT-SECRETARIAT", "sec@example.org", alliance.RoleSecretariat))
		audits := func() int {
			t.Helper()
			var n int
			if err := db.SQL().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_events WHERE action = 'capabilities.put'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		if got := e.app.Capabilities(); len(got) != 21 || got[0].Code != "MNR-01" {
			t.Errorf("default capabilities: %d, first %+v", len(got), got[0])
		}
		got, err := e.app.PutCapabilityAssessments(se, "se", []app.CapabilityInput{
			{Capability: "MNR-12", Level: 4, Note: " Hotline since 2005. "},
			{Capability: "mnr-01", Level: 0},
			{Capability: "MNR-03", Level: 2, Note: "Grooming law in preparation."},
		})
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			Country, Capability string
			Level               int
			Note, By            string
		}
		rows := func(as []alliance.CapabilityAssessment) []row {
			var out []row
			for _, a := range as {
				if !a.UpdatedAt.Equal(testutil.Epoch) {
					t.Errorf("%s updated at %v, want the clock's %v", a.Capability, a.UpdatedAt, testutil.Epoch)
				}
				out = append(out, row{a.Country, a.Capability, a.Level, a.Note, a.UpdatedBy})
			}
			return out
		}
		by := e.se.Email
		want := []row{
			{"SE", "MNR-01", 0, "", by},
			{"SE", "MNR-03", 2, "Grooming law in preparation.", by},
			{"SE", "MNR-12", 4, "Hotline since 2005.", by},
		}
		if diff := cmp.Diff(want, rows(got)); diff != "" {
			t.Errorf("after the first put (-want +got):\n%s", diff)
		}
		if n := audits(); n != 1 {
			t.Errorf("%d audit rows, want 1", n)
		}

		// Every level round-trips; a later put replaces a level and keeps the rest.
		for level := range alliance.MaxCapabilityLevel + 1 {
			if _, err := e.app.PutCapabilityAssessments(se, "SE", []app.CapabilityInput{{Capability: "MNR-03", Level: level}}); err != nil {
				t.Fatalf("level %d: %v", level, err)
			}
			got, err := e.app.CapabilityAssessments(se, "SE")
			if err != nil || len(got) != 3 || got[1].Capability != "MNR-03" || got[1].Level != level || got[1].Note != "" {
				t.Errorf("after setting level %d: %+v, %v", level, got, err)
			}
		}

		for _, tc := range []struct {
			name  string
			in    []app.CapabilityInput
			field string
		}{
			{"none", nil, "capabilities"},
			{"unknown capability", []app.CapabilityInput{{Capability: "MNR-22", Level: 1}}, "capabilities[0].capability"},
			{"level too high", []app.CapabilityInput{{Capability: "MNR-01", Level: 1}, {Capability: "MNR-02", Level: 1}, {Capability: "MNR-04", Level: 5}}, "capabilities[2].level"},
			{"negative level", []app.CapabilityInput{{Capability: "MNR-01", Level: -1}}, "capabilities[0].level"},
			{"twice", []app.CapabilityInput{{Capability: "MNR-01", Level: 1}, {Capability: "mnr-01", Level: 2}}, "capabilities[1].capability"},
			{"long note", []app.CapabilityInput{{Capability: "MNR-01", Level: 1, Note: strings.Repeat("x", 2001)}}, "capabilities[0].note"},
			{"bad country", []app.CapabilityInput{{Capability: "MNR-01", Level: 1}}, "country"},
		} {
			cc := "SE"
			if tc.field == "country" {
				cc = "XX"
			}
			if _, err := e.app.PutCapabilityAssessments(se, cc, tc.in); alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != tc.field {
				t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
			}
		}
		// All or nothing: the good first entry of a refused batch is not kept.
		if got, err := e.app.CapabilityAssessments(se, "SE"); err != nil || len(got) != 3 || got[0].Level != 0 {
			t.Errorf("after refused puts: %+v, %v", got, err)
		}

		if _, err := e.app.PutCapabilityAssessments(nl, "SE", []app.CapabilityInput{{Capability: "MNR-01", Level: 3}}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("NL editing SE: %v", err)
		}
		if _, err := e.app.PutCapabilityAssessments(sec, "SE", []app.CapabilityInput{{Capability: "MNR-01", Level: 3}}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("the secretariat editing SE: %v", err)
		}
		if _, err := e.app.CapabilityAssessments(nl, "SE"); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("NL reading SE: %v", err)
		}
		if n := audits(); n != 1+alliance.MaxCapabilityLevel+1 {
			t.Errorf("%d audit rows, want one per accepted put (%d)", n, 1+alliance.MaxCapabilityLevel+1)
		}

		if _, err := e.app.PutCapabilityAssessments(nl, "NL", []app.CapabilityInput{{Capability: "MNR-16", Level: 3, Note: "Notice and takedown."}}); err != nil {
			t.Fatal(err)
		}
		if got, err := e.app.CapabilityAssessments(sec, "SE"); err != nil || len(got) != 3 {
			t.Errorf("the secretariat reading SE: %d, %v", len(got), err)
		}
		all, err := e.app.AllCapabilityAssessments(sec)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || len(all["SE"]) != 3 || len(all["NL"]) != 1 || all["NL"][0].Level != 3 || all["SE"][2].Capability != "MNR-12" {
			t.Errorf("every country: %+v", all)
		}
		if _, err := e.app.AllCapabilityAssessments(se); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("a country reading every country: %v", err)
		}
	})
}

// TestCapabilityList checks that a node's own list replaces the default.
func TestCapabilityList(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newIntakeEnv(t, db, app.Options{Capabilities: []alliance.Capability{{Code: "GOV-1", Domain: "Policy", Name: "National strategy"}}})
	se := as(t, e.se)
	if got := e.app.Capabilities(); len(got) != 1 || got[0].Code != "GOV-1" {
		t.Errorf("capabilities: %+v", got)
	}
	if _, err := e.app.PutCapabilityAssessments(se, "SE", []app.CapabilityInput{{Capability: "MNR-01", Level: 1}}); alliance.ErrorField(err) != "capabilities[0].capability" {
		t.Errorf("a default code on a node with its own list: %v", err)
	}
	if got, err := e.app.PutCapabilityAssessments(se, "SE", []app.CapabilityInput{{Capability: "GOV-1", Level: 1}}); err != nil || len(got) != 1 {
		t.Errorf("own list: %+v, %v", got, err)
	}
}
