package alliance_test

import (
	"strconv"
	"strings"
	"testing"

	"alliance"
)

func TestDeclarationTargetSet(t *testing.T) {
	s := alliance.DeclarationTargetSet()
	if s.Version != 0 || s.Label != alliance.TargetsVersion || len(s.Targets) != 4 {
		t.Fatalf("built-in set: %d %q %d targets", s.Version, s.Label, len(s.Targets))
	}
	if err := alliance.CheckTargets(s.Targets); err != nil {
		t.Errorf("the declaration's targets do not pass CheckTargets: %v", err)
	}
	// A deep copy: editing it leaves the declaration alone.
	s.Targets[0].Goals[0].Text = "changed"
	s.Targets[0].Goals[0].Indicators[0] = "changed"
	if g, _ := alliance.GoalByCode("1.1"); g.Text == "changed" || g.Indicators[0] == "changed" {
		t.Errorf("DeclarationTargetSet shares memory with DeclarationTargets")
	}
	if g, ok := alliance.DeclarationTargetSet().Goal("4.2"); !ok || g.Code != "4.2" {
		t.Errorf("Goal(4.2) = %+v, %v", g, ok)
	}
	if got := strings.Join(alliance.DeclarationTargetSet().GoalCodes(), ","); got != "1.1,2.1,2.2,3.1,3.2,4.1,4.2" {
		t.Errorf("GoalCodes = %s", got)
	}
	if alliance.TargetSetLabel(0) != alliance.TargetsVersion || alliance.TargetSetLabel(3) != alliance.TargetsVersion+"-rev3" {
		t.Errorf("labels: %q %q", alliance.TargetSetLabel(0), alliance.TargetSetLabel(3))
	}
}

