package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"alliance"
	"alliance/internal/testutil"
)

// TestBrowserSeries is the police's view in headless Chromium: create a
// series whose code needs escaping, move its status forward, and be
// refused going back without a reason; then the deconfliction inbox.
func TestBrowserSeries(t *testing.T) {
	ctx := testutil.Browser(t)
	e := newEnv(t, testutil.NewSQLite(t), true)
	const email = "police@se-police.example"
	e.addUser(email, "SE-POLICE", alliance.RolePolice)
	srv := e.browserServer()

	step(t, ctx, "log in",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/series"]`)),
	)
	step(t, ctx, "open the series",
		chromedp.Click(chromedp.CSS(`nav a[href="/series"]`)),
		chromedp.WaitVisible(chromedp.ID("series-form")),
	)
	step(t, ctx, "create a series",
		chromedp.SendKeys(chromedp.ID("series-code"), "SE 2026/7"),
		chromedp.SendKeys(chromedp.ID("series-contact"), "SE-POLICE identification desk"),
		chromedp.Click(chromedp.ID("series-dnd")),
		chromedp.Click(chromedp.CSS(`#series-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("notice-created")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/series/SE%202026%2F7?created=1") {
		t.Errorf("series page at %q, %v", loc, err)
	}
	step(t, ctx, "change the status forward",
		chromedp.SetValue(chromedp.ID("series-new-status"), "identified"),
		chromedp.Click(chromedp.CSS(`#status-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("notice-changed")),
	)
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("series-status")))
	if err != nil || status != "Identified" {
		t.Errorf("status %q, %v; want Identified", status, err)
	}
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("series-history")))
	if err != nil || !strings.Contains(history, "Unidentified → Identified") {
		t.Errorf("history %q, %v", history, err)
	}
	screenshot(t, ctx, "web-series.png")
	step(t, ctx, "go back without a reason",
		chromedp.SetValue(chromedp.ID("series-new-status"), "under_investigation"),
		chromedp.Click(chromedp.CSS(`#status-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("series-reason-error")),
	)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("series-reason-error")))
	if err != nil || !strings.Contains(msg, "needs a reason") {
		t.Errorf("reason error %q, %v", msg, err)
	}
	// The form is sent with Submit, not a click on its button: after the
	// re-rendered page of the refusal a click was flaky under load.
	step(t, ctx, "go back with a reason",
		chromedp.WaitVisible(chromedp.ID("series-reason")),
		chromedp.SetValue(chromedp.ID("series-new-status"), "under_investigation"),
		chromedp.SendKeys(chromedp.ID("series-reason"), "the match was wrong"),
		chromedp.Submit(chromedp.ID("series-reason")),
		chromedp.WaitVisible(chromedp.ID("notice-changed")),
	)
	step(t, ctx, "open the alerts",
		chromedp.Click(chromedp.CSS(`nav a[href="/alerts"]`)),
		chromedp.WaitVisible(chromedp.ID("alerts-none")),
	)
}
