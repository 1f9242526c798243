package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/worldmap"
)

// purposeReporting is the CSRF purpose of the reporting forms.
const purposeReporting = "reporting"

// maxReportingBytes bounds a reporting form's body: a narrative or a
// baseline at its limit in characters of up to four bytes, and the rest.
const maxReportingBytes = 4*8000 + 64<<10

// defaultMapIndicator is what the dashboard's map shows first.
const defaultMapIndicator = "items_hosted"

// reportingURL is the address of a country's report page.
func reportingURL(cc, period string) string {
	u := "/reporting/" + cc
	if period != "" {
		u += "?period=" + period
	}
	return u
}

// currentPeriod is the reporting year of now.
func currentPeriod(now time.Time) string { return strconv.Itoa(now.UTC().Year()) }

// indicatorText writes an indicator's value in its unit: a count, a
// duration, a share; "–" when there is no value.
func indicatorText(tr *translator, unit string, v *float64) string {
	if v == nil {
		return "–"
	}
	switch unit {
	case "seconds":
		return formatDuration(time.Duration(*v * float64(time.Second)))
	case "share":
		return percentText(tr, *v)
	}
	// Counts are whole; a scale's step boundaries between them get one
	// decimal, not float noise.
	return strconv.FormatFloat(math.Round(*v*10)/10, 'f', -1, 64)
}

// changeText writes a relative change as a signed percentage, "–" without one.
func changeText(tr *translator, c *float64) string {
	if c == nil {
		return "–"
	}
	sign := "+"
	if *c < 0 {
		sign = "−"
	}
	return sign + percentText(tr, math.Abs(*c))
}

// periodField reads the period of a reporting page's query, defaulting to
// the current year; bad input is left for the app to refuse by name.
func periodField(r *http.Request, now time.Time) string {
	p := shorten(strings.TrimSpace(r.URL.Query().Get("period")), 16)
	if p == "" {
		return currentPeriod(now)
	}
	return strings.ToUpper(p)
}

// ownCountry returns the country of the actor's organisation ("" for the
// secretariat, which has none).
func (h *handler) ownCountry(r *http.Request) (string, error) {
	actor := alliance.ActorFromContext(r.Context())
	orgs, err := h.app.Organisations(r.Context())
	if err != nil {
		return "", err
	}
	for _, o := range orgs {
		if o.Code == actor.OrgCode {
			return o.CountryCode, nil
		}
	}
	return "", nil
}

// dashboardRow is one member country in the dashboard's table.
type dashboardRow struct {
	Country, Name   string
	URL             string
	Value, Previous string
	Change          string
}

// goalRow is one member country's progress towards target 1's +10%.
type goalRow struct {
	Country, Name        string
	URL                  string
	Identified, Previous string
	Goal                 string
	Met                  string // message id: GoalMet, GoalNotMet, or "" without a goal
}

// quarterRow is one quarter of the removal time series.
type quarterRow struct {
	Label          string
	Items, Removed int
	Median, P90    string
}

// dashboardData is the content of the alliance dashboard.
type dashboardData struct {
	Period     string
	Indicator  string
	Indicators []option
	Errors     map[string]string
	Shown      bool
	Empty      bool // no member has a value of the indicator
	Def        alliance.IndicatorDef
	Map        template.HTML
	Rows       []dashboardRow
	Chart      *chartView
	Quarters   []quarterRow
	TimeChart  *chartView
	Yearly     bool // the goal of target 1 is yearly: shown for years only
	GoalRows   []goalRow
	GoalChart  *chartView
	Met        int // members meeting the goal
	WithGoal   int // members with a goal (identified series the year before)
}

