package app

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/store"
)

// CountryReport is a country's report for a period, generated from the
// platform's records: per target and goal, the commitment with the
// period's progress, and the indicators with the change against the
// previous period and against the goal. It is also the export format (JSON
// through its tags, CSV through CSV), defined once for the API and the web.
type CountryReport struct {
	Country  string          `json:"country"`
	Name     string          `json:"name"`
	Period   string          `json:"period"`
	Previous string          `json:"previous_period"`
	Targets  []ReportTarget  `json:"targets"`
	Requests []ReportRequest `json:"update_requests"`
	// HasData is false when nothing was recorded for the country in the
	// period: no indicator above zero and no progress update.
	HasData bool `json:"has_data"`
	// TargetsVersion is the label of the version of the targets the
	// report follows: those in force when it was generated.
	TargetsVersion string `json:"targets_version"`
}

// ReportTarget is one policy target in a report.
type ReportTarget struct {
	Number int          `json:"number"`
	Title  string       `json:"title"`
	Goals  []ReportGoal `json:"goals"`
}

// ReportGoal is one goal in a report: the country's commitment under it
// (nil when it made none) and its indicators.
type ReportGoal struct {
	Code       string            `json:"code"`
	Text       string            `json:"text"`
	Commitment *ReportCommitment `json:"commitment"`
	Indicators []ReportIndicator `json:"indicators"`
}

// ReportCommitment is a commitment with only the period's progress.
type ReportCommitment struct {
	Baseline     string           `json:"baseline"`
	BaselineDate string           `json:"baseline_date"`
	Actions      []ReportAction   `json:"actions"`
	Progress     []ReportProgress `json:"progress"`
	UpdatedBy    string           `json:"updated_by"`
}

