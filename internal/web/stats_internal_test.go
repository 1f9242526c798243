package web

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
)

// sampleStats are figures with removals in two countries, an untraced
// item and more networks than the page lists.
func sampleStats() app.TakedownStats {
	d := func(x time.Duration) *time.Duration { return &x }
	to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st := app.TakedownStats{From: to.AddDate(-1, 0, 0), To: to,
		Overall: alliance.TakedownFigures{Items: 7, Removed: 4, Open: 3, MedianReportToRemoval: d(30 * time.Hour),
			P90ReportToRemoval: d(9 * 24 * time.Hour), MedianNoticeToRemoval: d(35 * time.Minute), P90NoticeToRemoval: d(52 * time.Hour),
			Within1Day: 2.0 / 7, Within3Days: 3.0 / 7, Within7Days: 3.0 / 7, UpAfter42Days: 1},
		ByCountry: []alliance.TakedownGroup{
			{Country: "SE", TakedownFigures: alliance.TakedownFigures{Items: 4, Removed: 3, Open: 1, MedianReportToRemoval: d(5 * time.Hour),
				P90ReportToRemoval: d(52 * time.Hour), Within1Day: 0.5, Within3Days: 0.75, Within7Days: 0.75}},
			{Country: "NL", TakedownFigures: alliance.TakedownFigures{Items: 2, Removed: 1, Open: 1, MedianReportToRemoval: d(9 * 24 * time.Hour),
				P90ReportToRemoval: d(9 * 24 * time.Hour)}},
			{Country: "", TakedownFigures: alliance.TakedownFigures{Items: 1, Open: 1, UpAfter42Days: 1}},
		},
	}
	for i := range maxNetworkRows + 5 {
		st.ByNetwork = append(st.ByNetwork, alliance.TakedownGroup{ASN: uint32(64496 + i), ASOrg: fmt.Sprintf("Example Net %d", i),
			TakedownFigures: alliance.TakedownFigures{Items: 1}})
	}
	return st
}

// TestStatsPageRender renders the figures page from sample figures: both
// charts as well-formed SVG with their accessible names, the bars scaled
// to their values, and the network table cut to its limit. With
// ALLIANCE_WEB_SCREENSHOTS set it also saves the page as stats-sample.html
// (styles inlined) for people to look at.
func TestStatsPageRender(t *testing.T) {
	hh := &handler{app: app.New(app.Options{}), log: slog.New(slog.DiscardHandler), cssURL: "/static/style.css"}
	var err error
	if hh.cat, err = loadCatalogue(); err != nil {
		t.Fatal(err)
	}
	if err := hh.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "sv"} {
		t.Run(lang, func(t *testing.T) {
			d := statsData{Form: statsForm{Errors: map[string]string{}}}
			req := httptest.NewRequest(http.MethodGet, "/stats/takedown?lang="+lang, nil)
			tr, _ := hh.cat.choose(req, false)
			hh.fillStats(&d, sampleStats(), tr)
			rec := httptest.NewRecorder()
			hh.withLanguage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hh.render(w, r, http.StatusOK, "stats", "StatsTitle", d)
			})).ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d\n%s", rec.Code, body)
			}
			for _, id := range []string{"share-chart", "time-chart"} {
				svg := element(t, body, `<svg xmlns="http://www.w3.org/2000/svg"`, id, "</svg>")
				if err := wellFormed(svg); err != nil {
					t.Errorf("%s is not well-formed XML: %v\n%s", id, err, svg)
				}
				for _, want := range []string{`role="img"`, `<title id="`, `<desc id="`} {
					if !strings.Contains(svg, want) {
						t.Errorf("%s lacks %s", id, want)
					}
				}
			}
			wantIn := func(subs ...string) {
				t.Helper()
				for _, s := range subs {
					if !strings.Contains(body, s) {
						t.Errorf("page lacks %q", s)
					}
				}
			}
			// SE's half removed within a day is half the plot; NL's p90 of
			// 9 days fills the axis of 10 days to nine tenths.
			wantIn(fmt.Sprintf(`<rect class="bar bar-d1" x="%d" y="%d" width="%d"`, chartLabelWidth, chartTop, chartPlotWidth/2),
				fmt.Sprintf(`width="%d" height="%d"/>`, scale(9, 10, chartPlotWidth), chartBarHeight),
				`<code>AS64496</code> Example Net 0`, `id="time-table"`, `id="figure-p90-notice"`)
			if strings.Contains(body, "AS64601") {
				t.Error("the network table is not cut to its limit")
			}
			if lang == "en" {
				wantIn(">p90: 2 d 4 h</text>", ">median: 9 d</text>", ">Not traced</text>", ">no removals yet</text>",
					`<dd class="value">1 d 6 h</dd>`, `<dd class="value">35 min</dd>`, `<dd class="value">29%</dd>`,
					"The 100 hosting networks with the most items, of 105", "Illegal items reported from 2025-03-01 to 2026-02-28")
			} else {
				wantIn(">p90: 2 d 4 h</text>", ">Nederländerna</text>", `<dd class="value">29 %</dd>`,
					"De 100 värdnät som har flest poster, av 105")
			}
			if dir := os.Getenv("ALLIANCE_WEB_SCREENSHOTS"); dir != "" {
				css, _ := staticFS.ReadFile("static/style.css")
				page := strings.Replace(body, `<link rel="stylesheet" href="`+hh.cssURL+`">`, "<style>"+string(css)+"</style>", 1)
				if err := os.WriteFile(filepath.Join(dir, "stats-sample-"+lang+".html"), []byte(page), 0o644); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// element returns the element of body that starts with open and has id,
// up to and with close.
func element(t *testing.T, body, open, id, close string) string {
	t.Helper()
	for i := 0; ; {
		j := strings.Index(body[i:], open)
		if j < 0 {
			t.Fatalf("no %s with id %s", open, id)
		}
		start := i + j
		end := strings.Index(body[start:], close)
		if end < 0 {
			t.Fatalf("%s not closed", id)
		}
		el := body[start : start+end+len(close)]
		if strings.Contains(el[:strings.Index(el, ">")], `id="`+id+`"`) {
			return el
		}
		i = start + len(open)
	}
}

// wellFormed reports whether s parses as XML.
func wellFormed(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := dec.Token(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
