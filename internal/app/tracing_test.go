package app_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

func (e *intakeEnv) traceAll(t *testing.T, a *app.App) int {
	t.Helper()
	n, err := a.TraceBatch(sys(t.Context()), 0)
	if err != nil {
		t.Fatalf("TraceBatch: %v", err)
	}
	return n
}

func TestTraceAndRoute(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se, nl := as(t, e.se), as(t, e.nl)
		de := as(t, testutil.CreateUser(t, db, "DE-HOTLINE", "analyst@de.example.org", alliance.RoleAnalyst))
		r := e.submit(t, se, app.ReportInput{URLs: []string{
			"http://se.example.test/a", "http://" + trace.ExampleSE + "/b",
			"http://nl.example.test/c", "http://[" + trace.ExampleNL6 + "]/d",
			"http://ru.example.test/e", "http://" + trace.ExampleRU + "/f",
		}, ReporterEmail: "reporter@example.org"})
		if n := e.traceAll(t, e.app); n != 6 {
			t.Fatalf("traced %d items, want 6", n)
		}
		if n := e.traceAll(t, e.app); n != 0 {
			t.Errorf("a second batch traced %d items, want 0", n)
		}
		want := []struct {
			country string
			asn     uint32
			kind    alliance.RouteKind
			org     string
			police  string
		}{
			{"SE", 1653, alliance.RouteNational, "SE-HOTLINE", "SE-POLICE"},
			{"SE", 1653, alliance.RouteNational, "SE-HOTLINE", "SE-POLICE"},
			{"NL", 3333, alliance.RouteForward, "NL-HOTLINE", ""},
			{"NL", 3333, alliance.RouteForward, "NL-HOTLINE", ""},
			{"RU", 13238, alliance.RouteNoHotline, "SE-HOTLINE", ""},
			{"RU", 13238, alliance.RouteNoHotline, "SE-HOTLINE", ""},
		}
		for i, w := range want {
			it, err := e.app.Item(se, r.Items[i].ID)
			if err != nil {
				t.Fatalf("item %d: %v", i, err)
			}
			tr, rt := it.Trace, it.Route
			if it.Status != alliance.ItemRouted || tr == nil || tr.Status != alliance.TraceOK || tr.Country != w.country ||
				tr.ASN != w.asn || tr.IP == "" || tr.DataDate == "" || tr.Attempts != 1 || !tr.TracedAt.Equal(testutil.Epoch) {
				t.Errorf("item %d (%s): status %s trace %+v", i, it.URL, it.Status, tr)
			}
			if rt == nil || rt.Kind != w.kind || rt.OrgCode != w.org || rt.Police != w.police || rt.Reason == "" {
				t.Errorf("item %d (%s): route %+v, want %s to %s", i, it.URL, rt, w.kind, w.org)
			} else if len(it.RouteHistory) != 1 || it.RouteHistory[0] != *rt {
				t.Errorf("item %d: history %+v", i, it.RouteHistory)
			}
		}

		// The destination hotline sees the forwarded items, not the rest.
		for i, it := range r.Items {
			_, err := e.app.Item(nl, it.ID)
			if forwarded := i == 2 || i == 3; forwarded != (err == nil) {
				t.Errorf("NL-HOTLINE reading item %d: %v", i, err)
			} else if !forwarded && alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("NL-HOTLINE reading item %d: %v, want not found", i, err)
			}
		}
		page, err := e.app.Items(nl, app.ItemFilter{})
		if err != nil || len(page.Items) != 2 || page.Items[0].ID != r.Items[3].ID || page.Items[1].ID != r.Items[2].ID {
			t.Errorf("NL-HOTLINE items: %+v %v", page, err)
		}
		if _, err := e.app.Report(nl, r.ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("NL-HOTLINE reading the report: %v", err)
		}
		// Another organisation sees nothing; the public must log in; the
		// secretariat has no access to reports.
		if _, err := e.app.Item(de, r.Items[0].ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("DE-HOTLINE item: %v", err)
		}
		if page, err := e.app.Items(de, app.ItemFilter{}); err != nil || len(page.Items) != 0 {
			t.Errorf("DE-HOTLINE items: %+v %v", page, err)
		}
		if _, err := e.app.Report(de, r.ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("DE-HOTLINE report: %v", err)
		}
		anon := t.Context()
		if _, err := e.app.Report(anon, r.ID); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("anonymous report: %v", err)
		}
		if _, err := e.app.Item(anon, r.Items[0].ID); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("anonymous item: %v", err)
		}
		if _, err := e.app.Items(anon, app.ItemFilter{}); alliance.ErrorCode(err) != alliance.EUNAUTHORIZED {
			t.Errorf("anonymous items: %v", err)
		}
		sec := as(t, testutil.CreateUser(t, db, alliance.SecretariatCode, "sec@example.org", alliance.RoleSecretariat))
		if _, err := e.app.Item(sec, r.Items[0].ID); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("secretariat item: %v", err)
		}
		if _, err := e.app.TraceBatch(se, 10); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("a user running TraceBatch: %v", err)
		}

		// Filters.
		for _, tt := range []struct {
			f    app.ItemFilter
			want []int // indexes into r.Items, newest first
		}{
			{app.ItemFilter{Route: "national"}, []int{1, 0}},
			{app.ItemFilter{Country: "ru"}, []int{5, 4}},
			{app.ItemFilter{Status: "routed", Route: "forward"}, []int{3, 2}},
			{app.ItemFilter{Status: "new"}, nil},
		} {
			page, err := e.app.Items(se, tt.f)
			var got []int
			for _, it := range page.Items {
				got = append(got, slices.IndexFunc(r.Items, func(x alliance.Item) bool { return x.ID == it.ID }))
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Items(%+v) = %v %v, want %v", tt.f, got, err, tt.want)
			}
		}

		// Audit: one "item.route" per routed item, by the node, filed under
		// the receiving organisation; every read audited.
		rows := auditActions(t, db)
		count := func(s string) int {
			n := 0
			for _, r := range rows {
				if r == s {
					n++
				}
			}
			return n
		}
		if n := count("system item.route item"); n != 6 {
			t.Errorf("%d item.route rows, want 6:\n%s", n, strings.Join(rows, "\n"))
		}
		if count("analyst@se.example.org item.read item") != 6 || count("analyst@nl.example.org item.read item") != 2 ||
			count("analyst@nl.example.org item.list item") != 1 || count("analyst@de.example.org item.list item") != 1 {
			t.Errorf("read audit rows:\n%s", strings.Join(rows, "\n"))
		}
		var orgs int
		if err := db.SQL().QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM audit_events WHERE action = 'item.route' AND org_code = 'SE-HOTLINE'").Scan(&orgs); err != nil || orgs != 6 {
			t.Errorf("item.route rows of SE-HOTLINE: %d %v", orgs, err)
		}
	})
}

