package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// assessedItem reports u anonymously, traces it and records the analyst's
// illegal verdict through the app, as the assessment form does.
func (e *env) assessedItem(analyst alliance.User, u string) alliance.Item {
	e.t.Helper()
	reference(e.t, e.client().submitReport(url.Values{"urls": {u}}))
	e.traceAll()
	it := itemByURL(e.t, e.visibleItems(analyst), u)
	ctx := alliance.NewContextWithActor(e.t.Context(), analyst.Actor())
	if _, err := e.app.Assess(ctx, it.ID, app.AssessInput{Verdict: "baseline", ContentType: "image",
		Labels: map[string]string{"age_band": "3_to_12"}}); err != nil {
		e.t.Fatalf("assess item %d: %v", it.ID, err)
	}
	return it
}

// TestTakedownStatsPage checks the takedown figures page: who may see it,
// the figures of one assessed item with their definitions, the charts and
// their tables, the filters, the empty state and refused filters.
func TestTakedownStatsPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, true)
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		nl := e.addUser("analyst@nl-hotline.example", "NL-HOTLINE", alliance.RoleAnalyst)
		auditor := e.addUser("auditor@se-hotline.example", "SE-HOTLINE", alliance.RoleAuditor)
		sec := e.addUser("sec@secretariat.example", "INT-SECRETARIAT", alliance.RoleSecretariat)
		it := e.assessedItem(se, "https://se.example.test/figures")
		if it.Trace == nil || it.Trace.Country != "SE" || it.Trace.ASN == 0 {
			t.Fatalf("the item is not traced to a Swedish network: %+v", it.Trace)
		}
		asn := fmt.Sprint(it.Trace.ASN)

		ca := e.client()
		ca.login(se.Email)
		res := ca.get("/stats/takedown")
		wantStatus(t, res, http.StatusOK)
		today := time.Now().UTC().Format("2006-01-02")
		wantContains(t, res.Body, "<h1>Takedown figures</h1>",
			`<a href="/stats/takedown" aria-current="page">Takedown figures</a>`,
			`<form method="get" action="/stats/takedown"`, `<input id="f-from" name="from" type="date"`,
			`id="stats-period">Illegal items reported from `+time.Now().UTC().AddDate(-1, 0, 0).Format("2006-01-02")+" to "+today,
			`<div id="figure-items"><dt>Illegal items</dt><dd class="value">1</dd>`,
			`<div id="figure-removed"><dt>Removed</dt><dd class="value">0</dd>`,
			`<div id="figure-open"><dt>Not removed yet</dt><dd class="value">1</dd>`,
			`<div id="figure-median-report"><dt>Median time from report to removal</dt><dd class="value">–</dd>`+
				`<dd class="definition">Over the removed items; the report is when the hotline received it.`,
			`<div id="figure-within-7d"><dt>Removed within 7 days</dt><dd class="value">0%</dd><dd class="definition">Share of all`,
			`<div id="figure-up-42d"><dt>Still up after 42 days</dt><dd class="value">0</dd>`,
			`role="img" aria-labelledby="share-title share-desc"`, `<title id="share-title">Share of items removed within 1, 3 and 7 days`,
			`<desc id="share-desc">Horizontal bars for the hosting country with the most illegal items`,
			`>Sweden</text>`, `class="bar bar-d1"`, ">1 day: 0%</text>",
			`<table id="share-table">`, `<caption id="share-caption">`, `<th scope="row">Sweden <code>SE</code></th><td class="num">1</td><td class="num">0%</td>`,
			`id="time-none"`, `<table id="time-table">`, `<td class="num">0</td><td class="num">–</td><td class="num">–</td>`,
			"1 hosting country, most items first", "1 hosting network, most items first", "<code>AS"+asn+"</code>")
		wantLacks(t, res.Body, `id="stats-empty"`, `id="time-chart"`, "<script")
		// The chart comes first, then the table with its numbers.
		if i, j := strings.Index(res.Body, `id="share-chart"`), strings.Index(res.Body, `id="share-table"`); i < 0 || j < i {
			t.Error("the share table does not follow its chart")
		}

		t.Run("filters", func(t *testing.T) {
			for _, tc := range []struct {
				query string
				items bool
			}{
				{"country=se", true},
				{"country=NL", false},
				{"host_asn=AS" + asn, true},
				{"host_asn=" + asn, true},
				{"host_asn=AS64496", false},
				{"from=" + today + "&to=" + today, true},
				{"from=2001-01-01&to=2001-12-31", false},
			} {
				t.Run(tc.query, func(t *testing.T) {
					res := ca.get("/stats/takedown?" + tc.query)
					wantStatus(t, res, http.StatusOK)
					wantContains(t, res.Body, `<a href="/stats/takedown">Clear the filters</a>`)
					if tc.items {
						wantContains(t, res.Body, `<dt>Illegal items</dt><dd class="value">1</dd>`)
						wantLacks(t, res.Body, `id="stats-empty"`)
					} else {
						wantContains(t, res.Body, `id="stats-empty"`, "No illegal items were reported in this period")
						wantLacks(t, res.Body, `role="img"`, `id="overall"`)
					}
				})
			}
			wantContains(t, ca.get("/stats/takedown?from=2001-01-01&to=2001-12-31").Body,
				`value="2001-01-01"`, `value="2001-12-31"`, "Illegal items reported from 2001-01-01 to 2001-12-31")
		})

		t.Run("bad filters", func(t *testing.T) {
			for _, tc := range []struct {
				query, field, want string
			}{
				{"from=2026-13-01", "from", "Enter a date as YYYY-MM-DD"},
				{"to=31/01/2026", "to", "Enter a date as YYYY-MM-DD"},
				{"from=" + strings.Repeat("9", 40), "from", "Enter a date as YYYY-MM-DD"},
				{"from=2026-02-01&to=2026-01-01", "from", "from must be before to."},
				{"from=1990-01-01&to=2020-01-01", "from", "A period is at most 20 years."},
				{"country=Sweden", "country", "An ISO 3166-1 alpha-2"},
				{"country=XX", "country", "An ISO 3166-1 alpha-2"},
				{"host_asn=ASX", "host_asn", "An AS number such as AS64496"},
				{"host_asn=0", "host_asn", "An AS number such as AS64496"},
				{"host_asn=99999999999", "host_asn", "An AS number such as AS64496"},
			} {
				t.Run(tc.query, func(t *testing.T) {
					res := ca.get("/stats/takedown?" + tc.query)
					wantStatus(t, res, http.StatusBadRequest)
					wantContains(t, res.Body, `<p class="field-error" id="`+tc.field+`-error"><span lang="en">`+tc.want,
						`aria-invalid="true"`, `<form method="get" action="/stats/takedown"`)
					wantLacks(t, res.Body, `id="overall"`, `role="img"`)
					// The error sits in its field, before the input.
					i, j := strings.Index(res.Body, `id="`+tc.field+`-error"`), strings.Index(res.Body, `name="`+tc.field+`"`)
					if i < 0 || j < i || strings.Contains(res.Body[i:j], `<div class="field`) {
						t.Errorf("the error of %s is not next to its field", tc.field)
					}
				})
			}
		})

		t.Run("swedish", func(t *testing.T) {
			res := ca.get("/stats/takedown?lang=sv")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `<html lang="sv">`, "<h1>Nedtagningssiffror</h1>", `<dd class="value">0 %</dd>`,
				"Över de nedtagna posterna", `>Sverige</text>`, ">1 dag: 0 %</text>")
		})

		t.Run("other organisations see their own", func(t *testing.T) {
			c := e.client()
			c.login(nl.Email)
			res := c.get("/stats/takedown")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `id="stats-empty"`)
		})

		t.Run("secretariat sees the node", func(t *testing.T) {
			c := e.client()
			c.login(sec.Email)
			res := c.get("/stats/takedown")
			wantStatus(t, res, http.StatusOK)
			wantContains(t, res.Body, `<a href="/stats/takedown" aria-current="page">Takedown figures</a>`,
				`<dt>Illegal items</dt><dd class="value">1</dd>`)
		})

		t.Run("anonymous", func(t *testing.T) {
			res := e.client().get("/stats/takedown")
			wantStatus(t, res, http.StatusSeeOther)
			if loc := res.Header.Get("Location"); loc != "/login" {
				t.Errorf("Location = %q", loc)
			}
		})

		t.Run("auditor", func(t *testing.T) {
			c := e.client()
			c.login(auditor.Email)
			wantStatus(t, c.get("/stats/takedown"), http.StatusForbidden)
			wantStatus(t, c.get("/stats/takedown?from=nonsense"), http.StatusForbidden)
			wantLacks(t, c.get("/").Body, `href="/stats/takedown"`)
		})
	})
}

