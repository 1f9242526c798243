package alliance

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Target is one of the four policy targets of the December 2012
// declaration of the Global Alliance, with its operational goals.
type Target struct {
	Number int
	Title  string
	Goals  []Goal
}

// Goal is an operational goal of a target.
type Goal struct {
	Code string // "1.1"
	Text string
	// Indicators are the keys of the indicators that show progress on it.
	Indicators []string
}

// TargetsVersion names the text of the targets below.
const TargetsVersion = "declaration-2012-12"

// DeclarationTargets are the four policy targets and their goals, as the
// 2012 declaration states them.
var DeclarationTargets = []Target{
	{1, "Enhance efforts to identify victims and ensure that they receive the necessary assistance, support and protection", []Goal{
		{"1.1", "Increase the number of identified victims in INTERPOL's International Child Sexual Exploitation (ICSE) database by at least 10% a year.",
			[]string{"series_identified", "series_new"}},
	}},
	{2, "Enhance efforts to investigate cases of child sexual abuse online and to identify and prosecute offenders", []Goal{
		{"2.1", "Establish the necessary framework for the criminalisation of child sexual abuse online and the effective prosecution of offenders.", nil},
		{"2.2", "Improve the joint efforts of law enforcement authorities across Global Alliance countries to investigate and prosecute child sexual abuse online.",
			[]string{"items_forwarded", "items_received"}},
	}},
	{3, "Enhance efforts to increase public awareness of the risks posed by children's activities online, including grooming and self-production of images", []Goal{
		{"3.1", "Develop, improve or support appropriate public awareness campaigns or other measures on the risks of children's activities online.",
			[]string{"awareness_actions"}},
		{"3.2", "Share best practice among Global Alliance countries for public awareness efforts.", nil},
	}},
	{4, "Reduce as much as possible the availability of child pornography online and reduce as much as possible the re-victimisation of children", []Goal{
		{"4.1", "Undertake to remove known child sexual abuse material hosted in the country.",
			[]string{"reports_received", "items_hosted", "items_removed", "bank_entries_contributed"}},
		{"4.2", "Increase the speed of notice and takedown procedures as much as possible without jeopardising criminal investigations.",
			[]string{"median_removal", "p90_removal", "removed_within_3d"}},
	}},
}

// IndicatorDef is an indicator the alliance reports, with its definition
// (shown next to every value).
type IndicatorDef struct {
	Key        string
	Name       string
	Definition string
	Unit       string // count, seconds, share
	Manual     bool   // entered by the country, not computed
	// Better says which way is progress: "more", "less", or "" where
	// neither is (forwarding depends on where material is hosted).
	Better string
	// Growth is the yearly growth a goal asks for, e.g. 0.10 for target
	// 1's +10% identified victims; 0 when the goal sets no number.
	Growth float64
}

// Indicators are the indicators computed from the platform's own records
// (and the one entered by hand).
var Indicators = []IndicatorDef{
	{"reports_received", "Reports received", "Reports received in the period by the country's organisations on this node.", "count", false, "", 0},
	{"items_hosted", "Items hosted in the country", "Reported URLs first reported in the period and traced to an address in the country.", "count", false, "", 0},
	{"items_removed", "Items removed", "Illegal items hosted in the country whose removal was recorded in the period.", "count", false, "more", 0},
	{"median_removal", "Median time to removal", "Over illegal items hosted in the country reported in the period and removed: median time from the report to the recorded removal.", "seconds", false, "less", 0},
	{"p90_removal", "90th percentile time to removal", "As the median, the 90th percentile (nearest rank).", "seconds", false, "less", 0},
	{"removed_within_3d", "Share removed within 3 days", "Of the illegal items hosted in the country reported in the period, the share removed within 3 days of the report.", "share", false, "more", 0},
	{"items_forwarded", "Items forwarded to other countries", "Items received by the country's organisations in the period that were routed to another member country's hotline or node.", "count", false, "", 0},
	{"items_received", "Items received from other countries", "Items received in the period from another country's hotline node.", "count", false, "", 0},
	{"bank_entries_contributed", "Hash entries contributed", "Active entries first seen in the period in the country's banks that are shared with another organisation or node.", "count", false, "more", 0},
	{"series_identified", "Series identified", "Victim-identification series of the country's agencies identified in the period (year).", "count", false, "more", 0.10},
	{"series_new", "New series", "Series of the country's agencies first seen in the period (year).", "count", false, "", 0},
	{"awareness_actions", "Awareness actions", "Public awareness actions the country reports for the period (entered by hand).", "count", true, "more", 0},
}

