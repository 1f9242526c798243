package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

var itemRowRE = regexp.MustCompile(`<tr id="item-(\d+)">`)

func TestItemPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		e.addUser("analyst@nl-hotline.example", "NL-HOTLINE", alliance.RoleAnalyst)
		e.addUser("auditor@se-hotline.example", "SE-HOTLINE", alliance.RoleAuditor)
		seURL, nlURL := "https://se.example.test/a", "http://"+trace.ExampleNL+"/b"

		t.Run("anonymous visitors are sent to log in", func(t *testing.T) {
			c := e.client()
			for _, p := range []string{"/items", "/items/1", "/reports/1"} {
				res := c.get(p)
				wantStatus(t, res, http.StatusSeeOther)
				if loc := res.Header.Get("Location"); loc != "/login" {
					t.Errorf("%s: Location = %q, want /login", p, loc)
				}
			}
			wantStatus(t, c.post("/items/1/retrace", url.Values{}), http.StatusSeeOther)
		})

		ref := reference(t, e.client().submitReport(url.Values{"urls": {seURL + "\n" + nlURL}, "email": {"reporter@example.com"}}))
		c := e.client()
		c.login(se.Email)

		t.Run("list before the trace", func(t *testing.T) {
			res := c.get("/items")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `<code class="url">`+seURL+`</code>`, `<code class="url">`+nlURL+`</code>`,
				"Waiting for trace", `<a href="/items" aria-current="page">`)
			if strings.Contains(res.Body, `href="`+seURL) || strings.Contains(res.Body, `href="`+nlURL) {
				t.Error("a reported URL is a live link")
			}
		})

		e.traceAll()
		items := e.visibleItems(se)
		seItem, nlItem := itemByURL(t, items, seURL), itemByURL(t, items, nlURL)
		ipdb, err := trace.Default()
		if err != nil {
			t.Fatal(err)
		}
		date := ipdb.DataDate()
		if date == "" {
			t.Fatal("the bundled IP data has no date")
		}

		t.Run("list after the trace, with filters", func(t *testing.T) {
			res := c.get("/items")
			wantContains(t, res.Body, "Sweden (SE)", "Netherlands (NL)", "National · <code>SE-HOTLINE</code>",
				"Forward · <code>NL-HOTLINE</code>", date, `href="https://db-ip.com"`, "IP geolocation by DB-IP")
			for _, tc := range []struct {
				query    string
				want     []int64
				selected string
			}{
				{"route=national", []int64{seItem.ID}, `<option value="national" selected>`},
				{"route=forward", []int64{nlItem.ID}, `<option value="forward" selected>`},
				{"country=nl", []int64{nlItem.ID}, `value="NL"`},
				{"status=new", nil, `<option value="new" selected>`},
			} {
				res := c.get("/items?" + tc.query)
				wantStatus(t, res, http.StatusOK)
				wantContains(t, res.Body, tc.selected, `href="/items">Clear the filters`)
				var got []int64
				for _, m := range itemRowRE.FindAllStringSubmatch(res.Body, -1) {
					id, _ := strconv.ParseInt(m[1], 10, 64)
					got = append(got, id)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%s lists %v, want %v", tc.query, got, tc.want)
				}
			}
			wantStatus(t, c.get("/items?status=bogus"), http.StatusBadRequest)
		})

		t.Run("item page shows trace and route", func(t *testing.T) {
			res := c.get(fmt.Sprintf("/items/%d", seItem.ID))
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `<code class="url" id="item-url">`+seURL+`</code>`, "<code>se.example.test</code>",
				"<code>"+trace.ExampleSE+"</code>", "Sweden (SE)", "AS1653", `<span id="trace-data-date">`+date+`</span>`,
				`<a href="https://db-ip.com">IP geolocation by DB-IP</a>`, "National", "<code>SE-HOTLINE</code>",
				"<code>SE-POLICE</code>", `id="history-caption"`, ref, fmt.Sprintf(`href="/reports/%d"`, seItem.ReportID),
				fmt.Sprintf(`action="/items/%d/retrace"`, seItem.ID))
			if strings.Contains(res.Body, `href="`+seURL) {
				t.Error("the reported URL is a live link")
			}
			nl := c.get(fmt.Sprintf("/items/%d", nlItem.ID))
			wantContains(t, nl.Body, "Netherlands (NL)", "Forward", "<code>NL-HOTLINE</code>", "AS3333")
		})

		t.Run("swedish item page", func(t *testing.T) {
			res := c.get(fmt.Sprintf("/items/%d?lang=sv", seItem.ID))
			wantContains(t, res.Body, `<html lang="sv">`, "Sverige (SE)", "Nationell", "IP-geolokalisering från DB-IP")
			c.get("/?lang=en")
		})

		t.Run("re-trace", func(t *testing.T) {
			page := c.get(fmt.Sprintf("/items/%d", seItem.ID))
			token := regexp.MustCompile(`action="/items/\d+/retrace"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]*)"`).FindStringSubmatch(page.Body)
			if token == nil {
				t.Fatal("no re-trace form")
			}
			wantStatus(t, c.post(fmt.Sprintf("/items/%d/retrace", seItem.ID), url.Values{"csrf": {csrf(t, page.Body)}}), http.StatusForbidden) // the logout token
			res := c.post(fmt.Sprintf("/items/%d/retrace", seItem.ID), url.Values{"csrf": {token[1]}})
			wantStatus(t, res, http.StatusSeeOther)
			loc := res.Header.Get("Location")
			if loc != fmt.Sprintf("/items/%d?retraced=1", seItem.ID) {
				t.Fatalf("Location = %q", loc)
			}
			wantContains(t, c.get(loc).Body, "queued for a new trace")
		})

		t.Run("report page", func(t *testing.T) {
			res := c.get(fmt.Sprintf("/reports/%d", seItem.ReportID))
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, ref, `<code class="url">`+seURL+`</code>`, `<code class="url">`+nlURL+`</code>`,
				"reporter@example.com", "Public", "Something else", fmt.Sprintf(`href="/items/%d"`, nlItem.ID))
		})

		t.Run("other organisations", func(t *testing.T) {
			nl := e.client()
			nl.login("analyst@nl-hotline.example")
			wantStatus(t, nl.get(fmt.Sprintf("/items/%d", seItem.ID)), http.StatusNotFound)
			wantStatus(t, nl.get(fmt.Sprintf("/reports/%d", seItem.ReportID)), http.StatusNotFound)
			// The item forwarded to NL is visible there.
			fwd := nl.get(fmt.Sprintf("/items/%d", nlItem.ID))
			wantStatus(t, fwd, http.StatusOK)
			wantContains(t, fwd.Body, nlURL, "<code>NL-HOTLINE</code>")
			if strings.Contains(fwd.Body, "reporter@example.com") {
				t.Error("the destination organisation sees the reporter's e-mail address")
			}
			list := nl.get("/items")
			wantContains(t, list.Body, nlURL)
			if strings.Contains(list.Body, seURL) {
				t.Error("NL-HOTLINE lists SE-HOTLINE's national item")
			}
			wantStatus(t, nl.get("/items/999999"), http.StatusNotFound)
			wantStatus(t, nl.get("/items/x"), http.StatusNotFound)
		})

		t.Run("roles without reports", func(t *testing.T) {
			a := e.client()
			a.login("auditor@se-hotline.example")
			wantStatus(t, a.get("/items"), http.StatusForbidden)
			if strings.Contains(a.get("/").Body, `href="/items"`) {
				t.Error("the auditor's navigation links to /items")
			}
		})
	})
}

func TestItemsNextPage(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)
	u := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
	lines := make([]string, 53)
	for i := range lines {
		lines[i] = fmt.Sprintf("https://se.example.test/page/%d", i)
	}
	reference(t, e.client().submitReport(url.Values{"urls": {strings.Join(lines, "\n")}}))
	c := e.client()
	c.login(u.Email)
	seen := map[string]bool{}
	next := "/items"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("the pager does not end")
		}
		res := c.get(next)
		wantStatus(t, res, http.StatusOK)
		for _, m := range itemRowRE.FindAllStringSubmatch(res.Body, -1) {
			if seen[m[1]] {
				t.Errorf("item %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]*)" rel="next">Next page</a>`).FindStringSubmatch(res.Body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != len(lines) {
		t.Errorf("the pages list %d items, want %d", len(seen), len(lines))
	}
}
