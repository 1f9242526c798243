package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Charts are inline SVG drawn by the templates from the layouts below: the
// geometry is computed here, in plain Go that tests can check, and the
// templates only place what they are given (DESIGN.md: no chart library).

// Geometry of a horizontal bar chart, in SVG user units (the SVG scales to
// the page's width; text scales with it).
const (
	chartWidth      = 720
	chartLabelWidth = 170 // row labels, right-aligned at its end
	chartValueRoom  = 150 // room right of the longest bar for its value
	chartPlotWidth  = chartWidth - chartLabelWidth - chartValueRoom
	chartTop        = 28 // room for the axis labels
	chartBarHeight  = 14
	chartBarGap     = 3
	chartRowGap     = 14
	chartBottom     = 8
	// maxChartRows is how many groups a chart shows; the tables after it
	// list every group.
	maxChartRows = 15
)

// barChart is the layout of a horizontal bar chart: rows of one or more
// bars that start at PlotX, with vertical grid lines at the ticks.
type barChart struct {
	Width, Height int
	BarHeight     int
	PlotX         int // left edge of the bars
	LabelX        int // right edge of the row labels
	AxisY         int // baseline of the tick labels
	GridTop       int
	Ticks         []chartTick
	Rows          []chartRow
}

// chartTick is one grid line with its label.
type chartTick struct {
	X     int
	Label string
}

// chartRow is one group of bars, e.g. one country.
type chartRow struct {
	Label  string
	LabelY int    // baseline of the row label
	Note   string // shown instead of bars when the row has none, e.g. "no removals"
	NoteY  int
	Bars   []chartBar
}

// chartBar is one bar with its value written after it.
type chartBar struct {
	Class    string // CSS class: the series' colour
	Y, Width int
	TextX    int
	TextY    int
	Text     string // series name and value, e.g. "1 day: 40%"
}

// chartView is a bar chart as a page shows it (templates/chart.html): its
// element ids, accessible name and description, and legend.
type chartView struct {
	ID, TitleID, DescID string
	Title, Desc         string
	C                   barChart
	Legend              []legendEntry
}

// legendEntry is one series of a chart: its CSS class and name.
type legendEntry struct{ Class, Label string }

// legend builds a legend from pairs of CSS class and message id.
func legend(tr *translator, pairs ...string) []legendEntry {
	out := make([]legendEntry, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, legendEntry{Class: pairs[i], Label: tmsg(tr, pairs[i+1])})
	}
	return out
}

// barInput is one row to lay out. Values are in the chart's unit (shares
// or seconds); a nil Values means the row has nothing to show, and Note
// says why.
type barInput struct {
	Label  string
	Values []float64
	Texts  []string // one per value: what is written after its bar
	Note   string
}

// scale maps v from [0, top] onto [0, length] whole units, clamped to the
// range; 0 when top is not positive. A value above zero gets at least one
// unit, so that a small share is not drawn as none.
func scale(v, top float64, length int) int {
	if top <= 0 || v <= 0 || math.IsNaN(v) {
		return 0
	}
	if v >= top {
		return length
	}
	return max(int(math.Round(v/top*float64(length))), 1)
}

