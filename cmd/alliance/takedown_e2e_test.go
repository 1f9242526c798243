package main

import (
	"context"
	"crypto/md5"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"alliance/internal/demosite"
	"alliance/internal/testutil"
	"alliance/internal/testutil/smtpsink"
)

// TestTakedownEndToEnd is issue 6's "done when", on the real binary: a
// report of an image on a local test site is traced (an operator range
// maps the site's address to Sweden), routed national, fetched; the analyst
// assesses it in a real browser (or through the API where no browser is
// wanted); the police clear it; the notice reaches a local SMTP sink; the
// site stops serving the file; the re-check marks the item removed with
// its times; the takedown figures show it. A known image reported with it
// skips the queue: it is assessed from its bank match.
func TestTakedownEndToEnd(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			var removed atomic.Bool
			site := demosite.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if removed.Load() && r.URL.Path == "/noise/41.png" {
					http.NotFound(w, r)
					return
				}
				site.ServeHTTP(w, r)
			}))
			defer srv.Close()
			port := srv.Listener.Addr().String()[strings.LastIndex(srv.Listener.Addr().String(), ":")+1:]
			sink := smtpsink.Start(t)

			dir := t.TempDir()
			env := map[string]string{"ALLIANCE_DB": dsn,
				"ALLIANCE_HOSTS":     writeFile(t, dir, "site.hosts", "127.0.0.1 site.example.test\n"),
				"ALLIANCE_IP_RANGES": writeFile(t, dir, "site.csv", "cidr,country,asn,org\n127.0.0.0/8,SE,64512,Test site network\n")}
			cli(t, env, "", "migrate")
			const password = "a long test passphrase"
			for _, u := range []struct{ email, org, role string }{
				{"analyst@se.example.org", "SE-HOTLINE", "analyst"},
				{"police@se.example.org", "SE-POLICE", "police"},
			} {
				if code, _, errOut := cli(t, env, password+"\n", "user", "add", "--email", u.email, "--org", u.org, "--role", u.role, "--password-stdin"); code != exitOK {
					t.Fatalf("user add %s: %s", u.email, errOut)
				}
			}
			// A bank that knows noise image 42 by its MD5, classified.
			known := md5.Sum(demosite.NoisePNG(42))
			if code, _, errOut := cli(t, env, "", "bank", "create", "--org", "SE-HOTLINE", "--name", "known"); code != exitOK {
				t.Fatalf("bank create: %s", errOut)
			}
			bankFile := writeFile(t, dir, "known.csv", fmt.Sprintf("algorithm,value,category,category_scheme\nmd5,%x,baseline,test\n", known))
			if code, _, errOut := cli(t, env, "", "bank", "import", "--bank", "SE-HOTLINE/known", "--format", "csv", bankFile); code != exitOK {
				t.Fatalf("bank import: %s", errOut)
			}
			analyst := apiClient{t: t, token: createToken(t, env, "analyst@se.example.org", "SE-HOTLINE", "analyst")}
			police := apiClient{t: t, token: createToken(t, env, "police@se.example.org", "SE-POLICE", "police")}
			node := startMain(t, env, "serve", "--allow-private-fetch", "--secure-cookies=false",
				"--smtp-addr", sink.Addr, "--smtp-starttls", "never", "--notice-from", "notices@se-hotline.example.org",
				"--police-grace", "1h", "--recheck-interval", "1s")
			analyst.base, police.base = node.base, node.base

			url := "http://site.example.test:" + port + "/noise/41.png"
			var rep struct {
				Items []apiItem `json:"items"`
			}
			if code := analyst.do("POST", "/api/v1/reports", map[string]any{"urls": []string{url, "http://site.example.test:" + port + "/noise/42.png"}}, &rep); code != http.StatusCreated {
				t.Fatalf("report: %d", code)
			}
			id, knownID := rep.Items[0].ID, rep.Items[1].ID
			type takedownItem struct {
				Route *struct {
					Kind         string `json:"kind"`
					Organisation string `json:"organisation"`
				} `json:"route"`
				Fetch *struct {
					Status string `json:"status"`
				} `json:"fetch"`
				Takedown *struct {
					Status     string     `json:"status"`
					Police     string     `json:"police"`
					AssessedAt *time.Time `json:"assessed_at"`
					NoticeAt   *time.Time `json:"first_notice_at"`
					RemovedAt  *time.Time `json:"removed_at"`
				} `json:"takedown"`
			}
			waitItem := func(what string, cond func(takedownItem) bool) takedownItem {
				t.Helper()
				deadline := time.Now().Add(60 * time.Second)
				for {
					var it takedownItem
					if code := analyst.do("GET", fmt.Sprintf("/api/v1/items/%d", id), nil, &it); code != http.StatusOK {
						t.Fatalf("GET item: %d", code)
					}
					if cond(it) {
						return it
					}
					if time.Now().After(deadline) {
						t.Fatalf("waiting for %s: %+v\n%s", what, it, node.logs.String())
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
			it := waitItem("the fetch", func(it takedownItem) bool { return it.Fetch != nil && it.Fetch.Status != "pending" })
			id, knownID = knownID, id
			waitItem("the known item's fetch", func(it takedownItem) bool { return it.Fetch != nil && it.Fetch.Status != "pending" })
			id, knownID = knownID, id
			if it.Route == nil || it.Route.Kind != "national" || it.Route.Organisation != "SE-HOTLINE" || it.Fetch.Status != "fetched" {
				t.Fatalf("route %+v fetch %+v, want national SE-HOTLINE, fetched", it.Route, it.Fetch)
			}

			// The known image skips the queue: assessed from its match, police notified.
			var queue struct {
				Items []apiItem `json:"items"`
			}
			if code := analyst.do("GET", "/api/v1/queue", nil, &queue); code != http.StatusOK || len(queue.Items) != 1 || queue.Items[0].ID != id {
				t.Errorf("queue: %d %+v, want only item %d", code, queue.Items, id)
			}
			var knownItem takedownItem
			if code := analyst.do("GET", fmt.Sprintf("/api/v1/items/%d", knownID), nil, &knownItem); code != http.StatusOK ||
				knownItem.Takedown == nil || knownItem.Takedown.Status != "police_notified" {
				t.Errorf("known item: %d %+v", code, knownItem.Takedown)
			}

			if name == "sqlite" {
				assessInBrowser(t, node.base, "analyst@se.example.org", password, id)
			} else {
				body := map[string]any{"verdict": "baseline", "content_type": "image", "labels": map[string]string{"age_band": "unknown"}}
				var out map[string]any
				if code := analyst.do("POST", fmt.Sprintf("/api/v1/items/%d/assessments", id), body, &out); code != http.StatusCreated {
					t.Fatalf("assess: %d %v", code, out)
				}
			}
			it = waitItem("the police notification", func(it takedownItem) bool { return it.Takedown != nil })
			if it.Takedown.Status != "police_notified" || it.Takedown.Police != "SE-POLICE" {
				t.Fatalf("after the assessment: %+v", it.Takedown)
			}
			var out map[string]any
			if code := police.do("POST", fmt.Sprintf("/api/v1/items/%d/clear", id), map[string]any{"reason": "no investigation"}, &out); code != http.StatusOK {
				t.Fatalf("clear: %d %v", code, out)
			}
			it = waitItem("the notice", func(it takedownItem) bool { return it.Takedown.Status == "notice_sent" })
			msgs := sink.Messages()
			if len(msgs) != 1 || msgs[0].To[0] != "abuse@example.test" || !strings.Contains(msgs[0].Body, url) {
				// The known item is still within the police's grace: only one notice.
				t.Fatalf("notices in the sink: %+v", msgs)
			}

			removed.Store(true)
			it = waitItem("the removal", func(it takedownItem) bool { return it.Takedown.Status == "removed" })
			td := it.Takedown
			if td.AssessedAt == nil || td.NoticeAt == nil || td.RemovedAt == nil || td.RemovedAt.Before(*td.NoticeAt) || td.NoticeAt.Before(*td.AssessedAt) {
				t.Errorf("times: %+v", td)
			}

			var st struct {
				Overall struct {
					Items   int      `json:"items"`
					Removed int      `json:"removed"`
					Median  *float64 `json:"median_report_to_removal_s"`
				} `json:"overall"`
				ByCountry []struct {
					Country string `json:"country"`
				} `json:"by_country"`
			}
			if code := analyst.do("GET", "/api/v1/stats/takedown", nil, &st); code != http.StatusOK || st.Overall.Items != 2 ||
				st.Overall.Removed != 1 || st.Overall.Median == nil || *st.Overall.Median <= 0 || len(st.ByCountry) != 1 || st.ByCountry[0].Country != "SE" {
				t.Errorf("takedown figures: %d %+v", code, st)
			}
		})
	}
}

// assessInBrowser logs in and assesses an item from the queue in headless
// Chromium: the analyst's steps, as a person takes them.
func assessInBrowser(t *testing.T, base, email, password string, id int64) {
	t.Helper()
	ctx := testutil.Browser(t)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\n%s", what, err, text)
		}
	}
	do("log in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.logout button`)),
	)
	do("open the queue",
		chromedp.Navigate(base+"/queue"),
		chromedp.WaitVisible(chromedp.ID("queue-caption")),
	)
	do("open the item",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/items/%d"]`, id))),
		chromedp.WaitVisible(chromedp.ID("assess-form")),
	)
	do("assess",
		chromedp.Click(chromedp.ID("verdict-baseline")),
		chromedp.SetValue(chromedp.ID("content-type"), "image"),
		chromedp.SetValue(chromedp.ID("label-age_band"), "unknown"),
		chromedp.Click(chromedp.CSS(`#assess-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("notice-assessed")),
	)
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("takedown-status")))
	if err != nil || status != "Police notified" {
		t.Errorf("takedown status in the browser %q, %v; want Police notified", status, err)
	}
}
