package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"alliance/internal/testutil"
)

// TestDemoLoginInBrowser starts the demo as a user would, on :0, and logs in
// through the form in headless Chromium.
func TestDemoLoginInBrowser(t *testing.T) {
	env := map[string]string{"ALLIANCE_DB": filepath.Join(t.TempDir(), "demo.db")}
	base := serveMain(t, env, "demo")
	ctx := testutil.Browser(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "analyst@se-hotline.example.org"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), demoPassword),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.logout button`)),
	); err != nil {
		t.Fatalf("browser login: %v", err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "analyst@se-hotline.example.org") {
		t.Errorf("home page after login does not show the user; body:\n%s", body)
	}
	if strings.Contains(body, "Wrong e-mail") {
		t.Errorf("login failed: %s", body)
	}
	if lang != "en" {
		t.Errorf(`<html lang> = %q, want "en"`, lang)
	}
}
