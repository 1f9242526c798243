package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"alliance"
	"alliance/internal/testutil"
	"alliance/internal/trace"
	"alliance/internal/web"
)

// screenshotEnv names a directory; when set, the browser tests save
// web-home.png, web-countries.png, web-report.png, web-item.png,
// web-assessed.png and web-stats.png there for people to look at.
const screenshotEnv = "ALLIANCE_WEB_SCREENSHOTS"

// csp is the policy the server puts on every response; the test applies it
// too, so a page that relied on inline styles or scripts would show it.
const csp = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"

// TestBrowserLogin logs in through the form in headless Chromium, with the
// production cookie settings (Secure, __Host- prefix) over plain HTTP on
// 127.0.0.1: Chromium treats loopback addresses as secure contexts, so it
// stores and sends Secure cookies there as it would over HTTPS.
func TestBrowserLogin(t *testing.T) {
	ctx := testutil.Browser(t)
	e := newEnv(t, testutil.NewSQLite(t), true)
	const email = "secretariat@alliance.example"
	e.addUser(email, alliance.SecretariatCode, alliance.RoleSecretariat)
	srv := e.browserServer()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Click(chromedp.CSS(`nav a[href="/login"]`)),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("overview-heading")),
	); err != nil {
		t.Fatalf("log in through the form: %v", err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who .email")))
	if err != nil {
		t.Fatal(err)
	}
	if who != email {
		t.Errorf("header shows %q, want %q", who, email)
	}
	main, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(main, email) || !strings.Contains(main, "The alliance at a glance") {
		t.Errorf("home page lacks the user or the overview:\n%s", main)
	}

	// The browser kept the session as a Secure, HttpOnly __Host- cookie.
	cookies, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
		return res.Cookies, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies {
		if c.Name == web.SessionCookie {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly {
		t.Fatalf("browser cookies %+v: want a Secure, HttpOnly %s", cookies, web.SessionCookie)
	}

	// The stylesheet loaded under the CSP: the header has its colour.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".site-header")).backgroundColor`))
	if err != nil {
		t.Fatal(err)
	}
	if bg != "rgb(11, 53, 88)" {
		t.Errorf("header background %q: the stylesheet did not apply", bg)
	}
	screenshot(t, ctx, "web-home.png")

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/countries?member=1"]`)),
		chromedp.WaitVisible(chromedp.ID("cc-SE")),
	); err != nil {
		t.Fatalf("open the member countries: %v", err)
	}
	screenshot(t, ctx, "web-countries.png")

	// Switch to Swedish and log out.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[hreflang="sv"]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="sv"]`)),
		chromedp.Click(chromedp.CSS(`.logout button`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/login"]`)),
	); err != nil {
		t.Fatalf("switch language and log out: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, "Global Alliance mot") {
		t.Errorf("after logout the landing page is %q, want Swedish", heading)
	}
}

// browserServer serves the UI to the test's browser with the server's
// Content-Security-Policy, as the real server sends it, until the test ends.
func (e *env) browserServer() *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		e.h.ServeHTTP(w, r)
	}))
	e.t.Cleanup(srv.Close)
	return srv
}

// step runs actions within a few seconds and, when they fail, ends the test
// with the address and text of the page the browser was on.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := chromedp.Do(sctx, actions...)
	if err == nil {
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	t.Fatalf("%s: %v\non %s:\n%s", name, err, loc, text)
}

// screenshot saves the page when ALLIANCE_WEB_SCREENSHOTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotEnv)
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG; below, JPEG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}

