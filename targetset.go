package alliance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on the targets the secretariat edits.
const (
	// TargetCount is how many policy targets there are: the declaration's
	// four, which stay (their titles and goals may be edited).
	TargetCount = 4
	// MaxGoalsPerTarget bounds the goals of one target.
	MaxGoalsPerTarget = 10
	// MaxTargetText bounds a target's title and a goal's text, in
	// characters.
	MaxTargetText = 2000
)

// TargetSet is one version of the targets and their goals. Version 0 is
// the declaration's text, built in (DeclarationTargetSet); the secretariat's
// edits are versions 1, 2, … and each keeps the goal codes of the one
// before, since commitments and progress updates refer to them.
type TargetSet struct {
	Version int
	Label   string // e.g. "declaration-2012-12", "declaration-2012-12-rev1"
	Targets []Target
	Note    string    // why it changed; "" for version 0
	By      string    // who changed it; "" for version 0
	At      time.Time // when; zero for version 0
}

// DeclarationTargetSet returns the built-in version 0: the targets as the
// 2012 declaration states them (a deep copy of DeclarationTargets).
func DeclarationTargetSet() TargetSet {
	return TargetSet{Version: 0, Label: TargetSetLabel(0), Targets: CloneTargets(DeclarationTargets),
		Note: "The text of the December 2012 declaration."}
}

// TargetSetLabel names version n of the targets: TargetsVersion for the
// declaration's text, TargetsVersion + "-revN" for the secretariat's N-th
// edit.
func TargetSetLabel(n int) string {
	if n == 0 {
		return TargetsVersion
	}
	return TargetsVersion + "-rev" + strconv.Itoa(n)
}

// CloneTargets returns a deep copy of ts.
func CloneTargets(ts []Target) []Target {
	out := make([]Target, len(ts))
	for i, t := range ts {
		out[i] = Target{Number: t.Number, Title: t.Title, Goals: make([]Goal, len(t.Goals))}
		for j, g := range t.Goals {
			out[i].Goals[j] = Goal{Code: g.Code, Text: g.Text, Indicators: slices.Clone(g.Indicators)}
		}
	}
	return out
}

// Goal returns the goal of the set with the code.
func (s TargetSet) Goal(code string) (Goal, bool) {
	for _, t := range s.Targets {
		for _, g := range t.Goals {
			if g.Code == code {
				return g, true
			}
		}
	}
	return Goal{}, false
}

// GoalCodes returns the codes of the set's goals, in order.
func (s TargetSet) GoalCodes() []string {
	var out []string
	for _, t := range s.Targets {
		for _, g := range t.Goals {
			out = append(out, g.Code)
		}
	}
	return out
}

// CheckTargets validates a set of targets: the four targets numbered 1 to
// 4 in order, each with a title and 1 to MaxGoalsPerTarget goals; goal
// codes "N.M" with N the target's number, each once; texts of 1 to
// MaxTargetText characters of valid UTF-8 without NUL; known indicators,
// each once per goal. Errors are field errors such as
// targets[1].goals[0].text. Callers trim the texts first.
func CheckTargets(ts []Target) error {
	if len(ts) != TargetCount {
		return FieldErrorf("targets", "There are %d targets, numbered 1 to %d; not %d.", TargetCount, TargetCount, len(ts))
	}
	seen := map[string]string{} // goal code → field
	for i, t := range ts {
		field := fmt.Sprintf("targets[%d]", i)
		if t.Number != i+1 {
			return FieldErrorf(field+".number", "Target %d is number %d, not %d: the targets are numbered 1 to %d in order.", i+1, i+1, t.Number, TargetCount)
		}
		if err := checkTargetText(field+".title", t.Title); err != nil {
			return err
		}
		if len(t.Goals) == 0 || len(t.Goals) > MaxGoalsPerTarget {
			return FieldErrorf(field+".goals", "A target has 1 to %d goals, not %d.", MaxGoalsPerTarget, len(t.Goals))
		}
		for j, g := range t.Goals {
			gf := fmt.Sprintf("%s.goals[%d]", field, j)
			if !validGoalCode(g.Code, t.Number) {
				return FieldErrorf(gf+".code", "A goal code of target %d is %d.M with M a number from 1 (e.g. %d.1), not %q.", t.Number, t.Number, t.Number, g.Code)
			}
			if other, dup := seen[g.Code]; dup {
				return FieldErrorf(gf+".code", "Goal %s is also %s.", g.Code, other)
			}
			seen[g.Code] = gf
			if err := checkTargetText(gf+".text", g.Text); err != nil {
				return err
			}
			for k, key := range g.Indicators {
				kf := fmt.Sprintf("%s.indicators[%d]", gf, k)
				if _, ok := IndicatorByKey(key); !ok {
					return FieldErrorf(kf, "Unknown indicator %q; GET /api/v1/targets lists the indicators.", key)
				}
				if slices.Index(g.Indicators, key) < k {
					return FieldErrorf(kf, "Indicator %s is named twice.", key)
				}
			}
		}
	}
	return nil
}

// CheckTargetsSuccessor validates next as the version after prev:
// CheckTargets, and every goal code of prev still present, since
// commitments and progress updates refer to goals by code.
func CheckTargetsSuccessor(prev, next []Target) error {
	if err := CheckTargets(next); err != nil {
		return err
	}
	have := TargetSet{Targets: next}
	for _, t := range prev {
		for _, g := range t.Goals {
			if _, ok := have.Goal(g.Code); ok {
				continue
			}
			field := "targets"
			if i := t.Number - 1; i >= 0 && i < len(next) {
				field = fmt.Sprintf("targets[%d].goals", i)
			}
			return FieldErrorf(field, "Goal %s is missing: goals are not removed, as countries' commitments and progress updates refer to them; edit its text instead.", g.Code)
		}
	}
	return nil
}

// checkTargetText checks a title or goal text.
func checkTargetText(field, s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return FieldErrorf(field, "Text of valid UTF-8 without NUL characters.")
	}
	if n := utf8.RuneCountInString(s); n == 0 || strings.TrimSpace(s) == "" || n > MaxTargetText {
		return FieldErrorf(field, "Text of 1 to %d characters.", MaxTargetText)
	}
	return nil
}

// validGoalCode reports whether code is "N.M" with N the target's number
// and M a positive number without leading zeros.
func validGoalCode(code string, target int) bool {
	n, m, ok := strings.Cut(code, ".")
	if !ok || n != strconv.Itoa(target) || m == "" || len(m) > 3 || m[0] == '0' {
		return false
	}
	for _, c := range m {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