// dashboard shows the secretariat every member's indicators: a map
// coloured by one indicator, charts with their tables, and progress
// towards target 1. A country's users go to their own country's report.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor := alliance.ActorFromContext(ctx)
	if actor.Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !actor.Can(alliance.PermViewAllCountries) {
		if !actor.Can(alliance.PermViewReports) {
			h.renderError(w, r, http.StatusForbidden, "ErrorForbidden", "")
			return
		}
		cc, err := h.ownCountry(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, reportingURL(cc, r.URL.Query().Get("period")), http.StatusSeeOther)
		return
	}
	tr := h.translatorFrom(ctx)
	d := dashboardData{Period: periodField(r, time.Now()), Indicator: r.URL.Query().Get("indicator"), Errors: map[string]string{}}
	if d.Indicator == "" {
		d.Indicator = defaultMapIndicator
	}
	def, ok := alliance.IndicatorByKey(d.Indicator)
	keys := make([]string, len(alliance.Indicators))
	for i, x := range alliance.Indicators {
		keys[i] = x.Key
	}
	d.Indicators = options(d.Indicator, "Ind", keys...)
	if !ok {
		d.Errors["indicator"] = "Choose an indicator from the list."
		h.render(w, r, http.StatusBadRequest, "dashboard", "DashboardTitle", d)
		return
	}
	ov, err := h.app.AllianceOverview(ctx, d.Period)
	if err != nil {
		if alliance.ErrorField(err) == "period" {
			d.Errors["period"] = alliance.ErrorMessage(err)
			h.render(w, r, http.StatusBadRequest, "dashboard", "DashboardTitle", d)
			return
		}
		h.fail(w, r, err)
		return
	}
	d.Shown, d.Def, d.Period = true, def, ov.Period.Label
	if err := fillDashboard(&d, ov, tr); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "dashboard", "DashboardTitle", d)
}

