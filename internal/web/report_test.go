package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

var (
	keyRE      = regexp.MustCompile(`name="key" value="([^"]*)"`)
	reportCSRF = regexp.MustCompile(`action="/report"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]*)"`)
	thanksRE   = regexp.MustCompile(`^/report/thanks\?ref=(R-[A-Za-z0-9-]+)$`)
	textareaRE = regexp.MustCompile(`(?s)<textarea id="urls"[^>]*>\n(.*?)</textarea>`)
)

// submitReport fetches the report form, fills in its hidden fields and posts
// it with the given fields.
func (c *client) submitReport(fields url.Values) response {
	c.e.t.Helper()
	form := c.get("/report")
	wantStatus(c.e.t, form, http.StatusOK)
	v := url.Values{"csrf": {reportToken(c.e.t, form.Body)}}
	if m := keyRE.FindStringSubmatch(form.Body); m != nil {
		v.Set("key", m[1])
	}
	for k, vs := range fields {
		v[k] = vs
	}
	return c.post("/report", v)
}

// reportToken returns the CSRF token of the report form in a page.
func reportToken(t *testing.T, body string) string {
	t.Helper()
	m := reportCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no report form in page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// reference returns the report reference of a redirect to the thanks page.
func reference(t *testing.T, r response) string {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	m := thanksRE.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		t.Fatalf("Location = %q, want the thanks page with a reference", r.Header.Get("Location"))
	}
	return m[1]
}

// visibleItems returns every item u may see, through the app.
func (e *env) visibleItems(u alliance.User) []alliance.Item {
	e.t.Helper()
	ctx := alliance.NewContextWithActor(e.t.Context(), u.Actor())
	var all []alliance.Item
	f := app.ItemFilter{Limit: 500}
	for {
		pg, err := e.app.Items(ctx, f)
		if err != nil {
			e.t.Fatalf("Items as %s: %v", u.Email, err)
		}
		all = append(all, pg.Items...)
		if pg.Next == "" {
			return all
		}
		f.Cursor = pg.Next
	}
}

// itemByURL returns the item with the reported URL among items.
func itemByURL(t *testing.T, items []alliance.Item, u string) alliance.Item {
	t.Helper()
	for _, it := range items {
		if it.URL == u {
			return it
		}
	}
	t.Fatalf("no item for %s among %d", u, len(items))
	return alliance.Item{}
}

func TestReportFormLanguages(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/report", []string{`<html lang="en">`, `<label for="urls">Web addresses</label>`,
			`<label for="category-csam">Child sexual abuse material</label>`,
			`<label for="category-grooming">Grooming or solicitation of a child</label>`,
			`<label for="category-sextortion">Sexual extortion of a child</label>`,
			`<label for="category-other">Something else</label>`,
			"deleted after 90 days", "Do not download", `<button type="submit">Send report</button>`}},
		{"/report?lang=sv", []string{`<html lang="sv">`, `<label for="urls">Webbadresser</label>`,
			`<label for="category-csam">Material som visar sexuella övergrepp mot barn</label>`,
			`<label for="category-sextortion">Sexuell utpressning av barn</label>`,
			`<label for="category-other">Något annat</label>`,
			"raderas efter 90 dagar", "Ladda inte ner", `<button type="submit">Skicka rapporten</button>`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c := e.client()
			res := c.get(tc.path)
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, tc.want...)
			wantContains(t, res.Body, `<form method="post" action="/report"`, `name="csrf"`, `name="key"`,
				`type="radio"`, `<input id="email" name="email" type="email"`, `href="/report"`)
			if ck := res.cookie("__Host-alliance_login"); ck == nil || !ck.Secure || !ck.HttpOnly {
				t.Errorf("form cookie = %v, want a Secure, HttpOnly __Host- cookie", ck)
			}
			for _, bad := range []string{"<script", "style=", "<style"} {
				if strings.Contains(res.Body, bad) {
					t.Errorf("page has %q, which the CSP blocks", bad)
				}
			}
		})
	}
}

