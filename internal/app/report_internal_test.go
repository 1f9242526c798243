package app

import (
	"testing"

	"alliance"
)

// TestReportGrowthGoal checks target 1's +10% a year: last year's 10
// identified series ask for 11 this year, rounded up; a quarter has no
// yearly goal.
func TestReportGrowthGoal(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	values := func(identified float64) []alliance.IndicatorValue {
		out := make([]alliance.IndicatorValue, len(alliance.Indicators))
		for i, d := range alliance.Indicators {
			out[i] = alliance.IndicatorValue{Key: d.Key, Value: v(0)}
			if d.Key == "series_identified" {
				out[i].Value = v(identified)
			}
		}
		return out
	}
	find := func(r CountryReport) ReportIndicator {
		for _, g := range r.Targets[0].Goals[0].Indicators {
			if g.Key == "series_identified" {
				return g
			}
		}
		t.Fatal("no series_identified under goal 1.1")
		return ReportIndicator{}
	}
	year, _ := alliance.ParsePeriod("2026")
	for _, tc := range []struct {
		now, before float64
		goal        float64
		met         bool
	}{{11, 10, 11, true}, {10, 10, 11, false}, {4, 3, 4, true}} {
		ri := find(buildReport(CountryIndicators{Country: "SE", Period: year, Values: values(tc.now), Previous: values(tc.before)}, alliance.DeclarationTargets, nil, nil))
		if ri.GoalValue == nil || *ri.GoalValue != tc.goal || ri.GoalMet == nil || *ri.GoalMet != tc.met {
			t.Errorf("%v after %v: goal %v met %v, want %v %v", tc.now, tc.before, ri.GoalValue, ri.GoalMet, tc.goal, tc.met)
		}
		if want := tc.now/tc.before - 1; ri.Change == nil || *ri.Change != want {
			t.Errorf("change %v, want %v", ri.Change, want)
		}
	}
	q, _ := alliance.ParsePeriod("2026-Q2")
	if ri := find(buildReport(CountryIndicators{Country: "SE", Period: q, Values: values(5), Previous: values(4)}, alliance.DeclarationTargets, nil, nil)); ri.GoalValue != nil {
		t.Errorf("a quarter has no yearly goal: %v", *ri.GoalValue)
	}
	if ri := find(buildReport(CountryIndicators{Country: "SE", Period: year, Values: values(2), Previous: values(0)}, alliance.DeclarationTargets, nil, nil)); ri.GoalValue != nil || ri.Change != nil {
		t.Errorf("growth from zero is not a percentage: %+v", ri)
	}
}
