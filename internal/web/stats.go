package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/app"
)

// maxNetworkRows bounds the table of hosting networks; the API has them all.
const maxNetworkRows = 100

// dateLayout is what a browser's date input sends.
const dateLayout = "2006-01-02"

// statsForm is the filter form of the takedown figures, as sent.
type statsForm struct {
	From, To, Country, ASN string
	Errors                 map[string]string // field → safe message (English)
}

// figureIDs are the overall figures in the order the page lists them: the
// element id and the message id; message id+"Def" defines the figure.
var figureIDs = []struct{ id, msg string }{
	{"items", "StatsItems"}, {"removed", "StatsRemoved"}, {"open", "StatsOpen"},
	{"median-report", "StatsMedianReport"}, {"p90-report", "StatsP90Report"},
	{"median-notice", "StatsMedianNotice"}, {"p90-notice", "StatsP90Notice"},
	{"within-1d", "StatsWithin1Day"}, {"within-3d", "StatsWithin3Days"}, {"within-7d", "StatsWithin7Days"},
	{"up-42d", "StatsUp42Days"},
}

// figure is one overall figure with what it means.
type figure struct {
	ID         string
	Name       string // message id
	Value      string
	Definition string // message id
}

// statsData is the content of the takedown figures page.
type statsData struct {
	Form     statsForm
	Filtered bool
	Alert    string // a safe message of a refusal that is not about one field
	Shown    bool   // the figures were computed: false when the filters were refused
	Empty    bool   // no illegal items in the period
	FromDate string
	ToDate   string // the last day of the period
	Figures  []figure
	Stats    app.TakedownStats
	// Top are the hosting countries the charts show, largest first.
	Top        []alliance.TakedownGroup
	ShareChart chartView
	TimeChart  *chartView // nil when no item was removed
	Networks   []alliance.TakedownGroup
	// NetworksTotal is the number of networks, of which Networks shows
	// at most maxNetworkRows.
	NetworksTotal int
}

// canSeeStats mirrors the app's rule for the takedown figures, for the
// navigation and to refuse before reading the filters.
func canSeeStats(actor alliance.Actor) bool {
	return actor.Can(alliance.PermViewReports) || actor.Can(alliance.PermViewAllCountries)
}

// parseStatsForm reads the filters of the GET form. The app checks the
// period and the country; dates and the AS number are read here.
func parseStatsForm(f statsForm) (app.StatsFilter, error) {
	var out app.StatsFilter
	var err error
	if out.From, err = parseDate(f.From, "from"); err != nil {
		return out, err
	}
	if out.To, err = parseDate(f.To, "to"); err != nil {
		return out, err
	}
	if !out.To.IsZero() {
		out.To = out.To.AddDate(0, 0, 1) // the last day counts in full
	}
	out.Country = f.Country // the app checks it
	if f.ASN != "" {
		digits := strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(f.ASN), "AS"))
		n, err := strconv.ParseUint(digits, 10, 32)
		if err != nil || n == 0 {
			return out, alliance.FieldErrorf("host_asn", "An AS number such as AS64496 or 64496.")
		}
		out.ASN = uint32(n)
	}
	return out, nil
}

// parseDate reads a date (YYYY-MM-DD, UTC) of field; "" is the zero time.
func parseDate(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) <= len(dateLayout) {
		if t, err := time.ParseInLocation(dateLayout, s, time.UTC); err == nil && t.Year() >= 1970 {
			return t, nil
		}
	}
	return time.Time{}, alliance.FieldErrorf(field, "Enter a date as YYYY-MM-DD, e.g. 2026-01-31.")
}

// takedownStats shows the takedown figures of a period: overall, charted
// and tabled by hosting country and network. The filters are a GET form,
// so the page works without scripts and its address can be shared.
func (h *handler) takedownStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	actor := alliance.ActorFromContext(ctx)
	if actor.Anonymous() {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !canSeeStats(actor) {
		h.renderError(w, r, http.StatusForbidden, "ErrorForbidden", "")
		return
	}
	q := r.URL.Query()
	field := func(name string) string { return shorten(strings.TrimSpace(q.Get(name)), 32) }
	d := statsData{Form: statsForm{From: field("from"), To: field("to"),
		Country: strings.ToUpper(field("country")), ASN: field("host_asn"), Errors: map[string]string{}}}
	d.Filtered = d.Form.From != "" || d.Form.To != "" || d.Form.Country != "" || d.Form.ASN != ""
	f, err := parseStatsForm(d.Form)
	var st app.TakedownStats
	if err == nil {
		st, err = h.app.TakedownStats(ctx, f)
	}
	if err != nil {
		if alliance.ErrorCode(err) != alliance.EINVALID {
			h.fail(w, r, err)
			return
		}
		msg := alliance.ErrorMessage(err)
		switch fld := alliance.ErrorField(err); fld {
		case "from", "to", "country", "host_asn":
			d.Form.Errors[fld] = msg
		default:
			d.Alert = msg
		}
		h.render(w, r, http.StatusBadRequest, "stats", "StatsTitle", d)
		return
	}
	h.fillStats(&d, st, h.translatorFrom(ctx))
	h.render(w, r, http.StatusOK, "stats", "StatsTitle", d)
}