// layoutBars lays out rows of bars against an axis from 0 to top with the
// given ticks (in the values' unit, labelled by tickLabel). classes names
// each series' CSS class, in the order of the rows' values.
func layoutBars(rows []barInput, top float64, ticks []float64, tickLabel func(float64) string, classes []string) barChart {
	c := barChart{Width: chartWidth, BarHeight: chartBarHeight, PlotX: chartLabelWidth, LabelX: chartLabelWidth - 8, AxisY: chartTop - 10, GridTop: chartTop - 4}
	for _, t := range ticks {
		c.Ticks = append(c.Ticks, chartTick{X: c.PlotX + scale(t, top, chartPlotWidth), Label: tickLabel(t)})
	}
	y := chartTop
	for _, in := range rows {
		n := max(len(in.Values), 1)
		h := n*chartBarHeight + (n-1)*chartBarGap
		r := chartRow{Label: in.Label, LabelY: y + h/2 + 5}
		if len(in.Values) == 0 {
			r.Note, r.NoteY = in.Note, r.LabelY
		}
		for i, v := range in.Values {
			b := chartBar{Y: y + i*(chartBarHeight+chartBarGap), Width: scale(v, top, chartPlotWidth)}
			if i < len(classes) {
				b.Class = classes[i]
			}
			if i < len(in.Texts) {
				b.Text = in.Texts[i]
			}
			b.TextX, b.TextY = c.PlotX+b.Width+6, b.Y+chartBarHeight-3
			r.Bars = append(r.Bars, b)
		}
		c.Rows = append(c.Rows, r)
		y += h + chartRowGap
	}
	c.Height = y - chartRowGap + chartBottom
	return c
}

// shareTicks are the grid lines of a chart of shares.
var shareTicks = []float64{0, 0.25, 0.5, 0.75, 1}

// percentValue writes a share in 0..1 as a whole percentage without the
// sign. It never rounds a share above 0 down to "0" or one below 1 up to
// "100": those read as "none" and "all".
func percentValue(share float64) string {
	switch {
	case math.IsNaN(share) || share <= 0:
		return "0"
	case share >= 1:
		return "100"
	case share < 0.005:
		return "<1"
	case share > 0.995:
		return ">99"
	}
	return strconv.Itoa(int(math.Round(share * 100)))
}

// durationSteps are the grid spacings a duration axis may use.
var durationSteps = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	60 * 24 * time.Hour, 90 * 24 * time.Hour, 180 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// durationAxis returns the end of a duration axis that holds longest and
// its grid lines: at most five steps of a round length, from 0.
func durationAxis(longest time.Duration) (top time.Duration, ticks []time.Duration) {
	step := durationSteps[len(durationSteps)-1]
	for _, s := range durationSteps {
		if longest <= 5*s {
			step = s
			break
		}
	}
	n := max(int((longest+step-1)/step), 1) // ceil, and at least one step
	for i := range n + 1 {
		ticks = append(ticks, time.Duration(i)*step)
	}
	return time.Duration(n) * step, ticks
}

// formatDuration writes a duration the way people say it, to two units at
// most: "2 d 4 h", "3 h 5 min", "35 min", "40 s". Each form is rounded to
// its smallest unit first, so 23 h 59 min 50 s reads "1 d".
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	const day = 24 * time.Hour
	if r := d.Round(time.Hour); r >= day {
		return joinUnits(int64(r/day), "d", int64(r%day/time.Hour), "h")
	}
	if s := d.Round(time.Second); s < time.Minute {
		return fmt.Sprintf("%d s", s/time.Second)
	}
	r := d.Round(time.Minute)
	if r < time.Hour {
		return fmt.Sprintf("%d min", r/time.Minute)
	}
	return joinUnits(int64(r/time.Hour), "h", int64(r%time.Hour/time.Minute), "min")
}

// joinUnits writes "a ua b ub", leaving out the second part when it is 0.
func joinUnits(a int64, ua string, b int64, ub string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%d %s", a, ua)
	if b != 0 {
		fmt.Fprintf(&s, " %d %s", b, ub)
	}
	return s.String()
}

// countAxis returns the end of a count axis that holds largest and its
// grid lines: at most five steps of 1, 2 or 5 × 10^k, from 0.
func countAxis(largest float64) (top float64, ticks []float64) {
	step := 1.0
	for mag := 1.0; largest > 5*step; mag *= 10 {
		for _, m := range []float64{1, 2, 5} {
			step = m * mag
			if largest <= 5*step {
				break
			}
		}
	}
	n := max(int(math.Ceil(largest/step)), 1)
	for i := range n + 1 {
		ticks = append(ticks, float64(i)*step)
	}
	return float64(n) * step, ticks
}
