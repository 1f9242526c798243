package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

var alertRowRE = regexp.MustCompile(`<tr id="alert-(\d+)" class="(read|unread)">`)

// TestSeriesPages walks the police's series pages: create, list, filter,
// change the status forward and back, edit; the secretariat's read-only
// view; an analyst's refusal.
func TestSeriesPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		police := e.addUser("police@se-police.example", "SE-POLICE", alliance.RolePolice)
		sec := e.addUser("secretariat@alliance.example", alliance.SecretariatCode, alliance.RoleSecretariat)
		analyst := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		const code = "SE 2026/001" // a space and a slash: the URL escapes both
		seriesPath := "/series/SE%202026%2F001"

		cp := e.client()
		cp.login(police.Email)
		list := cp.get("/series")
		wantStatus(t, list, http.StatusOK)
		wantContains(t, list.Body, `id="series-none"`, `id="series-form"`, `<a href="/series" aria-current="page">Series</a>`,
			`<a href="/alerts">Alerts</a>`, "An organisation&#39;s desk")
		tok := formToken(t, list.Body, "/series")

		t.Run("refused creations", func(t *testing.T) {
			wantStatus(t, cp.post("/series", url.Values{"csrf": {"forged"}, "code": {code}}), http.StatusForbidden)
			res := cp.post("/series", url.Values{"csrf": {tok}, "code": {"  "}, "refs": {"kept ref"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="series-code-error"`, "A series code is 1 to 100 characters", `value="kept ref"`)
		})

		res := cp.post("/series", url.Values{"csrf": {tok}, "code": {code}, "refs": {"INTERPOL ref X-1"},
			"contact": {"SE-POLICE identification desk"}, "do_not_duplicate": {"1"}, "notes": {"internal lead 7"}})
		wantStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != seriesPath+"?created=1" {
			t.Fatalf("Location = %q, want %s?created=1", loc, seriesPath)
		}
		page := cp.get(seriesPath + "?created=1")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, "Series SE 2026/001", `id="notice-created"`, `data-status="unidentified">Unidentified`,
			"INTERPOL ref X-1", "SE-POLICE identification desk", "internal lead 7", `id="status-form"`, `id="edit-form"`,
			`action="`+seriesPath+`/status"`, `id="series-dnd" name="do_not_duplicate" value="1" checked`)

		t.Run("code in use", func(t *testing.T) {
			res := cp.post("/series", url.Values{"csrf": {tok}, "code": {code}})
			wantStatus(t, res, http.StatusConflict)
			wantContains(t, res.Body, `id="series-code-error"`, "exists")
		})

		t.Run("list and filter", func(t *testing.T) {
			res := cp.get("/series")
			wantContains(t, res.Body, `<a href="`+seriesPath+`">SE 2026/001</a>`, "<code>SE-POLICE</code>", "Unidentified", "Yes")
			wantContains(t, cp.get("/series?owner=se-police").Body, `href="`+seriesPath+`"`, `value="SE-POLICE"`)
			wantContains(t, cp.get("/series?owner=NL-POLICE").Body, `id="series-none"`)
			wantStatus(t, cp.get("/series?owner=%3Cscript%3E"), http.StatusBadRequest)
			wantStatus(t, cp.get("/series/no%20such"), http.StatusNotFound)
		})

		stok := formToken(t, page.Body, "/status")
		status := func(to, reason string) response {
			t.Helper()
			return cp.post(seriesPath+"/status", url.Values{"csrf": {stok}, "status": {to}, "reason": {reason}})
		}
		t.Run("status forward", func(t *testing.T) {
			for _, to := range []string{"under_investigation", "identified"} {
				res := status(to, "")
				wantStatus(t, res, http.StatusSeeOther)
				if loc := res.Header.Get("Location"); loc != seriesPath+"?changed=1" {
					t.Errorf("Location = %q", loc)
				}
			}
			page := cp.get(seriesPath + "?changed=1")
			wantContains(t, page.Body, `id="notice-changed"`, `data-status="identified">Identified`,
				"Unidentified → Under investigation", "Under investigation → Identified", `<option value="identified" selected>`)
			if strings.Contains(page.Body, `<dt>Identified</dt><dd>–</dd>`) {
				t.Error("the time of identification is missing")
			}
		})
		t.Run("status back", func(t *testing.T) {
			res := status("under_investigation", " ")
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="series-reason-error"`, "Going back from identified to under_investigation needs a reason.",
				`<option value="under_investigation" selected>`, `data-status="identified"`)
			wantStatus(t, status("nowhere", ""), http.StatusBadRequest)
			res = status("under_investigation", "the match was wrong")
			wantStatus(t, res, http.StatusSeeOther)
			wantContains(t, cp.get(seriesPath).Body, `data-status="under_investigation"`, "the match was wrong")
			wantStatus(t, status("identified", ""), http.StatusSeeOther)
		})
		t.Run("edit", func(t *testing.T) {
			etok := formToken(t, page.Body, "/edit")
			res := cp.post(seriesPath+"/edit", url.Values{"csrf": {etok}, "refs": {"NCMEC ref Y-2"}, "contact": {strings.Repeat("x", 201)}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="series-contact-error"`, "never a person", `value="NCMEC ref Y-2"`)
			res = cp.post(seriesPath+"/edit", url.Values{"csrf": {etok}, "refs": {"NCMEC ref Y-2"}, "contact": {"SE-POLICE desk"},
				"do_not_duplicate": {"1"}, "notes": {"lead closed"}})
			wantStatus(t, res, http.StatusSeeOther)
			wantContains(t, cp.get(seriesPath).Body, "NCMEC ref Y-2", "SE-POLICE desk", "lead closed", `id="series-dnd-value">Yes`)
		})

		t.Run("secretariat reads without notes or forms", func(t *testing.T) {
			c := e.client()
			c.login(sec.Email)
			res := c.get("/series")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `href="`+seriesPath+`"`, `<a href="/series"`)
			wantLacks(t, res.Body, `id="series-form"`)
			res = c.get(seriesPath)
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, "NCMEC ref Y-2", `data-status="identified"`, `id="series-history"`)
			wantLacks(t, res.Body, "lead closed", "internal lead 7", `id="series-notes-value"`, `id="status-form"`, `id="edit-form"`)
			// The page's logout token is for another purpose.
			wantStatus(t, c.post(seriesPath+"/status", url.Values{"csrf": {csrf(t, res.Body)}, "status": {"safeguarded"}}), http.StatusForbidden)
		})

		t.Run("analysts may not see series", func(t *testing.T) {
			c := e.client()
			c.login(analyst.Email)
			wantStatus(t, c.get("/series"), http.StatusForbidden)
			wantStatus(t, c.get(seriesPath), http.StatusForbidden)
			res := c.get("/alerts")
			wantStatus(t, res, http.StatusForbidden)
			wantLacks(t, res.Body, `href="/series"`, `href="/alerts"`)
		})

		t.Run("anonymous", func(t *testing.T) {
			res := e.client().get("/series")
			wantStatus(t, res, http.StatusSeeOther)
		})
	})
}

// TestDeconflictionAndAlerts links an item by hand: the item page's
// answer goes from new material to coordinate (and the owner gets one
// alert, which it marks read) to stand down, and back on unlinking.
func TestDeconflictionAndAlerts(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		analyst := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		police := e.addUser("police@se-police.example", "SE-POLICE", alliance.RolePolice)
		const seURL = "https://se.example.test/series-item"
		reference(t, e.client().submitReport(url.Values{"urls": {seURL}}))
		e.traceAll()

		// The analyst assesses the item illegal, which notifies SE-POLICE:
		// from then on the police see it.
		ca := e.client()
		ca.login(analyst.Email)
		ids := queueIDs(ca.get("/queue").Body)
		if len(ids) != 1 {
			t.Fatalf("queue %v, want one item", ids)
		}
		itemPath := "/items/" + ids[0]
		page := ca.get(itemPath)
		wantContains(t, page.Body, `id="deconfliction"`, `data-action="new_material"`, "New material: highest priority for victim identification.")
		wantLacks(t, page.Body, `id="link-form"`)
		res := ca.post(itemPath+"/assess", url.Values{"csrf": {formToken(t, page.Body, "/assess")}, "verdict": {"baseline"},
			"content_type": {"image"}, "label_age_band": {"3_to_12"}, "label_industry_class": {"A1"}})
		wantStatus(t, res, http.StatusSeeOther)

		cp := e.client()
		cp.login(police.Email)
		stok := formToken(t, cp.get("/series").Body, "/series")
		for _, f := range []url.Values{
			{"code": {"SE-OPEN-1"}},
			{"code": {"SE-DONE-1"}, "do_not_duplicate": {"1"}},
		} {
			f.Set("csrf", stok)
			wantStatus(t, cp.post("/series", f), http.StatusSeeOther)
		}
		done := cp.get("/series/SE-DONE-1")
		wantStatus(t, cp.post("/series/SE-DONE-1/status", url.Values{"csrf": {formToken(t, done.Body, "/status")}, "status": {"identified"}}), http.StatusSeeOther)

		page = cp.get(itemPath)
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, `data-action="new_material"`, `id="link-form"`)
		wantLacks(t, page.Body, `id="series-links"`)
		ltok := formToken(t, page.Body, "/series")
		link := func(code, reason string) response {
			t.Helper()
			return cp.post(itemPath+"/series", url.Values{"csrf": {ltok}, "code": {code}, "reason": {reason}})
		}

		t.Run("refused links", func(t *testing.T) {
			res := link("SE-OPEN-1", "")
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="link-reason-error"`, "needs a reason", `value="SE-OPEN-1"`)
			res = link("NO-SUCH", "seen in case 9")
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="link-code-error"`, "Series not found.", `value="seen in case 9"`)
			wantStatus(t, cp.post("/items/999999/series", url.Values{"csrf": {ltok}, "code": {"SE-OPEN-1"}, "reason": {"x"}}), http.StatusNotFound)
			wantStatus(t, cp.post(itemPath+"/series", url.Values{"csrf": {"forged"}, "code": {"SE-OPEN-1"}, "reason": {"x"}}), http.StatusForbidden)
		})

		var alertID string
		t.Run("link to an open series alerts its owner", func(t *testing.T) {
			res := link("SE-OPEN-1", "same room as case 4")
			wantStatus(t, res, http.StatusSeeOther)
			if loc := res.Header.Get("Location"); loc != itemPath+"?linked=1#deconfliction" {
				t.Errorf("Location = %q", loc)
			}
			page := cp.get(itemPath + "?linked=1")
			wantContains(t, page.Body, `id="notice-linked"`, `data-action="coordinate"`, "Coordinate with the owning agency.",
				`<a href="/series/SE-OPEN-1">SE-OPEN-1</a>`, "by hand", "same room as case 4", `<a href="/alerts">Alerts (1)</a>`)

			alerts := cp.get("/alerts")
			wantStatus(t, alerts, http.StatusOK)
			rows := alertRowRE.FindAllStringSubmatch(alerts.Body, -1)
			if len(rows) != 1 || rows[0][2] != "unread" {
				t.Fatalf("alert rows %v, want one unread\n%s", rows, alerts.Body)
			}
			alertID = rows[0][1]
			wantContains(t, alerts.Body, `<a href="/series/SE-OPEN-1">SE-OPEN-1</a>`, `<code class="url">`+seURL+`</code>`,
				"<code>se.example.test</code>", "Sweden (SE)", `href="`+itemPath+`"`, "1 alert, 1 unread", `<a href="/alerts" aria-current="page">Alerts (1)</a>`)

			rtok := formToken(t, alerts.Body, "/read")
			wantStatus(t, cp.post("/alerts/999999/read", url.Values{"csrf": {rtok}}), http.StatusNotFound)
			res = cp.post("/alerts/"+alertID+"/read", url.Values{"csrf": {rtok}})
			wantStatus(t, res, http.StatusSeeOther)
			loc, _, _ := strings.Cut(res.Header.Get("Location"), "#") // browsers keep the fragment
			alerts = cp.get(loc)
			wantContains(t, alerts.Body, `id="notice-read"`, `<tr id="alert-`+alertID+`" class="read">`, "1 alert, 0 unread",
				`<a href="/alerts" aria-current="page">Alerts</a>`)
		})

		t.Run("link to an identified series stands down", func(t *testing.T) {
			wantStatus(t, link("SE-DONE-1", "identified in case 2"), http.StatusSeeOther)
			page := cp.get(itemPath)
			wantContains(t, page.Body, `data-action="stand_down"`, "Stand down: identified by SE-POLICE, do not duplicate.")
			// Identified series raise no alert.
			if rows := alertRowRE.FindAllStringSubmatch(cp.get("/alerts").Body, -1); len(rows) != 1 {
				t.Errorf("alerts %v, want the one", rows)
			}
			// The analyst learns the answer and the owner, not the series.
			page = ca.get(itemPath)
			wantContains(t, page.Body, `data-action="stand_down"`, "Stand down: identified by SE-POLICE", "<code>SE-POLICE</code>")
			wantLacks(t, page.Body, "SE-DONE-1", "SE-OPEN-1", `href="/series/`, `id="link-form"`, "unlink-form")
		})

		t.Run("unlink", func(t *testing.T) {
			page := cp.get(itemPath)
			utok := formToken(t, page.Body, "/series/unlink")
			res := cp.post(itemPath+"/series/unlink", url.Values{"csrf": {utok}, "code": {"SE-DONE-1"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="unlink-error"`, "needs a reason")
			res = cp.post(itemPath+"/series/unlink", url.Values{"csrf": {utok}, "code": {"SE-DONE-1"}, "reason": {"wrong series"}})
			wantStatus(t, res, http.StatusSeeOther)
			page = cp.get(itemPath + "?unlinked=1")
			wantContains(t, page.Body, `id="notice-unlinked"`, `data-action="coordinate"`)
			wantLacks(t, page.Body, "SE-DONE-1")
		})
	})
}