func TestTraceRetriesWithBackoff(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se := as(t, e.se)
		r := e.submit(t, se, app.ReportInput{URLs: []string{"http://gone.invalid/x"}})
		id := r.Items[0].ID
		waits := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
		for attempt := 1; attempt <= app.MaxTraceAttempts; attempt++ {
			if n := e.traceAll(t, e.app); n != 1 {
				t.Fatalf("attempt %d: traced %d", attempt, n)
			}
			it, err := e.app.Item(se, id)
			if err != nil {
				t.Fatal(err)
			}
			if it.Trace == nil || it.Trace.Status != alliance.TraceNXDomain || it.Trace.Attempts != attempt || it.Trace.IP != "" {
				t.Fatalf("attempt %d: trace %+v", attempt, it.Trace)
			}
			if attempt == app.MaxTraceAttempts {
				if it.Status != alliance.ItemRouted || it.Route == nil || it.Route.Kind != alliance.RouteNoHotline ||
					it.Route.OrgCode != "SE-HOTLINE" || !strings.Contains(it.Route.Reason, "nxdomain") {
					t.Errorf("after %d attempts: %s %+v", attempt, it.Status, it.Route)
				}
				break
			}
			if it.Status != alliance.ItemNew || it.Route != nil {
				t.Fatalf("attempt %d: routed too early: %s %+v", attempt, it.Status, it.Route)
			}
			// Not due before its backoff has passed.
			e.clock.Advance(waits[attempt-1] - time.Second)
			if n := e.traceAll(t, e.app); n != 0 {
				t.Fatalf("attempt %d: retried %d before the backoff passed", attempt, n)
			}
			e.clock.Advance(time.Second)
		}
		e.clock.Advance(24 * time.Hour)
		if n := e.traceAll(t, e.app); n != 0 {
			t.Errorf("a routed item was traced again: %d", n)
		}
	})
}