// ReportAction is a committed action.
type ReportAction struct {
	ID          int64  `json:"id"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Due         string `json:"due"`
	Status      string `json:"status"`
}

// ReportProgress is a progress update.
type ReportProgress struct {
	Goal      string             `json:"goal"`
	Period    string             `json:"period"`
	Narrative string             `json:"narrative"`
	Values    map[string]float64 `json:"values"`
	Evidence  []string           `json:"evidence"`
	By        string             `json:"by"`
	At        time.Time          `json:"at"`
}

// NewReportProgress is a progress update as reports and the API show it.
func NewReportProgress(pu alliance.ProgressUpdate) ReportProgress {
	return ReportProgress{pu.Goal, pu.Period, pu.Narrative, pu.Values, pu.Evidence, pu.By, pu.At.UTC()}
}

// ReportRequest is the secretariat's request for an update.
type ReportRequest struct {
	Period   string `json:"period"`
	Deadline string `json:"deadline"`
	Note     string `json:"note"`
	By       string `json:"by"`
}

// ReportIndicator is an indicator's value in a report. Change is the
// relative change from the previous period (nil without two values or
// from zero); GoalValue is what the goal asks for this period (nil where
// the goal sets no number) and GoalMet whether the value reaches it.
type ReportIndicator struct {
	Key        string   `json:"key"`
	Name       string   `json:"name"`
	Definition string   `json:"definition"`
	Unit       string   `json:"unit"`
	Better     string   `json:"better,omitempty"`
	Value      *float64 `json:"value"`
	Previous   *float64 `json:"previous"`
	Change     *float64 `json:"change"`
	GoalValue  *float64 `json:"goal_value"`
	GoalMet    *bool    `json:"goal_met"`
}

// Improved says whether the change is progress (+1), a step back (-1) or
// neither (0).
func (ri ReportIndicator) Improved() int {
	if ri.Value == nil || ri.Previous == nil || *ri.Value == *ri.Previous {
		return 0
	}
	up := *ri.Value > *ri.Previous
	switch {
	case ri.Better == "more" && up, ri.Better == "less" && !up:
		return 1
	case ri.Better == "":
		return 0
	}
	return -1
}

// inPeriod reports whether an update for period label pu belongs to the
// report of period label p: its own, or a quarter of a year.
func inPeriod(pu, p string) bool { return pu == p || strings.HasPrefix(pu, p+"-Q") }

// CountryReport generates a country's report for a period (its own users
// and the secretariat).
func (a *App) CountryReport(ctx context.Context, cc, period string) (CountryReport, error) {
	ind, err := a.Indicators(ctx, cc, period)
	if err != nil {
		return CountryReport{}, err
	}
	cs, rqs, err := a.Commitments(ctx, ind.Country)
	if err != nil {
		return CountryReport{}, err
	}
	set, err := a.TargetSet(ctx)
	if err != nil {
		return CountryReport{}, err
	}
	out := buildReport(ind, set.Targets, cs, rqs)
	out.TargetsVersion = set.Label
	return out, nil
}

// buildReport builds the report of the targets given (the version in
// force) from a country's indicators, commitments and update requests.
func buildReport(ind CountryIndicators, targets []alliance.Target, cs []alliance.Commitment, rqs []alliance.UpdateRequest) CountryReport {
	out := CountryReport{Country: ind.Country, Name: alliance.CountryName(ind.Country), Period: ind.Period.Label,
		Previous: ind.Period.Previous().Label, Targets: []ReportTarget{}, Requests: []ReportRequest{}}
	values := map[string][2]*float64{}
	for i, v := range ind.Values {
		values[v.Key] = [2]*float64{v.Value, ind.Previous[i].Value}
		if v.Value != nil && *v.Value != 0 {
			out.HasData = true
		}
	}
	yearly := !strings.Contains(ind.Period.Label, "-Q")
	for _, t := range targets {
		rt := ReportTarget{Number: t.Number, Title: t.Title, Goals: []ReportGoal{}}
		for _, g := range t.Goals {
			rg := ReportGoal{Code: g.Code, Text: g.Text, Indicators: []ReportIndicator{}}
			if i := slices.IndexFunc(cs, func(c alliance.Commitment) bool { return c.Goal == g.Code }); i >= 0 {
				rg.Commitment = reportCommitment(cs[i], ind.Period.Label)
				if len(rg.Commitment.Progress) > 0 {
					out.HasData = true
				}
			}
			for _, k := range g.Indicators {
				d, _ := alliance.IndicatorByKey(k)
				v := values[k]
				ri := ReportIndicator{Key: d.Key, Name: d.Name, Definition: d.Definition, Unit: d.Unit, Better: d.Better,
					Value: v[0], Previous: v[1]}
				if v[0] != nil && v[1] != nil && *v[1] != 0 {
					c := *v[0] / *v[1] - 1
					ri.Change = &c
				}
				// A yearly growth goal is measured year on year.
				if d.Growth > 0 && yearly && v[1] != nil && *v[1] > 0 {
					goal := math.Ceil(*v[1] * (1 + d.Growth))
					ri.GoalValue = &goal
					if v[0] != nil {
						met := *v[0] >= goal
						ri.GoalMet = &met
					}
				}
				rg.Indicators = append(rg.Indicators, ri)
			}
			rt.Goals = append(rt.Goals, rg)
		}
		out.Targets = append(out.Targets, rt)
	}
	for _, r := range rqs {
		out.Requests = append(out.Requests, ReportRequest{Period: r.Period, Deadline: r.Deadline, Note: r.Note, By: r.By})
	}
	return out
}

// reportCommitment converts a commitment, keeping only the progress of
// period p.
func reportCommitment(c alliance.Commitment, p string) *ReportCommitment {
	rc := &ReportCommitment{Baseline: c.Baseline, BaselineDate: c.BaselineDate, UpdatedBy: c.UpdatedBy,
		Actions: []ReportAction{}, Progress: []ReportProgress{}}
	for _, a := range c.Actions {
		rc.Actions = append(rc.Actions, ReportAction{a.ID, a.Description, a.OwnerOrg, a.Due, a.Status})
	}
	for _, pu := range c.Progress {
		if inPeriod(pu.Period, p) {
			rc.Progress = append(rc.Progress, NewReportProgress(pu))
		}
	}
	return rc
}

// CSVHeader is the first row of a report's CSV export.
var CSVHeader = []string{"country", "period", "target", "goal", "indicator", "unit", "value", "previous_period", "previous", "change", "goal_value", "goal_met", "definition"}

// CSV returns the report's indicators as CSV rows, the header first: one
// row per goal and indicator, numbers in plain decimal, empty where there
// is no value.
func (r CountryReport) CSV() [][]string {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	rows := [][]string{CSVHeader}
	for _, t := range r.Targets {
		for _, g := range t.Goals {
			for _, i := range g.Indicators {
				met := ""
				if i.GoalMet != nil {
					met = strconv.FormatBool(*i.GoalMet)
				}
				rows = append(rows, []string{r.Country, r.Period, strconv.Itoa(t.Number), g.Code, i.Key, i.Unit,
					num(i.Value), r.Previous, num(i.Previous), num(i.Change), num(i.GoalValue), met, i.Definition})
			}
		}
	}
	return rows
}

// WriteCSV writes the report's CSV export.
func (r CountryReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(r.CSV()); err != nil {
		return fmt.Errorf("app: write report of %s %s as csv: %w", r.Country, r.Period, err)
	}
	return nil
}

// FileName is the name of the report's export in format ext.
func (r CountryReport) FileName(ext string) string {
	return fmt.Sprintf("alliance-%s-%s.%s", r.Country, r.Period, ext)
}

// MemberIndicators are one member country's indicators in the alliance
// overview.
type MemberIndicators struct {
	Country  string
	Name     string
	Values   []alliance.IndicatorValue // alliance.Indicators order
	Previous []alliance.IndicatorValue
}

// QuarterFigures are the alliance-wide takedown figures of one quarter.
type QuarterFigures struct {
	Label   string
	Items   int
	Removed int
	Median  *time.Duration
	P90     *time.Duration
}

// AllianceOverview is what the secretariat's dashboard shows: every
// member's indicators for a period, and the removal times quarter by
// quarter.
type AllianceOverview struct {
	Period   alliance.Period
	Members  []MemberIndicators // by name
	Quarters []QuarterFigures   // oldest first, ending with the period's last quarter
}

// overviewQuarters is how many quarters the removal time series shows.
const overviewQuarters = 8

// AllianceOverview computes every member country's indicators for a
// period (the secretariat and the system only).
func (a *App) AllianceOverview(ctx context.Context, period string) (AllianceOverview, error) {
	if _, err := require(ctx, alliance.PermViewAllCountries); err != nil {
		return AllianceOverview{}, err
	}
	p, err := alliance.ParsePeriod(period)
	if err != nil {
		return AllianceOverview{}, err
	}
	out := AllianceOverview{Period: p}
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		countries, err := tx.Countries(ctx)
		if err != nil {
			return err
		}
		series, err := tx.SeriesSamples(ctx)
		if err != nil {
			return err
		}
		years := alliance.ComputeSeriesYears(series)
		for _, c := range countries {
			if !c.Member {
				continue
			}
			m := MemberIndicators{Country: c.Code, Name: c.Name}
			if m.Values, err = a.periodIndicators(ctx, tx, c.Code, p, years); err != nil {
				return err
			}
			if m.Previous, err = a.periodIndicators(ctx, tx, c.Code, p.Previous(), years); err != nil {
				return err
			}
			out.Members = append(out.Members, m)
		}
		// The quarters up to the period's last one.
		qs := []alliance.Period{p.LastQuarter()}
		for len(qs) < overviewQuarters {
			qs = append(qs, qs[len(qs)-1].Previous())
		}
		slices.Reverse(qs)
		for _, q := range qs {
			samples, err := tx.TakedownSamples(ctx, store.StatsQuery{All: true, From: q.From, To: q.To})
			if err != nil {
				return err
			}
			f := alliance.ComputeTakedownFigures(samples, a.now())
			out.Quarters = append(out.Quarters, QuarterFigures{Label: q.Label, Items: f.Items, Removed: f.Removed,
				Median: f.MedianReportToRemoval, P90: f.P90ReportToRemoval})
		}
		return nil
	})
	if err != nil {
		return AllianceOverview{}, fmt.Errorf("app: alliance overview %s: %w", period, err)
	}
	slices.SortFunc(out.Members, func(x, y MemberIndicators) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}