// fillStats puts the computed figures, charts and tables into d.
func (h *handler) fillStats(d *statsData, st app.TakedownStats, tr *translator) {
	d.Shown, d.Stats = true, st
	d.FromDate = st.From.UTC().Format(dateLayout)
	d.ToDate = st.To.Add(-time.Nanosecond).UTC().Format(dateLayout)
	o := st.Overall
	if o.Items == 0 {
		d.Empty = true
		return
	}
	pct := func(v float64) string { return percentText(tr, v) }
	values := []string{
		strconv.Itoa(o.Items), strconv.Itoa(o.Removed), strconv.Itoa(o.Open),
		durationText(o.MedianReportToRemoval), durationText(o.P90ReportToRemoval),
		durationText(o.MedianNoticeToRemoval), durationText(o.P90NoticeToRemoval),
		pct(o.Within1Day), pct(o.Within3Days), pct(o.Within7Days), strconv.Itoa(o.UpAfter42Days),
	}
	for i, f := range figureIDs {
		d.Figures = append(d.Figures, figure{ID: f.id, Name: f.msg, Value: values[i], Definition: f.msg + "Def"})
	}
	d.Top = st.ByCountry[:min(len(st.ByCountry), maxChartRows)]
	d.ShareChart = chartView{ID: "share-chart", TitleID: "share-title", DescID: "share-desc", C: shareChart(d.Top, tr),
		Title: tmsg(tr, "StatsShareTitle"), Desc: tmsg(tr, "StatsShareDesc", "Count", len(d.Top)),
		Legend: legend(tr, "bar-d1", "StatsWithin1Day", "bar-d3", "StatsWithin3Days", "bar-d7", "StatsWithin7Days")}
	if tc := timeChart(d.Top, tr); tc != nil {
		d.TimeChart = &chartView{ID: "time-chart", TitleID: "time-title", DescID: "time-desc", C: *tc,
			Title: tmsg(tr, "StatsTimeTitle"), Desc: tmsg(tr, "StatsTimeDesc", "Count", len(d.Top)),
			Legend: legend(tr, "bar-median", "StatsMedianReport", "bar-p90", "StatsP90Report")}
	}
	d.NetworksTotal = len(st.ByNetwork)
	d.Networks = st.ByNetwork[:min(len(st.ByNetwork), maxNetworkRows)]
}

// countryLabel names a hosting country in the reader's language; items
// whose host was never traced have no country.
func countryLabel(tr *translator, cc string) string {
	if cc == "" {
		return tmsg(tr, "StatsUnknownCountry")
	}
	return shorten(tr.Country(cc, cc), 24)
}

// tmsg translates a message that needs no arguments, showing its id when
// it is missing (a test catches that).
func tmsg(tr *translator, id string, args ...any) string {
	s, err := tr.T(id, args...)
	if err != nil {
		return id
	}
	return s
}

// percentText writes a share as a percentage in the reader's style.
func percentText(tr *translator, share float64) string {
	return tmsg(tr, "Percent", "Value", percentValue(share))
}

// durationText writes an optional duration; "–" when there is none.
func durationText(d *time.Duration) string {
	if d == nil {
		return "–"
	}
	return formatDuration(*d)
}

// shareChart lays out the shares removed within 1, 3 and 7 days, one row
// of three bars per country.
func shareChart(groups []alliance.TakedownGroup, tr *translator) barChart {
	rows := make([]barInput, 0, len(groups))
	for _, g := range groups {
		shares := []float64{g.Within1Day, g.Within3Days, g.Within7Days}
		in := barInput{Label: countryLabel(tr, g.Country), Values: shares}
		for i, id := range []string{"StatsBar1Day", "StatsBar3Days", "StatsBar7Days"} {
			in.Texts = append(in.Texts, tmsg(tr, id, "Value", percentText(tr, shares[i])))
		}
		rows = append(rows, in)
	}
	return layoutBars(rows, 1, shareTicks, func(v float64) string { return percentText(tr, v) },
		[]string{"bar-d1", "bar-d3", "bar-d7"})
}

// timeChart lays out the median and 90th percentile of the time from
// report to removal per country; nil when no country had a removal.
func timeChart(groups []alliance.TakedownGroup, tr *translator) *barChart {
	var longest time.Duration
	removed := false
	for _, g := range groups {
		if g.P90ReportToRemoval != nil {
			removed = true
			longest = max(longest, *g.P90ReportToRemoval)
		}
	}
	if !removed {
		return nil
	}
	top, ticks := durationAxis(longest)
	rows := make([]barInput, 0, len(groups))
	for _, g := range groups {
		in := barInput{Label: countryLabel(tr, g.Country)}
		if g.MedianReportToRemoval == nil || g.P90ReportToRemoval == nil {
			in.Note = tmsg(tr, "StatsNoRemovals")
		} else {
			in.Values = []float64{g.MedianReportToRemoval.Seconds(), g.P90ReportToRemoval.Seconds()}
			in.Texts = []string{
				tmsg(tr, "StatsBarMedian", "Value", formatDuration(*g.MedianReportToRemoval)),
				tmsg(tr, "StatsBarP90", "Value", formatDuration(*g.P90ReportToRemoval)),
			}
		}
		rows = append(rows, in)
	}
	secs := make([]float64, len(ticks))
	for i, t := range ticks {
		secs[i] = t.Seconds()
	}
	c := layoutBars(rows, top.Seconds(), secs, func(v float64) string {
		if v == 0 {
			return "0"
		}
		return formatDuration(time.Duration(v * float64(time.Second)))
	}, []string{"bar-median", "bar-p90"})
	return &c
}