func TestRetraceMovesRoute(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se, nl := as(t, e.se), as(t, e.nl)
		r := e.submit(t, se, app.ReportInput{URLs: []string{"http://se.example.test/moving", "http://se.example.test/moving#dup"}})
		id := r.Items[0].ID
		e.traceAll(t, e.app)

		// The site moves to a Dutch network: the node's hosts map changes.
		e.clock.Advance(time.Hour)
		moved := app.New(app.Options{DB: db, HomeOrg: "SE-HOTLINE", Now: e.clock.Now,
			Tracer: newTracer(t, trace.ExampleNL+" se.example.test\n")})
		if err := moved.Retrace(nl, id); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("retrace by an organisation that cannot see the item: %v", err)
		}
		if err := moved.Retrace(se, r.Items[1].ID); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("retrace of a duplicate: %v", err)
		}
		if err := moved.Retrace(se, id); err != nil {
			t.Fatal(err)
		}
		if it, err := moved.Item(se, id); err != nil || it.Trace.Status != alliance.TracePending || it.Route.Kind != alliance.RouteNational {
			t.Errorf("queued for a re-trace: %+v %v", it, err)
		}
		if n := e.traceAll(t, moved); n != 1 {
			t.Fatalf("re-traced %d", n)
		}
		it, err := moved.Item(nl, id) // now NL-HOTLINE's job, so visible to it
		if err != nil {
			t.Fatal(err)
		}
		if it.Route.Kind != alliance.RouteForward || it.Route.OrgCode != "NL-HOTLINE" || it.Trace.Country != "NL" {
			t.Errorf("after the move: %+v %+v", it.Route, it.Trace)
		}
		var kinds []string
		for _, h := range it.RouteHistory {
			kinds = append(kinds, fmt.Sprintf("%s %s %s", h.Kind, h.OrgCode, h.DecidedAt.Sub(testutil.Epoch)))
		}
		if want := []string{"national SE-HOTLINE 0s", "forward NL-HOTLINE 1h0m0s"}; !slices.Equal(kinds, want) {
			t.Errorf("history %v, want %v", kinds, want)
		}
		// NL-HOTLINE may ask for a re-trace of an item routed to it.
		if err := moved.Retrace(nl, id); err != nil {
			t.Errorf("retrace by the destination: %v", err)
		}
		if got := auditActions(t, db); !slices.Contains(got, "analyst@se.example.org item.retrace item") ||
			!slices.Contains(got, "analyst@nl.example.org item.retrace item") {
			t.Errorf("audit rows:\n%s", strings.Join(got, "\n"))
		}
	})
}

func TestItemsPaging(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se := as(t, e.se)
		var urls []string
		for i := range 7 {
			urls = append(urls, fmt.Sprintf("http://example.com/%d", i))
		}
		r := e.submit(t, se, app.ReportInput{URLs: urls})
		var got []int64
		f := app.ItemFilter{Limit: 3}
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			page, err := e.app.Items(se, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				got = append(got, it.ID)
			}
			if page.Next == "" {
				break
			}
			f.Cursor = page.Next
		}
		var want []int64
		for i := len(r.Items) - 1; i >= 0; i-- {
			want = append(want, r.Items[i].ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages gave %v, want %v", got, want)
		}
		// The node itself lists every organisation's items.
		e.submit(t, as(t, e.nl), app.ReportInput{URLs: []string{"http://example.com/nl"}})
		if page, err := e.app.Items(sys(t.Context()), app.ItemFilter{}); err != nil || len(page.Items) != 8 {
			t.Errorf("system lists %d items, %v; want 8", len(page.Items), err)
		}
		if page, err := e.app.Items(se, app.ItemFilter{}); err != nil || len(page.Items) != 7 {
			t.Errorf("SE-HOTLINE lists %d items, %v; want 7", len(page.Items), err)
		}
		for _, tt := range []struct {
			f     app.ItemFilter
			field string
		}{
			{app.ItemFilter{Status: "closed"}, "status"},
			{app.ItemFilter{Country: "XX"}, "country"},
			{app.ItemFilter{Route: "elsewhere"}, "route"},
			{app.ItemFilter{Cursor: "!!"}, "cursor"},
			{app.ItemFilter{Cursor: "LTE"}, "cursor"}, // "-1"
			{app.ItemFilter{Limit: 501}, "limit"},
			{app.ItemFilter{Limit: -1}, "limit"},
		} {
			if _, err := e.app.Items(se, tt.f); alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != tt.field {
				t.Errorf("Items(%+v): %v, want an error on %s", tt.f, err, tt.field)
			}
		}
	})
}

func TestContactPurge(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se := as(t, e.se)
		r := e.submit(t, t.Context(), app.ReportInput{URLs: []string{"http://example.com/"}, ReporterEmail: "me@example.org", Client: "192.0.2.9"})
		e.clock.Advance(alliance.ContactRetention - time.Hour)
		if err := e.app.Housekeeping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got, err := e.app.Report(se, r.ID); err != nil || got.ReporterEmail != "me@example.org" {
			t.Errorf("before retention ends: %q %v", got.ReporterEmail, err)
		}
		e.clock.Advance(time.Hour)
		if err := e.app.Housekeeping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got, err := e.app.Report(se, r.ID); err != nil || got.ReporterEmail != "" || len(got.Items) != 1 {
			t.Errorf("after retention: %+v %v", got, err)
		}
		var obj string
		err := db.SQL().QueryRowContext(t.Context(),
			"SELECT object_id FROM audit_events WHERE action = 'contact.purge' AND actor_label = 'system'").Scan(&obj)
		if err != nil || obj != "1" {
			t.Errorf("contact.purge audit row: %q %v", obj, err)
		}
	})
}