// fillDashboard puts the map, the charts and their tables into d.
func fillDashboard(d *dashboardData, ov app.AllianceOverview, tr *translator) error {
	idx := slices.IndexFunc(alliance.Indicators, func(x alliance.IndicatorDef) bool { return x.Key == d.Def.Key })
	goalIdx := slices.IndexFunc(alliance.Indicators, func(x alliance.IndicatorDef) bool { return x.Growth > 0 })
	values := map[string]float64{}
	members := map[string]bool{}
	type ranked struct {
		row dashboardRow
		v   float64
	}
	var withValue []ranked
	for _, m := range ov.Members {
		members[m.Country] = true
		name := tr.Country(m.Country, m.Name)
		v, prev := m.Values[idx].Value, m.Previous[idx].Value
		row := dashboardRow{Country: m.Country, Name: name, URL: reportingURL(m.Country, ov.Period.Label),
			Value: indicatorText(tr, d.Def.Unit, v), Previous: indicatorText(tr, d.Def.Unit, prev), Change: "–"}
		if v != nil && prev != nil && *prev != 0 {
			c := *v / *prev - 1
			row.Change = changeText(tr, &c)
		}
		d.Rows = append(d.Rows, row)
		if v != nil {
			values[m.Country] = *v
			withValue = append(withValue, ranked{row, *v})
		}
	}
	format := func(v float64) string { return indicatorText(tr, d.Def.Unit, &v) }
	name := tmsg(tr, "Ind"+camel(d.Def.Key))
	svg, err := worldmap.Render(worldmap.Options{
		Values: values, Members: members, ID: "alliance-map",
		Title:  tmsg(tr, "DashboardMapTitle", "Indicator", name, "Period", ov.Period.Label),
		Desc:   tmsg(tr, "DashboardMapDesc", "Count", len(values)),
		Legend: name, Format: format,
		Link: func(cc string) string {
			if members[cc] {
				return reportingURL(cc, ov.Period.Label)
			}
			return ""
		},
	})
	if err != nil {
		return fmt.Errorf("web: dashboard map: %w", err)
	}
	d.Map = svg
	if len(withValue) == 0 {
		d.Empty = true
	} else {
		// The chart shows the largest values; the table has every member.
		slices.SortStableFunc(withValue, func(a, b ranked) int { return cmp.Compare(b.v, a.v) })
		top := withValue[:min(len(withValue), maxChartRows)]
		rows := make([]barInput, len(top))
		largest := 0.0
		for i, x := range top {
			rows[i] = barInput{Label: shorten(x.row.Name, 24), Values: []float64{x.v}, Texts: []string{x.row.Value}}
			largest = max(largest, x.v)
		}
		c := unitChart(rows, d.Def.Unit, largest, tr, "bar-d1")
		d.Chart = &chartView{ID: "indicator-chart", TitleID: "indicator-title", DescID: "indicator-desc", C: c,
			Title: tmsg(tr, "DashboardChartTitle", "Indicator", name, "Period", ov.Period.Label),
			Desc:  tmsg(tr, "DashboardChartDesc", "Count", len(top))}
	}

	var longest time.Duration
	var qrows []barInput
	for _, q := range ov.Quarters {
		d.Quarters = append(d.Quarters, quarterRow{Label: q.Label, Items: q.Items, Removed: q.Removed,
			Median: durationText(q.Median), P90: durationText(q.P90)})
		in := barInput{Label: q.Label, Note: tmsg(tr, "StatsNoRemovals")}
		if q.Median != nil && q.P90 != nil {
			longest = max(longest, *q.P90)
			in = barInput{Label: q.Label, Values: []float64{q.Median.Seconds(), q.P90.Seconds()}, Texts: []string{
				tmsg(tr, "StatsBarMedian", "Value", formatDuration(*q.Median)),
				tmsg(tr, "StatsBarP90", "Value", formatDuration(*q.P90))}}
		}
		qrows = append(qrows, in)
	}
	if longest > 0 {
		c := unitChart(qrows, "seconds", longest.Seconds(), tr, "bar-median", "bar-p90")
		d.TimeChart = &chartView{ID: "quarters-chart", TitleID: "quarters-title", DescID: "quarters-desc", C: c,
			Title:  tmsg(tr, "DashboardTimeTitle"),
			Desc:   tmsg(tr, "DashboardTimeDesc", "Count", len(qrows)),
			Legend: legend(tr, "bar-median", "StatsMedianReport", "bar-p90", "StatsP90Report")}
	}

	// Target 1: identified series against last year's +10%, for the
	// members that identified any series either year.
	d.Yearly = !strings.Contains(ov.Period.Label, "-Q")
	if !d.Yearly || goalIdx < 0 {
		return nil
	}
	growth := alliance.Indicators[goalIdx].Growth
	var grows []barInput
	largest := 0.0
	for _, m := range ov.Members {
		v, prev := m.Values[goalIdx].Value, m.Previous[goalIdx].Value
		if v == nil || prev == nil || (*v == 0 && *prev == 0) {
			continue
		}
		g := goalRow{Country: m.Country, Name: tr.Country(m.Country, m.Name), URL: reportingURL(m.Country, ov.Period.Label),
			Identified: indicatorText(tr, "count", v), Previous: indicatorText(tr, "count", prev), Goal: "–"}
		in := barInput{Label: shorten(g.Name, 24), Values: []float64{*v}, Texts: []string{tmsg(tr, "DashboardBarIdentified", "Value", g.Identified)}}
		if *prev > 0 {
			goal := math.Ceil(*prev * (1 + growth))
			g.Goal = indicatorText(tr, "count", &goal)
			g.Met = "GoalNotMet"
			if *v >= goal {
				g.Met = "GoalMet"
				d.Met++
			}
			d.WithGoal++
			in.Values = append(in.Values, goal)
			in.Texts = append(in.Texts, tmsg(tr, "DashboardBarGoal", "Value", g.Goal))
			largest = max(largest, goal)
		}
		largest = max(largest, *v)
		d.GoalRows = append(d.GoalRows, g)
		grows = append(grows, in)
	}
	if len(grows) > 0 {
		grows = grows[:min(len(grows), maxChartRows)]
		c := unitChart(grows, "count", largest, tr, "bar-d1", "bar-p90")
		d.GoalChart = &chartView{ID: "goal-chart", TitleID: "goal-title", DescID: "goal-desc", C: c,
			Title:  tmsg(tr, "DashboardGoalTitle", "Period", ov.Period.Label),
			Desc:   tmsg(tr, "DashboardGoalDesc", "Count", len(grows)),
			Legend: legend(tr, "bar-d1", "DashboardIdentified", "bar-p90", "DashboardGoal")}
	}
	return nil
}

