package app_test

import (
	"strconv"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestIndicators checks a country's indicators against a hand count of
// the items behind them, and who may ask.
func TestIndicators(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se := as(t, e.se)
		e.submit(t, se, app.ReportInput{URLs: []string{"http://se.example.test/a", "http://se.example.test/b", "http://nl.example.test/c"}})
		e.submit(t, as(t, e.nl), app.ReportInput{URLs: []string{"http://nl.example.test/d"}})
		e.traceAll(t, e.app)
		r, err := e.app.Queue(se, app.QueueFilter{})
		if err != nil || len(r) != 2 {
			t.Fatalf("queue: %v %v", r, err)
		}
		if _, err := e.app.Assess(se, r[0].ID, illegal); err != nil {
			t.Fatal(err)
		}
		year := strconv.Itoa(testutil.Epoch.Year())
		got, err := e.app.Indicators(se, "se", year)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{"reports_received": 1, "items_hosted": 2, "items_removed": 0, "items_forwarded": 1,
			"items_received": 0, "removed_within_3d": 0, "series_identified": 0, "series_new": 0, "bank_entries_contributed": 0}
		for _, v := range got.Values {
			w, ok := want[v.Key]
			switch {
			case !ok && v.Value != nil:
				t.Errorf("%s = %v, want no value", v.Key, *v.Value)
			case ok && (v.Value == nil || *v.Value != w):
				t.Errorf("%s = %v, want %v", v.Key, v.Value, w)
			}
		}
		if got.Period.Label != year || len(got.Previous) != len(alliance.Indicators) {
			t.Errorf("period %+v, previous %d values", got.Period, len(got.Previous))
		}
		nl, _ := e.app.Indicators(as(t, e.nl), "NL", year)
		for _, v := range nl.Values {
			if v.Key == "items_hosted" && (v.Value == nil || *v.Value != 2) {
				t.Errorf("NL items hosted: %v, want 2 (one reported in SE, one in NL)", v.Value)
			}
		}
		if _, err := e.app.Indicators(as(t, e.nl), "SE", year); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("NL asking about SE: %v", err)
		}
		sec := as(t, testutil.CreateUser(t, db, "INT-SECRETARIAT", "sec@example.org", alliance.RoleSecretariat))
		if _, err := e.app.Indicators(sec, "SE", year+"-Q1"); err != nil {
			t.Errorf("the secretariat: %v", err)
		}
		if _, err := e.app.Indicators(se, "XX", year); alliance.ErrorField(err) != "country" {
			t.Errorf("unknown country: %v", err)
		}
		if _, err := e.app.Indicators(se, "SE", "last year"); alliance.ErrorField(err) != "period" {
			t.Errorf("bad period: %v", err)
		}
	})
}