// IndicatorByKey returns the definition of an indicator.
func IndicatorByKey(key string) (IndicatorDef, bool) {
	for _, d := range Indicators {
		if d.Key == key {
			return d, true
		}
	}
	return IndicatorDef{}, false
}

// Period is a reporting period: a year or a quarter, in UTC.
type Period struct {
	Label string // "2026" or "2026-Q3"
	From  time.Time
	To    time.Time // exclusive
}

// ParsePeriod reads "YYYY" or "YYYY-Qn".
func ParsePeriod(s string) (Period, error) {
	bad := FieldErrorf("period", "A period is a year (2026) or a quarter (2026-Q3), not %q.", s)
	y, q, quarter := strings.Cut(strings.TrimSpace(s), "-Q")
	year, err := strconv.Atoi(y)
	if err != nil || len(y) != 4 || year < 2000 || year > 2100 {
		return Period{}, bad
	}
	if !quarter {
		from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
		return Period{Label: y, From: from, To: from.AddDate(1, 0, 0)}, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > 4 {
		return Period{}, bad
	}
	from := time.Date(year, time.Month(3*(n-1)+1), 1, 0, 0, 0, 0, time.UTC)
	return Period{Label: fmt.Sprintf("%d-Q%d", year, n), From: from, To: from.AddDate(0, 3, 0)}, nil
}

// Previous is the period before p, of the same length.
func (p Period) Previous() Period {
	if strings.Contains(p.Label, "-Q") {
		prev := p.From.AddDate(0, -3, 0)
		return Period{Label: fmt.Sprintf("%d-Q%d", prev.Year(), int(prev.Month()-1)/3+1), From: prev, To: p.From}
	}
	prev := p.From.AddDate(-1, 0, 0)
	return Period{Label: strconv.Itoa(prev.Year()), From: prev, To: p.From}
}

// LastQuarter is the last quarter of p (p itself for a quarter).
func (p Period) LastQuarter() Period {
	last := p.To.AddDate(0, -3, 0)
	return Period{Label: fmt.Sprintf("%d-Q%d", last.Year(), int(last.Month()-1)/3+1), From: last, To: p.To}
}

// IndicatorValue is one indicator of a country and period; Value is nil
// when the period has no data for it.
type IndicatorValue struct {
	Key   string
	Value *float64
}

// Commitment is a country's commitment under one goal: what was already
// done (the baseline), the actions it committed to, and its progress
// updates per reporting period.
type Commitment struct {
	Country      string
	Goal         string // goal code, "4.2"
	Baseline     string
	BaselineDate string // YYYY-MM-DD
	Actions      []CommitmentAction
	Progress     []ProgressUpdate
	UpdatedBy    string
	UpdatedAt    time.Time
}

// ActionStatuses are the states of a committed action.
var ActionStatuses = []string{"planned", "in_progress", "done", "dropped"}

// CommitmentAction is an action a country committed to.
type CommitmentAction struct {
	ID          int64
	Description string
	OwnerOrg    string
	Due         string // YYYY-MM-DD
	Status      string
	CreatedAt   time.Time
}

// ProgressUpdate is a country's report on a goal for a period: a narrative,
// values of the manual indicators, and links to evidence.
type ProgressUpdate struct {
	ID        int64
	Goal      string
	Period    string
	Narrative string
	Values    map[string]float64
	Evidence  []string
	By        string
	At        time.Time
}

// UpdateRequest is the secretariat's request to a country for its
// progress updates of a period, by a deadline.
type UpdateRequest struct {
	Country  string
	Period   string
	Deadline string // YYYY-MM-DD
	Note     string
	By       string
	At       time.Time
}

// GoalByCode returns a goal of the declaration's built-in targets
// (version 0). The targets in force are the secretariat's latest
// TargetSet, which internal/app reads; use its Goal method.
func GoalByCode(code string) (Goal, bool) {
	for _, t := range DeclarationTargets {
		for _, g := range t.Goals {
			if g.Code == code {
				return g, true
			}
		}
	}
	return Goal{}, false
}