// unitChart lays out bars of values in unit against an axis from zero
// that holds largest.
func unitChart(rows []barInput, unit string, largest float64, tr *translator, classes ...string) barChart {
	switch unit {
	case "share":
		return layoutBars(rows, 1, shareTicks, func(v float64) string { return percentText(tr, v) }, classes)
	case "seconds":
		top, ticks := durationAxis(time.Duration(largest * float64(time.Second)))
		secs := make([]float64, len(ticks))
		for i, t := range ticks {
			secs[i] = t.Seconds()
		}
		return layoutBars(rows, top.Seconds(), secs, func(v float64) string {
			if v == 0 {
				return "0"
			}
			return formatDuration(time.Duration(v * float64(time.Second)))
		}, classes)
	}
	top, ticks := countAxis(largest)
	return layoutBars(rows, top, ticks, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, classes)
}

// countryReportData is the content of a country's report page.
type countryReportData struct {
	Report       app.CountryReport
	Period       string
	Errors       map[string]string
	Shown        bool
	CanEdit      bool
	EditURL      string
	CSVURL       string
	JSONURL      string
	CSRF         string
	Request      *requestForm // the secretariat's form; nil for others
	Sent         bool         // a request was just sent
	Capabilities []capabilityRow
}

// capabilityRow is one national capability with the country's level.
type capabilityRow struct {
	Code, Domain, Name string
	Assessed           bool
	Level              int
	LevelName          string
	Note               string
	Levels             []levelOption // the edit form's choices
}

// levelOption is a choice of maturity level; Value "" is "not assessed".
type levelOption struct {
	Value, Name string
	Selected    bool
}

// requestForm is the secretariat's request for an update.
type requestForm struct {
	Period, Deadline, Note string
	Errors                 map[string]string
}

// pathCountry reads {cc} of the path: two letters, upper-cased.
func pathCountry(r *http.Request) (string, bool) {
	cc := strings.ToUpper(r.PathValue("cc"))
	return cc, len(cc) == 2 && alliance.ValidCountryCode(cc)
}

// countryPage starts a reporting page of the country in the path: 404 for
// no country, the login page for the anonymous; ok when the page goes on.
func (h *handler) countryPage(w http.ResponseWriter, r *http.Request) (string, bool) {
	cc, ok := pathCountry(r)
	if !ok {
		h.notFound(w, r)
		return "", false
	}
	if alliance.ActorFromContext(r.Context()).Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return "", false
	}
	return cc, true
}

// countryReport shows a country's report for a period: per target, the
// baseline, the commitments, the period's progress and the indicators
// with their change; printable, and exported as CSV and JSON.
func (h *handler) countryReport(w http.ResponseWriter, r *http.Request) {
	cc, ok := h.countryPage(w, r)
	if !ok {
		return
	}
	d, err := h.loadReportPage(r, cc, periodField(r, time.Now()))
	if err != nil {
		h.reportPageError(w, r, cc, err)
		return
	}
	d.Sent = r.URL.Query().Get("sent") == "1"
	h.render(w, r, http.StatusOK, "countryreport", "CountryReportTitle", d)
}

// reportPageError shows the page's period field with the app's message
// when the period is refused, and the error page otherwise.
func (h *handler) reportPageError(w http.ResponseWriter, r *http.Request, cc string, err error) {
	if alliance.ErrorField(err) != "period" {
		h.fail(w, r, err)
		return
	}
	d := countryReportData{Report: app.CountryReport{Country: cc, Name: alliance.CountryName(cc)}, Period: periodField(r, time.Now()),
		Errors: map[string]string{"period": alliance.ErrorMessage(err)}}
	h.render(w, r, http.StatusBadRequest, "countryreport", "CountryReportTitle", d)
}

