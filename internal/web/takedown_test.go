package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

var queueRowRE = regexp.MustCompile(`<tr id="item-(\d+)">`)

// queueIDs returns the item ids of a queue page's rows.
func queueIDs(body string) []string {
	var ids []string
	for _, m := range queueRowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// wantLacks fails the test if body has any of the strings.
func wantLacks(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("page has %q", s)
		}
	}
}

// TestAssessAndPoliceForms walks an item through the queue, the assessment
// form and the police's hold and clear forms, with the refusals on the way.
func TestAssessAndPoliceForms(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		nl := e.addUser("analyst@nl-hotline.example", "NL-HOTLINE", alliance.RoleAnalyst)
		police := e.addUser("police@se-police.example", "SE-POLICE", alliance.RolePolice)
		const seURL = "https://se.example.test/queue"
		reference(t, e.client().submitReport(url.Values{"urls": {seURL}}))
		e.traceAll()

		ca := e.client()
		ca.login(se.Email)
		res := ca.get("/queue")
		wantStatus(t, res, http.StatusOK)
		ids := queueIDs(res.Body)
		if len(ids) != 1 {
			t.Fatalf("SE queue rows %v, want one\n%s", ids, res.Body)
		}
		id := ids[0]
		itemPath := "/items/" + id
		wantContains(t, res.Body, `<code class="url">`+seURL+`</code>`, `href="`+itemPath+`"`, "Not fetched yet",
			`<a href="/queue" aria-current="page">Your queue</a>`)
		wantLacks(t, res.Body, `href="https://se.example.test`, "<img")

		t.Run("filters", func(t *testing.T) {
			wantContains(t, ca.get("/queue?country=se&route=national").Body, `<tr id="item-`+id+`">`, `value="SE"`)
			res := ca.get("/queue?country=NL")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `id="queue-empty"`, "No items in this queue match the filters.")
			wantStatus(t, ca.get("/queue?country=Sweden"), http.StatusBadRequest)
			wantStatus(t, ca.get("/queue?route=nowhere"), http.StatusBadRequest)
			wantStatus(t, ca.get("/queue?kind=police"), http.StatusForbidden)
		})

		cn := e.client()
		cn.login(nl.Email)
		t.Run("other organisations see nothing", func(t *testing.T) {
			res := cn.get("/queue")
			wantStatus(t, res, http.StatusOK)
			if ids := queueIDs(res.Body); len(ids) != 0 {
				t.Errorf("NL queue lists %v", ids)
			}
			wantStatus(t, cn.get(itemPath), http.StatusNotFound)
			// The logout form's token is for another purpose.
			tok := csrf(t, cn.get("/queue").Body)
			wantStatus(t, cn.post(itemPath+"/assess", url.Values{"csrf": {tok}, "verdict": {"baseline"}}), http.StatusForbidden)
		})

		page := ca.get(itemPath)
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, `id="takedown"`, "Not assessed yet.", `id="notices-none"`, "notices go to the host only for items assessed illegal", `id="assess-form"`, `id="verdict-baseline"`,
			`<label for="verdict-not_accessible">Not accessible: nothing to assess</label>`,
			`<select id="label-age_band" name="label_age_band"`, `<option value="A1">A1</option>`, `maxlength="4000"`)
		wantLacks(t, page.Body, `id="hold-form"`, `id="assess-second"`, "<img")
		tok := formToken(t, page.Body, "/assess")

		t.Run("forged token", func(t *testing.T) {
			res := ca.post(itemPath+"/assess", url.Values{"csrf": {"forged"}, "verdict": {"baseline"}})
			wantStatus(t, res, http.StatusForbidden)
		})

		t.Run("missing age band", func(t *testing.T) {
			res := ca.post(itemPath+"/assess", url.Values{"csrf": {tok}, "verdict": {"baseline"}, "content_type": {"image"},
				"note": {"checked twice"}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="label-age_band-error"`, "A value is required for an illegal verdict.",
				`value="baseline" required checked`, `<option value="image" selected>`, "checked twice")
			// The error sits in the age band's field, before its select.
			i, j := strings.Index(res.Body, `id="label-age_band-error"`), strings.Index(res.Body, `<select id="label-age_band"`)
			if i < 0 || j < i || strings.Contains(res.Body[i:j], `<div class="field`) {
				t.Error("the age band's error is not next to its field")
			}
		})

		t.Run("assess", func(t *testing.T) {
			res := ca.post(itemPath+"/assess", url.Values{"csrf": {tok}, "verdict": {"baseline"}, "content_type": {"image"},
				"label_age_band": {"3_to_12"}, "label_industry_class": {"A1"}, "note": {"checked"}})
			wantStatus(t, res, http.StatusSeeOther)
			if loc := res.Header.Get("Location"); loc != itemPath+"?assessed=1#takedown" {
				t.Errorf("Location = %q", loc)
			}
			page := ca.get(itemPath + "?assessed=1")
			wantContains(t, page.Body, "Your assessment is recorded.", `data-status="police_notified">Police notified</dd>`,
				`<code id="takedown-police">SE-POLICE</code>`, "Illegal under the international baseline",
				"Age band: 3 to 12", "Industry classification: A1", "First assessment", `id="assess-second"`,
				`id="takedown-history-caption"`, "Not assessed → Assessed", "Assessed → Police notified")
			wantLacks(t, page.Body, `id="hold-form"`)
			res = ca.get("/queue")
			if ids := queueIDs(res.Body); len(ids) != 0 {
				t.Errorf("the queue still lists %v after the assessment", ids)
			}
			wantContains(t, res.Body, "Nothing is waiting in this queue.")
		})

		cp := e.client()
		cp.login(police.Email)
		res = cp.get("/queue")
		wantStatus(t, res, http.StatusOK)
		if ids := queueIDs(res.Body); len(ids) != 1 || ids[0] != id {
			t.Fatalf("police queue %v, want [%s]\n%s", ids, id, res.Body)
		}
		wantContains(t, res.Body, "Police notified", "Illegal under the international baseline")
		page = cp.get(itemPath)
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, `id="hold-form"`, `id="clear-form"`, `type="datetime-local"`, "in UTC")
		wantLacks(t, page.Body, `id="assess-form"`)
		ptok := formToken(t, page.Body, "/hold")

		t.Run("bad holds", func(t *testing.T) {
			for _, tc := range []struct {
				name, reason, until, want string
			}{
				{"unreadable", "investigation", "next week", "Enter the end of the hold"},
				{"past", "investigation", "2001-02-03T04:05", "The hold must end in the future."},
				{"too long", "investigation", time.Now().UTC().Add(100 * 24 * time.Hour).Format("2006-01-02T15:04"), "A hold lasts at most"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := cp.post(itemPath+"/hold", url.Values{"csrf": {ptok}, "reason": {tc.reason}, "until": {tc.until}})
					wantStatus(t, res, http.StatusBadRequest)
					wantContains(t, res.Body, `id="hold-until-error"`, tc.want, `value="`+tc.until+`"`)
				})
			}
			res := cp.post(itemPath+"/hold", url.Values{"csrf": {ptok}, "until": {time.Now().UTC().Add(48 * time.Hour).Format("2006-01-02T15:04")}})
			wantStatus(t, res, http.StatusBadRequest)
			wantContains(t, res.Body, `id="hold-reason-error"`, "A hold needs a reason.")
		})

		until := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
		t.Run("hold", func(t *testing.T) {
			res := cp.post(itemPath+"/hold", url.Values{"csrf": {ptok}, "reason": {"investigation 42"}, "until": {until.Format("2006-01-02T15:04")}})
			wantStatus(t, res, http.StatusSeeOther)
			loc, _, _ := strings.Cut(res.Header.Get("Location"), "#") // browsers keep the fragment
			page := cp.get(loc)
			wantContains(t, page.Body, "The hold is recorded", `data-status="police_hold"`, "investigation 42",
				until.Format("2006-01-02 15:04:05")+" UTC", `id="hold-form"`)
			// A quick choice renews it.
			res = cp.post(itemPath+"/hold", url.Values{"csrf": {ptok}, "reason": {"renewed"}, "for": {"7d"}})
			wantStatus(t, res, http.StatusSeeOther)
			wantContains(t, cp.get(itemPath).Body, `data-status="police_hold"`, "renewed")
		})

		t.Run("clear", func(t *testing.T) {
			res := cp.post(itemPath+"/clear", url.Values{"csrf": {ptok}})
			wantStatus(t, res, http.StatusSeeOther)
			if loc := res.Header.Get("Location"); loc != itemPath+"?cleared=1#takedown" {
				t.Errorf("Location = %q", loc)
			}
			page := cp.get(itemPath)
			wantContains(t, page.Body, `data-status="police_cleared"`, "Cleared by the police")
			wantLacks(t, page.Body, `id="hold-form"`)
			if ids := queueIDs(cp.get("/queue").Body); len(ids) != 0 {
				t.Errorf("the police queue still lists %v", ids)
			}
			// Clearing again conflicts with the current state.
			res = cp.post(itemPath+"/clear", url.Values{"csrf": {ptok}})
			wantStatus(t, res, http.StatusConflict)
			wantContains(t, res.Body, `id="form-alert"`, "police_cleared")
		})

		t.Run("second assessment disputes", func(t *testing.T) {
			res := ca.post(itemPath+"/assess", url.Values{"csrf": {tok}, "verdict": {"not_illegal"}})
			wantStatus(t, res, http.StatusSeeOther)
			page := ca.get(itemPath)
			wantContains(t, page.Body, `id="takedown-disputed"`, "Disputes", "Not illegal")
			// The organisation's administrator supervises disputes.
			admin := e.addUser("admin@se-hotline.example", "SE-HOTLINE", alliance.RoleAdmin)
			c := e.client()
			c.login(admin.Email)
			res = c.get("/queue")
			wantStatus(t, res, http.StatusOK)
			if ids := queueIDs(res.Body); len(ids) != 1 || ids[0] != id {
				t.Errorf("disputed queue %v, want [%s]", ids, id)
			}
			wantContains(t, res.Body, "waiting for a supervisor", "<strong>disputed</strong>")
			wantLacks(t, c.get(itemPath).Body, `id="assess-form"`, `id="hold-form"`)
		})

		t.Run("home and navigation", func(t *testing.T) {
			for _, c := range []*client{ca, cp} {
				wantContains(t, c.get("/").Body, `<a href="/queue" id="queue-link">Open your queue</a>`, `<a href="/queue">Your queue</a>`)
			}
		})
	})
}

// formToken returns the CSRF token of the form whose action ends in suffix.
func formToken(t *testing.T, body, suffix string) string {
	t.Helper()
	re := regexp.MustCompile(fmt.Sprintf(`action="[^"]*%s"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]*)"`, regexp.QuoteMeta(suffix)))
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form ending in %s:\n%s", suffix, body)
	}
	return m[1]
}
