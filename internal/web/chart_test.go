package web

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/language"

	"alliance"
)

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v, top    float64
		length    int
		want      int
		wantPanic bool
	}{
		{"half", 0.5, 1, 400, 200, false},
		{"zero", 0, 1, 400, 0, false},
		{"all", 1, 1, 400, 400, false},
		{"above the top is clamped", 2, 1, 400, 400, false},
		{"negative is none", -1, 1, 400, 0, false},
		{"a small share is still seen", 0.0001, 1, 400, 1, false},
		{"rounds", 1.0 / 3, 1, 400, 133, false},
		{"no top", 5, 0, 400, 0, false},
		{"NaN", math.NaN(), 1, 400, 0, false},
		{"seconds", 3600, 7200, 400, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scale(tc.v, tc.top, tc.length); got != tc.want {
				t.Errorf("scale(%v, %v, %d) = %d, want %d", tc.v, tc.top, tc.length, got, tc.want)
			}
		})
	}
}

func TestPercentValue(t *testing.T) {
	for _, tc := range []struct {
		share float64
		want  string
	}{
		{0, "0"}, {-0.1, "0"}, {math.NaN(), "0"}, {1, "100"}, {1.5, "100"},
		{0.4, "40"}, {2.0 / 3, "67"}, {0.004, "<1"}, {0.996, ">99"}, {0.005, "1"}, {0.995, "100"},
	} {
		if got := percentValue(tc.share); got != tc.want {
			t.Errorf("percentValue(%v) = %q, want %q", tc.share, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{45 * time.Second, "45 s"},
		{59*time.Second + 600*time.Millisecond, "1 min"},
		{35 * time.Minute, "35 min"},
		{35*time.Minute + 20*time.Second, "35 min"},
		{59*time.Minute + 59*time.Second, "1 h"},
		{3 * time.Hour, "3 h"},
		{3*time.Hour + 5*time.Minute, "3 h 5 min"},
		{23*time.Hour + 59*time.Minute + 50*time.Second, "1 d"},
		{52 * time.Hour, "2 d 4 h"},
		{52*time.Hour + 29*time.Minute, "2 d 4 h"},
		{2 * day, "2 d"},
		{50*day + 20*time.Minute, "50 d"},
		{-90 * time.Minute, "1 h 30 min"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestDurationAxis(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		longest time.Duration
		top     time.Duration
		steps   int
	}{
		{0, time.Minute, 1},
		{40 * time.Second, time.Minute, 1},
		{3 * time.Hour, 3 * time.Hour, 3},
		{52 * time.Hour, 60 * time.Hour, 5},
		{6 * day, 6 * day, 3}, // three steps of 2 d
		{100 * day, 120 * day, 4},
		{10 * 365 * day, 10 * 365 * day, 10},
	} {
		top, ticks := durationAxis(tc.longest)
		if top != tc.top || len(ticks) != tc.steps+1 || ticks[0] != 0 || ticks[len(ticks)-1] != top {
			t.Errorf("durationAxis(%v) = %v, %v; want top %v in %d steps", tc.longest, top, ticks, tc.top, tc.steps)
		}
		if top < tc.longest {
			t.Errorf("durationAxis(%v): top %v is below the longest", tc.longest, top)
		}
	}
}

func TestLayoutBars(t *testing.T) {
	c := layoutBars([]barInput{
		{Label: "A", Values: []float64{0.25, 1}, Texts: []string{"a1", "a2"}},
		{Label: "B", Note: "none"},
	}, 1, []float64{0, 0.5, 1}, func(v float64) string { return percentValue(v) }, []string{"one", "two"})
	want := barChart{
		Width: chartWidth, BarHeight: chartBarHeight, PlotX: chartLabelWidth, LabelX: chartLabelWidth - 8,
		AxisY: chartTop - 10, GridTop: chartTop - 4,
		Ticks: []chartTick{{X: chartLabelWidth, Label: "0"}, {X: chartLabelWidth + chartPlotWidth/2, Label: "50"},
			{X: chartLabelWidth + chartPlotWidth, Label: "100"}},
		Rows: []chartRow{
			{Label: "A", LabelY: chartTop + (2*chartBarHeight+chartBarGap)/2 + 5, Bars: []chartBar{
				{Class: "one", Y: chartTop, Width: chartPlotWidth / 4, TextX: chartLabelWidth + chartPlotWidth/4 + 6, TextY: chartTop + chartBarHeight - 3, Text: "a1"},
				{Class: "two", Y: chartTop + chartBarHeight + chartBarGap, Width: chartPlotWidth,
					TextX: chartLabelWidth + chartPlotWidth + 6, TextY: chartTop + 2*chartBarHeight + chartBarGap - 3, Text: "a2"},
			}},
			{Label: "B", Note: "none"},
		},
	}
	rowB := chartTop + 2*chartBarHeight + chartBarGap + chartRowGap
	want.Rows[1].LabelY = rowB + chartBarHeight/2 + 5
	want.Rows[1].NoteY = want.Rows[1].LabelY
	want.Height = rowB + chartBarHeight + chartBottom
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
	// The longest bar and its value stay inside the picture.
	if last := c.Rows[0].Bars[1]; last.TextX+chartValueRoom-6 > c.Width {
		t.Errorf("the value of a full bar starts at %d of %d", last.TextX, c.Width)
	}
}

func TestStatsCharts(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	d := func(x time.Duration) *time.Duration { return &x }
	groups := []alliance.TakedownGroup{
		{Country: "SE", TakedownFigures: alliance.TakedownFigures{Items: 4, Removed: 2, Within1Day: 0.25, Within3Days: 0.5, Within7Days: 0.5,
			MedianReportToRemoval: d(5 * time.Hour), P90ReportToRemoval: d(52 * time.Hour)}},
		{Country: "", TakedownFigures: alliance.TakedownFigures{Items: 1}},
	}
	for _, tc := range []struct {
		lang                        string
		shareTexts, timeTexts, tick []string
		unknown, note               string
	}{
		{"en", []string{"1 day: 25%", "3 days: 50%", "7 days: 50%"}, []string{"median: 5 h", "p90: 2 d 4 h"},
			[]string{"0", "12 h", "1 d", "1 d 12 h", "2 d", "2 d 12 h"}, "Not traced", "no removals yet"},
		{"sv", []string{"1 dag: 25 %", "3 dagar: 50 %", "7 dagar: 50 %"}, []string{"median: 5 h", "p90: 2 d 4 h"},
			[]string{"0", "12 h", "1 d", "1 d 12 h", "2 d", "2 d 12 h"}, "Inte spårad", "inga nedtagningar ännu"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			tr := c.byTag[language.MustParse(tc.lang)]
			if tr == nil {
				t.Fatalf("no %s catalogue", tc.lang)
			}
			sc := shareChart(groups, tr)
			if len(sc.Rows) != 2 || sc.Rows[1].Label != tc.unknown {
				t.Fatalf("share rows %+v", sc.Rows)
			}
			var texts []string
			for _, b := range sc.Rows[0].Bars {
				texts = append(texts, b.Text)
			}
			if diff := cmp.Diff(tc.shareTexts, texts); diff != "" {
				t.Errorf("share bar texts (-want +got):\n%s", diff)
			}
			if w := sc.Rows[0].Bars[0].Width; w != chartPlotWidth/4 {
				t.Errorf("a 25%% bar is %d of %d", w, chartPlotWidth)
			}
			if len(sc.Rows[1].Bars) != 3 || sc.Rows[1].Bars[2].Width != 0 {
				t.Errorf("a country with nothing removed has bars %+v", sc.Rows[1].Bars)
			}

			tc2 := timeChart(groups, tr)
			if tc2 == nil {
				t.Fatal("no time chart")
			}
			texts = nil
			for _, b := range tc2.Rows[0].Bars {
				texts = append(texts, b.Text)
			}
			if diff := cmp.Diff(tc.timeTexts, texts); diff != "" {
				t.Errorf("time bar texts (-want +got):\n%s", diff)
			}
			var ticks []string
			for _, k := range tc2.Ticks {
				ticks = append(ticks, k.Label)
			}
			if diff := cmp.Diff(tc.tick, ticks); diff != "" {
				t.Errorf("time ticks (-want +got):\n%s", diff)
			}
			// p90 of 52 h on an axis of 60 h.
			if w, want := tc2.Rows[0].Bars[1].Width, scale(52, 60, chartPlotWidth); w != want {
				t.Errorf("p90 bar %d, want %d", w, want)
			}
			if r := tc2.Rows[1]; len(r.Bars) != 0 || r.Note != tc.note {
				t.Errorf("a country with no removal: %+v", r)
			}
			if timeChart(groups[1:], tr) != nil {
				t.Error("a time chart with no removal at all")
			}
		})
	}
}

func TestCountAxis(t *testing.T) {
	for _, tc := range []struct {
		largest, top float64
		ticks        int
	}{{0, 1, 2}, {1, 1, 2}, {3, 3, 4}, {5, 5, 6}, {6, 6, 4}, {11, 15, 4}, {48, 50, 6}, {101, 150, 4}, {9999, 10000, 6}} {
		top, ticks := countAxis(tc.largest)
		if top != tc.top || len(ticks) != tc.ticks || ticks[0] != 0 || ticks[len(ticks)-1] != top {
			t.Errorf("countAxis(%v) = %v %v, want top %v with %d ticks", tc.largest, top, ticks, tc.top, tc.ticks)
		}
	}
}