// loadReportPage generates the report and the forms the actor may use.
func (h *handler) loadReportPage(r *http.Request, cc, period string) (countryReportData, error) {
	ctx := r.Context()
	rep, err := h.app.CountryReport(ctx, cc, period)
	if err != nil {
		return countryReportData{}, err
	}
	actor := alliance.ActorFromContext(ctx)
	d := countryReportData{Report: rep, Period: rep.Period, Errors: map[string]string{}, Shown: true,
		EditURL: "/reporting/" + cc + "/edit",
		CSVURL:  "/reporting/" + cc + "/report.csv?period=" + rep.Period,
		JSONURL: "/reporting/" + cc + "/report.json?period=" + rep.Period,
		CSRF:    csrfToken(sessionFrom(ctx).csrf, purposeReporting)}
	if actor.Can(alliance.PermViewAllCountries) {
		d.Request = &requestForm{Period: rep.Period, Errors: map[string]string{}}
	} else {
		own, err := h.ownCountry(r)
		if err != nil {
			return countryReportData{}, err
		}
		d.CanEdit = own == cc
	}
	d.Capabilities, err = h.capabilityRows(r, cc)
	if err != nil {
		return countryReportData{}, err
	}
	return d, nil
}

// reportExport answers the report as a download in format (csv or json),
// the same report the API gives.
func (h *handler) reportExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cc, ok := h.countryPage(w, r)
		if !ok {
			return
		}
		rep, err := h.app.CountryReport(r.Context(), cc, periodField(r, time.Now()))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		hd := w.Header()
		hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, rep.FileName(format)))
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		if format == "csv" {
			hd.Set("Content-Type", "text/csv; charset=utf-8")
			err = rep.WriteCSV(w)
		} else {
			hd.Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			err = enc.Encode(rep)
		}
		if err != nil {
			h.log.WarnContext(r.Context(), "web: write report export", "err", err,
				"request_id", alliance.RequestIDFromContext(r.Context()))
		}
	}
}

// reportingPost reads a reporting form's body and checks the session and
// its token; it answers the request itself and returns false when they fail.
func (h *handler) reportingPost(w http.ResponseWriter, r *http.Request) bool {
	return h.formPost(w, r, maxReportingBytes, purposeReporting)
}

// requestUpdate sends the secretariat's request for a country's update.
func (h *handler) requestUpdate(w http.ResponseWriter, r *http.Request) {
	cc, ok := pathCountry(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	if !h.reportingPost(w, r) {
		return
	}
	f := requestForm{Period: strings.TrimSpace(r.PostFormValue("period")), Deadline: r.PostFormValue("deadline"),
		Note: r.PostFormValue("note"), Errors: map[string]string{}}
	err := h.app.RequestUpdate(r.Context(), cc, f.Period, f.Deadline, f.Note)
	if err == nil {
		http.Redirect(w, r, reportingURL(cc, f.Period)+"&sent=1#requests", http.StatusSeeOther)
		return
	}
	if formStatus(err) == 0 {
		h.fail(w, r, err)
		return
	}
	d, lerr := h.loadReportPage(r, cc, currentPeriod(time.Now()))
	if lerr != nil {
		h.fail(w, r, lerr)
		return
	}
	field := alliance.ErrorField(err)
	if field != "period" && field != "deadline" && field != "note" {
		field = "deadline"
	}
	f.Errors[field] = alliance.ErrorMessage(err)
	d.Request = &f
	h.render(w, r, formStatus(err), "countryreport", "CountryReportTitle", d)
}

// capabilityRows returns every capability of the node's list with the
// country's assessed level, if any.
func (h *handler) capabilityRows(r *http.Request, cc string) ([]capabilityRow, error) {
	as, err := h.app.CapabilityAssessments(r.Context(), cc)
	if err != nil {
		return nil, err
	}
	byCode := map[string]alliance.CapabilityAssessment{}
	for _, a := range as {
		byCode[a.Capability] = a
	}
	var out []capabilityRow
	for _, c := range h.app.Capabilities() {
		row := capabilityRow{Code: c.Code, Domain: c.Domain, Name: c.Name}
		a, ok := byCode[c.Code]
		if ok {
			row.Assessed, row.Level, row.Note = true, a.Level, a.Note
			for _, l := range alliance.CapabilityLevels {
				if l.Level == a.Level {
					row.LevelName = l.Name
				}
			}
		}
		row.Levels = append(row.Levels, levelOption{Value: "", Selected: !ok})
		for _, l := range alliance.CapabilityLevels {
			row.Levels = append(row.Levels, levelOption{Value: strconv.Itoa(l.Level), Name: l.Name, Selected: ok && l.Level == a.Level})
		}
		out = append(out, row)
	}
	return out, nil
}