// TestItemNotices checks the notices on an item's page: none before the
// police grace passes, then the first notice, waiting in the outbox (the
// node has no sender here), to the abuse address of the host's domain.
func TestItemNotices(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnvWith(t, db, true, func(o *app.Options) {
			o.PoliceGrace = time.Nanosecond
			o.Takedown = app.TakedownOptions{Sender: nil}
		})
		se := e.addUser("analyst@se-hotline.example", "SE-HOTLINE", alliance.RoleAnalyst)
		it := e.assessedItem(se, "https://se.example.test/notice")
		c := e.client()
		c.login(se.Email)
		path := fmt.Sprintf("/items/%d", it.ID)
		res := c.get(path)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, res.Body, `<h3 id="notices-heading">Notices to the host</h3>`, `<p id="notices-none">No notice yet`)

		ctx := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		if n, err := e.app.TakedownBatch(ctx, 10); err != nil || n != 1 {
			t.Fatalf("TakedownBatch = %d, %v; want the item cleared and noticed", n, err)
		}
		res = c.get(path)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, res.Body, `data-status="police_cleared"`, `<caption id="notices-caption">1 notice, oldest first</caption>`,
			`<td>Notice</td>`, `<td>E-mail</td>`, `<td><code>abuse@example.test</code></td>`,
			`data-status="pending">Waiting to be sent</td>`, `<td class="num">0</td>`)
		wantLacks(t, res.Body, `id="notices-none"`)
		// The subject names the item to the host.
		full, err := e.app.Item(alliance.NewContextWithActor(t.Context(), se.Actor()), it.ID)
		if err != nil || len(full.Notices) != 1 {
			t.Fatalf("item notices %+v, %v", full.Notices, err)
		}
		wantContains(t, res.Body, fmt.Sprintf(`<tr id="notice-%d">`, full.Notices[0].ID))
		if s := full.Notices[0].Subject; s == "" || !strings.Contains(res.Body, "<td>"+html.EscapeString(s)+"</td>") {
			t.Errorf("the subject %q is not shown", s)
		}
		if nx := full.Notices[0].NextAt; nx != nil {
			wantContains(t, res.Body, "next attempt "+nx.UTC().Format("2006-01-02 15:04:05")+" UTC")
		}
		wantContains(t, c.get(path+"?lang=sv").Body, "Begäranden till värden", "Väntar på att skickas")

		// A notice whose delivery could not be confirmed says so.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			ns, err := tx.ClaimNotices(ctx, 1, time.Minute)
			if err != nil || len(ns) != 1 {
				return fmt.Errorf("claim: %v %d", err, len(ns))
			}
			_, err = tx.RecordNotice(ctx, ns[0], store.NoticeUnconfirmed, "no reply to the end of the message", time.Time{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		wantContains(t, c.get(path+"?lang=en").Body, `data-status="sent" data-unconfirmed="true">Sent <span class="note">(delivery unconfirmed)</span>`,
			"no reply to the end of the message")
	})
}