func TestReportSubmit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		analyst := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		good := url.Values{
			"urls":        {"https://se.example.test/a\r\n\r\nhttp://nl.example.test/b\r\n"},
			"category":    {"grooming"},
			"description": {"Found through a search."},
			"email":       {"reporter@example.com"},
		}

		t.Run("CSRF", func(t *testing.T) {
			c := e.client()
			form := c.get("/report")
			token := csrf(t, form.Body)
			for name, tok := range map[string]string{"missing": "", "wrong": string(token[0]^1) + token[1:]} {
				v := url.Values{"csrf": {tok}, "urls": {"https://se.example.test/csrf"}}
				res := c.post("/report", v)
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s token: status %d, want 403", name, res.StatusCode)
				}
			}
			// The token without its cookie: a form posted from another site.
			res := e.client().post("/report", url.Values{"csrf": {token}, "urls": {"https://se.example.test/csrf"}})
			wantStatus(t, res, http.StatusForbidden)
			// The login form's token is for another purpose.
			login := c.get("/login")
			res = c.post("/report", url.Values{"csrf": {csrf(t, login.Body)}, "urls": {"https://se.example.test/csrf"}})
			wantStatus(t, res, http.StatusForbidden)
		})

		t.Run("invalid input comes back with the error at its line", func(t *testing.T) {
			for _, tc := range []struct {
				name, urls string
				want       []string
			}{
				{"line 2", "https://se.example.test/ok\nftp://se.example.test/file", []string{"Line 2: this is not a web address"}},
				{"line 3 after a blank line", "https://se.example.test/ok\n\nnot a web address", []string{"Line 3: this is not a web address"}},
				{"none", "\n  \n", []string{"Check the web addresses"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c := e.client()
					v := url.Values{"urls": {tc.urls}, "category": {"sextortion"}, "description": {"Kept <text>"}, "email": {"kept@example.com"}}
					res := c.submitReport(v)
					wantStatus(t, res, http.StatusBadRequest)
					wantContains(t, res.Body, tc.want...)
					wantContains(t, res.Body, `id="error-summary"`, `role="alert"`, `<a href="#urls">`, `id="urls-error"`,
						`aria-describedby="urls-hint urls-error" aria-invalid="true"`,
						`value="sextortion" checked`, "Kept &lt;text&gt;", `value="kept@example.com"`)
					m := textareaRE.FindStringSubmatch(res.Body)
					if m == nil || html.UnescapeString(m[1]) != tc.urls {
						t.Errorf("the URLs were not kept: %q, want %q", m, tc.urls)
					}
				})
			}
			t.Run("e-mail", func(t *testing.T) {
				res := e.client().submitReport(url.Values{"urls": {"https://se.example.test/mail"}, "email": {"not an address"}})
				wantStatus(t, res, http.StatusBadRequest)
				wantContains(t, res.Body, `<a href="#email">`, `id="email-error"`, `aria-invalid="true"`, `value="not an address"`)
			})
			t.Run("in Swedish", func(t *testing.T) {
				c := e.client()
				c.header.Set("Accept-Language", "sv")
				res := c.submitReport(url.Values{"urls": {"https://se.example.test/ok\nftp://se.example.test/x"}})
				wantStatus(t, res, http.StatusBadRequest)
				wantContains(t, res.Body, `<html lang="sv">`, "Rad 2:", "Det finns ett problem med din rapport")
			})
			// Nothing of the rejected reports was stored.
			for _, it := range e.visibleItems(analyst) {
				if strings.Contains(it.URL, "/ok") || strings.Contains(it.URL, "/mail") {
					t.Errorf("a rejected report left item %s", it.URL)
				}
			}
		})

		var ref string
		t.Run("valid report goes to the thanks page", func(t *testing.T) {
			c := e.client()
			res := c.submitReport(good)
			ref = reference(t, res)
			thanks := c.get(res.Header.Get("Location"))
			wantStatus(t, thanks, http.StatusOK)
			wantContains(t, thanks.Body, `<strong id="reference">`+ref+`</strong>`, "Thank you for your report",
				"We cannot tell you the outcome")
			for _, leak := range []string{"se.example.test", "nl.example.test", "reporter@example.com", "Found through"} {
				if strings.Contains(thanks.Body, leak) {
					t.Errorf("the thanks page shows %q", leak)
				}
			}

			// The report belongs to the home organisation, with what was sent.
			it := itemByURL(t, e.visibleItems(analyst), "https://se.example.test/a")
			ctx := alliance.NewContextWithActor(t.Context(), analyst.Actor())
			rep, err := e.app.Report(ctx, it.ReportID)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reference != ref || rep.OrgCode != "SE-HOTLINE" || rep.Category != alliance.CategoryGrooming ||
				rep.Description != "Found through a search." || rep.ReporterEmail != "reporter@example.com" ||
				rep.Source != alliance.SourcePublic || rep.SubmittedBy != 0 || len(rep.Items) != 2 {
				t.Errorf("stored report = %+v", rep)
			}
		})

		t.Run("the same form sent twice makes one report", func(t *testing.T) {
			c := e.client()
			form := c.get("/report")
			v := url.Values{"csrf": {csrf(t, form.Body)}, "key": {keyRE.FindStringSubmatch(form.Body)[1]},
				"urls": {"https://se.example.test/twice"}}
			first, second := reference(t, c.post("/report", v)), reference(t, c.post("/report", v))
			if first != second {
				t.Errorf("double submission made %s and %s", first, second)
			}
			n := 0
			for _, it := range e.visibleItems(analyst) {
				if it.URL == "https://se.example.test/twice" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d items for a form sent twice, want 1", n)
			}
		})

		t.Run("thanks page needs a reference", func(t *testing.T) {
			c := e.client()
			for _, q := range []string{"", "?ref=", "?ref=CALL+THIS+NUMBER", "?ref=R-<b>"} {
				wantStatus(t, c.get("/report/thanks"+q), http.StatusNotFound)
			}
		})

		t.Run("signed-in user reports for the organisation", func(t *testing.T) {
			c := e.client()
			c.login(analyst.Email)
			// An anonymous form token is no good within a session.
			anon := e.client()
			form := anon.get("/report")
			res := c.post("/report", url.Values{"csrf": {csrf(t, form.Body)}, "urls": {"https://se.example.test/staff"}})
			wantStatus(t, res, http.StatusForbidden)

			ref := reference(t, c.submitReport(url.Values{"urls": {"https://se.example.test/staff"}}))
			it := itemByURL(t, e.visibleItems(analyst), "https://se.example.test/staff")
			rep, err := e.app.Report(alliance.NewContextWithActor(t.Context(), analyst.Actor()), it.ReportID)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reference != ref || rep.OrgCode != "SE-HOTLINE" || rep.SubmittedBy != analyst.ID {
				t.Errorf("stored report = %+v", rep)
			}
		})
	})
}

func TestReportRateLimit(t *testing.T) {
	e := newEnv(t, testutil.NewSQLite(t), true)
	c := e.client()
	c.remote = "203.0.113.9:40000"
	form := c.get("/report")
	token := csrf(t, form.Body)
	var res response
	for i := range 1000 {
		res = c.post("/report", url.Values{"csrf": {token}, "urls": {"https://se.example.test/limit/" + strconv.Itoa(i)},
			"description": {"kept while waiting"}})
		if res.StatusCode != http.StatusSeeOther {
			break
		}
	}
	wantStatus(t, res, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds", res.Header.Get("Retry-After"))
	}
	wantContains(t, res.Body, "Too many reports have been sent from your connection", "Please wait", "kept while waiting", `role="alert"`)

	// Another client is not held to this one's limit.
	other := e.client()
	other.remote = "198.51.100.20:40000"
	reference(t, other.submitReport(url.Values{"urls": {"https://se.example.test/other-client"}}))
}