func TestCheckTargets(t *testing.T) {
	edit := func(f func(ts []alliance.Target) []alliance.Target) []alliance.Target {
		return f(alliance.CloneTargets(alliance.DeclarationTargets))
	}
	tenGoals := func(ts []alliance.Target, n int) []alliance.Target {
		ts[1].Goals = nil
		for i := range n {
			ts[1].Goals = append(ts[1].Goals, alliance.Goal{Code: "2." + strconv.Itoa(i+1), Text: "x"})
		}
		return ts
	}
	for _, tc := range []struct {
		name  string
		ts    []alliance.Target
		field string // "" when valid
	}{
		{"declaration", alliance.DeclarationTargets, ""},
		{"edited text, added goal", edit(func(ts []alliance.Target) []alliance.Target {
			ts[0].Goals[0].Text = "Identify more victims."
			ts[0].Goals = append(ts[0].Goals, alliance.Goal{Code: "1.2", Text: "Support them.", Indicators: []string{"series_new"}})
			return ts
		}), ""},
		{"ten goals", edit(func(ts []alliance.Target) []alliance.Target { return tenGoals(ts, 10) }), ""},
		{"eleven goals", edit(func(ts []alliance.Target) []alliance.Target { return tenGoals(ts, 11) }), "targets[1].goals"},
		{"no goals", edit(func(ts []alliance.Target) []alliance.Target { ts[2].Goals = nil; return ts }), "targets[2].goals"},
		{"five targets", edit(func(ts []alliance.Target) []alliance.Target {
			return append(ts, alliance.Target{Number: 5, Title: "More", Goals: []alliance.Goal{{Code: "5.1", Text: "x"}}})
		}), "targets"},
		{"three targets", edit(func(ts []alliance.Target) []alliance.Target { return ts[:3] }), "targets"},
		{"out of order", edit(func(ts []alliance.Target) []alliance.Target { ts[2], ts[3] = ts[3], ts[2]; return ts }), "targets[2].number"},
		{"empty title", edit(func(ts []alliance.Target) []alliance.Target { ts[3].Title = " "; return ts }), "targets[3].title"},
		{"goal of another target", edit(func(ts []alliance.Target) []alliance.Target { ts[1].Goals[0].Code = "3.3"; return ts }), "targets[1].goals[0].code"},
		{"bad code", edit(func(ts []alliance.Target) []alliance.Target { ts[0].Goals[0].Code = "1.x"; return ts }), "targets[0].goals[0].code"},
		{"leading zero", edit(func(ts []alliance.Target) []alliance.Target { ts[0].Goals[0].Code = "1.01"; return ts }), "targets[0].goals[0].code"},
		{"no dot", edit(func(ts []alliance.Target) []alliance.Target { ts[0].Goals[0].Code = "1"; return ts }), "targets[0].goals[0].code"},
		{"duplicate code", edit(func(ts []alliance.Target) []alliance.Target { ts[1].Goals[1].Code = "2.1"; return ts }), "targets[1].goals[1].code"},
		{"empty text", edit(func(ts []alliance.Target) []alliance.Target { ts[1].Goals[0].Text = ""; return ts }), "targets[1].goals[0].text"},
		{"long text", edit(func(ts []alliance.Target) []alliance.Target {
			ts[1].Goals[0].Text = strings.Repeat("é", alliance.MaxTargetText+1)
			return ts
		}), "targets[1].goals[0].text"},
		{"longest text", edit(func(ts []alliance.Target) []alliance.Target {
			ts[1].Goals[0].Text = strings.Repeat("é", alliance.MaxTargetText)
			return ts
		}), ""},
		{"NUL", edit(func(ts []alliance.Target) []alliance.Target { ts[1].Goals[0].Text = "a\x00b"; return ts }), "targets[1].goals[0].text"},
		{"bad UTF-8", edit(func(ts []alliance.Target) []alliance.Target { ts[0].Title = "a\xffb"; return ts }), "targets[0].title"},
		{"unknown indicator", edit(func(ts []alliance.Target) []alliance.Target {
			ts[3].Goals[1].Indicators = append(ts[3].Goals[1].Indicators, "happiness")
			return ts
		}), "targets[3].goals[1].indicators[3]"},
		{"indicator twice", edit(func(ts []alliance.Target) []alliance.Target {
			ts[3].Goals[1].Indicators = append(ts[3].Goals[1].Indicators, "median_removal")
			return ts
		}), "targets[3].goals[1].indicators[3]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := alliance.CheckTargets(tc.ts)
			if tc.field == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != tc.field {
				t.Errorf("got %v (field %q), want an error on %s", err, alliance.ErrorField(err), tc.field)
			}
		})
	}
}

func TestCheckTargetsSuccessor(t *testing.T) {
	prev := alliance.CloneTargets(alliance.DeclarationTargets)
	prev[2].Goals = append(prev[2].Goals, alliance.Goal{Code: "3.3", Text: "Added in version 1."})

	next := alliance.CloneTargets(prev)
	next[2].Goals[2].Text = "Edited in version 2."
	if err := alliance.CheckTargetsSuccessor(prev, next); err != nil {
		t.Errorf("an edited text: %v", err)
	}
	next = alliance.CloneTargets(prev)
	next[2].Goals = next[2].Goals[:2]
	if err := alliance.CheckTargetsSuccessor(prev, next); alliance.ErrorField(err) != "targets[2].goals" || !strings.Contains(err.Error(), "3.3") {
		t.Errorf("a removed goal: %v", err)
	}
	next = alliance.CloneTargets(prev)
	next[0].Goals[0].Code = "1.2"
	if err := alliance.CheckTargetsSuccessor(prev, next); alliance.ErrorField(err) != "targets[0].goals" || !strings.Contains(err.Error(), "1.1") {
		t.Errorf("a renamed goal: %v", err)
	}
	next = alliance.CloneTargets(prev)
	next[0].Goals[0].Code = "x"
	if err := alliance.CheckTargetsSuccessor(prev, next); alliance.ErrorField(err) != "targets[0].goals[0].code" {
		t.Errorf("CheckTargets comes first: %v", err)
	}
}
