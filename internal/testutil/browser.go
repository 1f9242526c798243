package testutil

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BrowserTimeout bounds one test's use of the browser, start-up included,
// unless the test's own deadline comes sooner.
const BrowserTimeout = 90 * time.Second

// ChromiumPath returns the Chromium binary to drive: $ALLIANCE_CHROMIUM,
// else /usr/bin/chromium, else chromium, chromium-browser or google-chrome
// on $PATH; "" when there is none.
func ChromiumPath() string {
	if p := os.Getenv("ALLIANCE_CHROMIUM"); p != "" {
		return p
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser starts a headless Chromium for the test and returns a chromedp
// context for it (one tab). The browser runs with a throw-away profile, no
// sandbox (containers), no GPU, no QUIC and none of its background traffic,
// and is closed, with its profile removed, when the test ends.
//
// Without Chromium the test is skipped, except under CI (env CI set), where
// browser tests must run and the test fails instead.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath()
	if path == "" {
		const msg = "Chromium not found: install the Debian package chromium or set ALLIANCE_CHROMIUM to a Chrome/Chromium binary"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so browser tests must run)")
		}
		t.Skip(msg)
	}
	// Not t.TempDir: Chromium's helper processes may still be writing into the
	// profile while the test is torn down, and a failed removal there would
	// fail the test. The profile is removed best-effort after the browser.
	profile, err := os.MkdirTemp("", "alliance-chromium-")
	if err != nil {
		t.Fatalf("browser profile: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)

	timeout := BrowserTimeout
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			// Leave a few seconds to shut the browser down before the test binary is killed.
			if left := time.Until(dl) - 5*time.Second; left < timeout {
				timeout = max(left, time.Second)
			}
		}
	}
	parent, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	// chromedp's goroutines may report after the test has ended, when t.Logf
	// would panic; ended stops that.
	var (
		mu    sync.Mutex
		ended bool
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		// chromedp reports CDP events it cannot decode from newer browsers; not the test's concern.
		if strings.Contains(format, "could not unmarshal event") {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Logf("chromedp: "+format, args...)
		}
	}))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		mu.Lock()
		ended = true
		mu.Unlock()
	})
	// Start the browser now, so that a broken installation fails here with a
	// clear message rather than in the test's first action.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return ctx
}
