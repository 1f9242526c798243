package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	_ "image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alliance"
	"alliance/internal/testutil"
)

// testDemoReport checks SE's country report against a hand count of the
// demo's reports and of the items the node made of them, as SE's analyst
// sees them, and that its CSV export parses.
func testDemoReport(t *testing.T, c apiClient, items []apiItem, reports []demoReport) {
	t.Helper()
	year := strconv.Itoa(time.Now().UTC().Year())
	var rep struct {
		Country string `json:"country"`
		Targets []struct {
			Goals []struct {
				Code       string `json:"code"`
				Indicators []struct {
					Key   string   `json:"key"`
					Value *float64 `json:"value"`
				} `json:"indicators"`
			} `json:"goals"`
		} `json:"targets"`
	}
	if code := c.do("GET", "/api/v1/countries/SE/report?period="+year, nil, &rep); code != http.StatusOK || rep.Country != "SE" {
		t.Fatalf("SE's report: %d %+v", code, rep)
	}
	got := map[string]float64{}
	for _, tg := range rep.Targets {
		for _, g := range tg.Goals {
			for _, i := range g.Indicators {
				if i.Value != nil {
					got[i.Key] = *i.Value
				}
			}
		}
	}
	// By hand: the reports SE's hotline received (the public form's go to
	// the home organisation), the distinct items traced to Sweden, and
	// those SE received that went to another country's hotline.
	want := map[string]float64{"items_received": 0, "awareness_actions": float64(1 + demoSpread("SE"+year, 9))}
	for _, r := range reports {
		if r.by == "public" || strings.HasSuffix(r.by, "@se-hotline.example.org") {
			want["reports_received"]++
		}
	}
	for _, it := range items {
		if it.DuplicateOf != nil {
			continue
		}
		if it.Trace != nil && it.Trace.Country == "SE" {
			want["items_hosted"]++
		}
		if it.Route != nil && it.Route.Kind == "forward" && it.Route.Organisation != "SE-HOTLINE" {
			want["items_forwarded"]++
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("SE's report: %s = %v, hand count %v", k, got[k], v)
		}
	}
	if want["items_hosted"] == 0 || want["reports_received"] == 0 {
		t.Errorf("the hand count found nothing to compare: %v", want)
	}

	res, err := http.NewRequest("GET", c.base+"/api/v1/countries/SE/report?format=csv&period="+year, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(res)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(recs) < 2 || recs[0][0] != "country" {
		t.Errorf("CSV export: %v, %d rows", err, len(recs))
	}
}

// TestReportingInBrowser opens the demo's reporting in headless Chromium:
// the secretariat sees the map and charts for all 48 members (and a
// screenshot of them is taken), and SE's analyst records an action and a
// progress update through the forms and finds them in SE's report.
func TestReportingInBrowser(t *testing.T) {
	env := map[string]string{"ALLIANCE_DB": filepath.Join(t.TempDir(), "demo.db")}
	base := serveMain(t, env, "demo")
	ctx := testutil.Browser(t)
	login := func(email string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), demoPassword),
			chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.logout button`)),
		); err != nil {
			t.Fatalf("log in as %s: %v", email, err)
		}
	}
	eval := func(js string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}

	login("secretariat@secretariat.example.org")
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/reporting?indicator=awareness_actions"),
		chromedp.WaitVisible(chromedp.ID("members-table")),
	); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	members := len(alliance.FoundingMembers)
	if n := eval(`document.querySelectorAll('.worldmap path.member').length`); int(n) != members {
		t.Errorf("%v members on the map, want %d", n, members)
	}
	if n := eval(`document.querySelectorAll('.worldmap path.member.nodata').length`); n != 0 {
		t.Errorf("%v members without a value of the demo's awareness actions", n)
	}
	if n := eval(`new Set([...document.querySelectorAll('.worldmap path.member')].map(p => getComputedStyle(p).fill)).size`); n < 3 {
		t.Errorf("the members are painted in %v colours: the scale does not show", n)
	}
	if n := eval(`document.querySelectorAll('#members-table tbody tr').length`); int(n) != members {
		t.Errorf("%v rows in the members' table, want %d", n, members)
	}
	for _, id := range []string{"alliance-map-title", "indicator-chart"} {
		if w := eval(fmt.Sprintf(`(document.getElementById(%q).closest('svg') || document.getElementById(%q)).getBoundingClientRect().width`, id, id)); w < 600 {
			t.Errorf("#%s is %v px wide", id, w)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 1500 {
		t.Errorf("screenshot is %v: the page is not laid out", b)
	}
	colours := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 7 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 12, g >> 12, b >> 12}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("the screenshot has %d colours: blank?", len(colours))
	}
	if dir := os.Getenv("ALLIANCE_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "reporting-dashboard.jpeg"), shot, 0o644); err != nil {
			t.Error(err)
		}
	}

	// A country user records an action and a progress update.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`))); err != nil {
		t.Fatalf("log out: %v", err)
	}
	login("analyst@se-hotline.example.org")
	due := strconv.Itoa(time.Now().UTC().Year()+1) + "-03-31"
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/reporting/SE/edit"),
		chromedp.WaitVisible(chromedp.ID("commitment-4-2")),
		chromedp.SendKeys(chromedp.ID("new-description-4-2"), "Browser test: a second notice channel"),
		chromedp.SetValue(chromedp.ID("new-due-4-2"), due),
	); err != nil {
		t.Fatalf("fill the commitment form: %v", err)
	}
	if v := eval(`+document.getElementById('commitment-4-2').checkValidity()`); v != 1 {
		t.Errorf("the browser refuses the commitment form: %s", func() string {
			s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#commitment-4-2 :invalid')].map(e => e.id + ': ' + e.validationMessage).join('; ')`))
			return s
		}())
	}
	if err := chromedp.Do(ctx,
		chromedp.Submit(chromedp.ID("new-description-4-2")),
		chromedp.WaitVisible(chromedp.ID("saved-4-2")),
		chromedp.SendKeys(chromedp.ID("narrative-3-1"), "Browser test: a campaign week."),
		chromedp.SetValue(chromedp.ID("awareness-3-1"), "4"),
		chromedp.Submit(chromedp.ID("narrative-3-1")),
		chromedp.WaitVisible(chromedp.ID("saved-3-1")),
		chromedp.Navigate(base+"/reporting/SE"),
		chromedp.WaitVisible(chromedp.ID("t4")),
	); err != nil {
		t.Fatalf("record commitments: %v", err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Browser test: a second notice channel", "Browser test: a campaign week.", due} {
		if !strings.Contains(body, want) {
			t.Errorf("SE's report lacks %q", want)
		}
	}
	// The year's awareness actions add the update's 4 to the demo's.
	want := 1 + demoSpread("SE"+strconv.Itoa(time.Now().UTC().Year()), 9) + 4
	if v := eval(`+document.querySelector('#ind-3-1 tr[data-key="awareness_actions"] td.value').textContent`); int(v) != want {
		t.Errorf("awareness actions %v, want %d", v, want)
	}
}