// TestBrowserReport sends a report through the Swedish form in headless
// Chromium, as a member of the public would, then logs in as an analyst of
// the receiving hotline and finds the reported addresses traced and routed.
func TestBrowserReport(t *testing.T) {
	ctx := testutil.Browser(t)
	e := newEnv(t, testutil.NewSQLite(t), true)
	const email = "analyst@se-hotline.example"
	e.addUser(email, "SE-HOTLINE", alliance.RoleAnalyst)
	srv := e.browserServer()
	seURL, nlURL := "https://se.example.test/a", "http://"+trace.ExampleNL+"/b"

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/report?lang=sv"),
		chromedp.WaitVisible(chromedp.ID("urls")),
		chromedp.SendKeys(chromedp.ID("urls"), seURL+"\n"+nlURL),
		chromedp.Click(chromedp.ID("category-other")),
		chromedp.SendKeys(chromedp.ID("description"), "Hittad via en sökning."),
	); err != nil {
		t.Fatalf("fill in the form: %v", err)
	}
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil || lang != "sv" {
		t.Errorf("<html lang> = %q, %v; want sv", lang, err)
	}
	screenshot(t, ctx, "web-report.png")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.report button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("reference")),
	); err != nil {
		t.Fatalf("send the form: %v", err)
	}
	ref, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("reference")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, "R-") {
		t.Errorf("reference %q", ref)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Tack för din rapport" {
		t.Errorf("thanks page heading %q, %v", heading, err)
	}

	e.traceAll() // what the background job does within seconds

	step(t, ctx, "log in",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("queue")),
	)
	step(t, ctx, "open the items",
		chromedp.Click(chromedp.CSS(`main a[href="/items"]`)),
		chromedp.WaitVisible(chromedp.ID("items-caption")),
	)
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.items")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{seURL, nlURL, "SE-HOTLINE", "NL-HOTLINE"} {
		if !strings.Contains(list, want) {
			t.Errorf("the item list lacks %q:\n%s", want, list)
		}
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main a[href^="http"]:not([href="https://db-ip.com"])').length`))
	if err != nil || links != 0 {
		t.Errorf("%d live links to reported URLs (%v)", links, err)
	}

	// Open the Swedish item from its row.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//tr[td/code[text()="`+seURL+`"]]/th/a`)),
		chromedp.WaitVisible(chromedp.ID("trace-data-date")),
	); err != nil {
		t.Fatalf("open the item: %v", err)
	}
	main, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{trace.ExampleSE, "AS1653", "SE-POLICE", ref, "DB-IP"} {
		if !strings.Contains(main, want) {
			t.Errorf("the item page lacks %q:\n%s", want, main)
		}
	}
	screenshot(t, ctx, "web-item.png")

	// The analyst's steps: from the queue to the assessment, which notifies
	// the police. A plain form post: no script runs.
	step(t, ctx, "open the queue",
		chromedp.Click(chromedp.CSS(`nav a[href="/queue"]`)),
		chromedp.WaitVisible(chromedp.ID("queue-caption")),
	)
	step(t, ctx, "open the item from the queue",
		chromedp.Click(chromedp.Search(`//table[contains(@class,"queue")]//tr[td/code[text()="`+seURL+`"]]/th/a`)),
		chromedp.WaitVisible(chromedp.ID("assess-form")),
	)
	step(t, ctx, "assess",
		chromedp.Click(chromedp.ID("verdict-baseline")),
		chromedp.SetValue(chromedp.ID("content-type"), "image"),
		chromedp.SetValue(chromedp.ID("label-age_band"), "13_to_17"),
		chromedp.Click(chromedp.CSS(`#assess-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("notice-assessed")),
	)
	// The browser kept the Swedish chosen on the report form.
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("takedown-status")))
	if err != nil || status != "Polisen underrättad" {
		t.Errorf("takedown status %q, %v; want Polisen underrättad (police notified)", status, err)
	}
	police, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("takedown-police")))
	if err != nil || police != "SE-POLICE" {
		t.Errorf("police %q, %v; want SE-POLICE", police, err)
	}
	screenshot(t, ctx, "web-assessed.png")

	// The takedown figures count the assessed item, charted and tabled;
	// the filter form works without scripts.
	step(t, ctx, "open the takedown figures",
		// The nav entry is checked by the page tests; the browser goes by
		// address, as a click after the jump to #takedown was flaky under load.
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/stats/takedown"]`)),
		chromedp.Navigate(srv.URL+"/stats/takedown"),
		chromedp.WaitVisible(chromedp.ID("share-chart")),
	)
	items, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#figure-items .value")))
	if err != nil || items != "1" {
		t.Errorf("illegal items %q, %v; want 1", items, err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById('share-chart').getBoundingClientRect().width`))
	if err != nil || width < 300 {
		t.Errorf("the share chart is %v wide (%v)", width, err)
	}
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('share-chart').getAttribute('role') + ' ' + document.getElementById('share-title').textContent`))
	if err != nil || !strings.HasPrefix(label, "img Andel poster nedtagna") {
		t.Errorf("the share chart's role and title: %q, %v", label, err)
	}
	screenshot(t, ctx, "web-stats.png")
	step(t, ctx, "filter the figures",
		chromedp.SendKeys(chromedp.ID("f-country"), "nl"),
		chromedp.Submit(chromedp.ID("f-country")),
		chromedp.WaitVisible(chromedp.ID("stats-empty")),
	)
}
