package alliance

import (
	"testing"
	"time"
)

func TestTargetsAndIndicators(t *testing.T) {
	if len(DeclarationTargets) != 4 {
		t.Fatalf("%d targets", len(DeclarationTargets))
	}
	for _, tg := range DeclarationTargets {
		for _, g := range tg.Goals {
			for _, k := range g.Indicators {
				if _, ok := IndicatorByKey(k); !ok {
					t.Errorf("goal %s names unknown indicator %q", g.Code, k)
				}
			}
		}
	}
	for _, d := range Indicators {
		if d.Definition == "" || d.Name == "" {
			t.Errorf("indicator %s lacks a name or definition", d.Key)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	p, err := ParsePeriod("2026-Q3")
	if err != nil || !p.From.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) || !p.To.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-Q3: %+v %v", p, err)
	}
	if prev := p.Previous(); prev.Label != "2026-Q2" || !prev.To.Equal(p.From) {
		t.Errorf("previous of Q3: %+v", prev)
	}
	q1, _ := ParsePeriod("2026-Q1")
	if prev := q1.Previous(); prev.Label != "2025-Q4" {
		t.Errorf("previous of Q1: %+v", prev)
	}
	y, err := ParsePeriod("2025")
	if err != nil || y.Previous().Label != "2024" || !y.To.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2025: %+v %v", y, err)
	}
	for _, bad := range []string{"", "26", "2026-Q5", "2026-H1", "1999", "abcd"} {
		if _, err := ParsePeriod(bad); ErrorField(err) != "period" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
