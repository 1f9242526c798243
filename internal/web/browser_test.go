package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"alliance"
	"alliance/internal/testutil"
	"alliance/internal/web"
)

// screenshotEnv names a directory; when set, the browser test saves
// web-home.png and web-countries.png there for people to look at.
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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		e.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

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
