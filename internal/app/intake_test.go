package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

// testHosts maps reserved names to the example addresses of package trace;
// the resolver has no fallback, so nothing reaches real DNS and any other
// name is nxdomain.
const testHosts = trace.ExampleSE + " se.example.test\n" +
	trace.ExampleNL + " nl.example.test\n" +
	trace.ExampleRU + " ru.example.test\n"

func newTracer(t testing.TB, hosts string) *trace.Tracer {
	t.Helper()
	res, err := trace.NewHostsResolver(strings.NewReader(hosts), nil)
	if err != nil {
		t.Fatal(err)
	}
	ipdb, err := trace.Default()
	if err != nil {
		t.Fatal(err)
	}
	return trace.NewTracer(res, ipdb)
}

// intakeEnv is an app whose home organisation is SE-HOTLINE, tracing
// through testHosts, with an analyst at SE-HOTLINE and NL-HOTLINE.
type intakeEnv struct {
	db    *store.DB
	clock *testutil.FixedClock
	app   *app.App
	se    alliance.User // analyst, SE-HOTLINE
	nl    alliance.User // analyst, NL-HOTLINE
}

func newIntakeEnv(t *testing.T, db *store.DB, opts app.Options) *intakeEnv {
	t.Helper()
	clock := testutil.NewFixedClock(testutil.Epoch)
	db.SetClock(clock.Now)
	opts.DB, opts.HomeOrg, opts.Now = db, "SE-HOTLINE", clock.Now
	if opts.Tracer == nil {
		opts.Tracer = newTracer(t, testHosts)
	}
	return &intakeEnv{
		db: db, clock: clock, app: app.New(opts),
		se: testutil.CreateUser(t, db, "SE-HOTLINE", "analyst@se.example.org", alliance.RoleAnalyst),
		nl: testutil.CreateUser(t, db, "NL-HOTLINE", "analyst@nl.example.org", alliance.RoleAnalyst),
	}
}

func as(t testing.TB, u alliance.User) context.Context {
	return alliance.NewContextWithActor(t.Context(), u.Actor())
}

func withToken(t testing.TB, u alliance.User, tokenID int64) context.Context {
	a := u.Actor()
	a.TokenID = tokenID
	return alliance.NewContextWithActor(t.Context(), a)
}

func (e *intakeEnv) submit(t *testing.T, ctx context.Context, in app.ReportInput) alliance.Report {
	t.Helper()
	res, err := e.app.SubmitReport(ctx, in)
	if err != nil {
		t.Fatalf("SubmitReport(%v): %v", in.URLs, err)
	}
	return res.Report
}

// counts returns the rows of the intake tables and of the audit log.
func counts(t *testing.T, db *store.DB) string {
	t.Helper()
	var out []string
	for _, table := range []string{"reports", "report_contacts", "items", "item_routes", "idempotency_keys", "audit_events"} {
		var n int
		if err := db.SQL().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

func TestSubmitReportValidation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		anon := t.Context()
		token := withToken(t, e.se, 7)
		secretariat := testutil.CreateUser(t, db, alliance.SecretariatCode, "sec@example.org", alliance.RoleSecretariat)
		many := make([]string, alliance.MaxReportURLs+1)
		for i := range many {
			many[i] = fmt.Sprintf("http://example.com/%d", i)
		}
		ok := []string{"http://example.com/"}
		tests := []struct {
			name  string
			ctx   context.Context
			in    app.ReportInput
			code  string
			field string
		}{
			{"no URLs", anon, app.ReportInput{}, alliance.EINVALID, "urls"},
			{"too many URLs", token, app.ReportInput{URLs: many}, alliance.EINVALID, "urls"},
			{"bad scheme at index 2", anon, app.ReportInput{URLs: []string{"http://a.example.com/", "https://b.example.com/", "javascript:alert(1)"}}, alliance.EINVALID, "urls[2]"},
			{"no host at index 1", anon, app.ReportInput{URLs: []string{"http://a.example.com/", "http://"}}, alliance.EINVALID, "urls[1]"},
			{"URL over 8 KiB", anon, app.ReportInput{URLs: []string{"http://example.com/" + strings.Repeat("a", 8192)}}, alliance.EINVALID, "urls[0]"},
			{"long description", anon, app.ReportInput{URLs: ok, Description: strings.Repeat("é", alliance.MaxDescriptionLength+1)}, alliance.EINVALID, "description"},
			{"description not UTF-8", anon, app.ReportInput{URLs: ok, Description: "a\xffb"}, alliance.EINVALID, "description"},
			{"description with NUL", anon, app.ReportInput{URLs: ok, Description: "a\x00b"}, alliance.EINVALID, "description"},
			{"bad e-mail", anon, app.ReportInput{URLs: ok, ReporterEmail: "not an address"}, alliance.EINVALID, "reporter.email"},
			{"unknown category", anon, app.ReportInput{URLs: ok, Category: "nonsense"}, alliance.EINVALID, "category"},
			{"unknown source", token, app.ReportInput{URLs: ok, Source: "press"}, alliance.EINVALID, "source"},
			{"anonymous claiming industry", anon, app.ReportInput{URLs: ok, Source: "industry"}, alliance.EINVALID, "source"},
			{"token claiming public", token, app.ReportInput{URLs: ok, Source: "public"}, alliance.EINVALID, "source"},
			{"idempotency key too long", anon, app.ReportInput{URLs: ok, IdempotencyKey: strings.Repeat("k", 256)}, alliance.EINVALID, "Idempotency-Key"},
			{"idempotency key not ASCII", anon, app.ReportInput{URLs: ok, IdempotencyKey: "kéy"}, alliance.EINVALID, "Idempotency-Key"},
			{"role without permission", as(t, secretariat), app.ReportInput{URLs: ok}, alliance.EFORBIDDEN, ""},
		}
		before := counts(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.in.Client = "192.0.2.1"
				_, err := e.app.SubmitReport(tt.ctx, tt.in)
				if alliance.ErrorCode(err) != tt.code || alliance.ErrorField(err) != tt.field {
					t.Fatalf("error %v (code %q field %q), want code %q field %q", err,
						alliance.ErrorCode(err), alliance.ErrorField(err), tt.code, tt.field)
				}
				if alliance.ErrorMessage(err) == "" || alliance.ErrorMessage(err) == "Internal error." {
					t.Errorf("message %q", alliance.ErrorMessage(err))
				}
				if got := counts(t, db); got != before {
					t.Errorf("rows after a rejected report: %s, before: %s", got, before)
				}
			})
		}
		// The canonicaliser's own message is kept under the indexed field.
		_, err := e.app.SubmitReport(anon, app.ReportInput{URLs: []string{"ftp://example.com/"}, Client: "192.0.2.1"})
		if !strings.Contains(alliance.ErrorMessage(err), "ftp") {
			t.Errorf("message %q does not carry the canonicaliser's", alliance.ErrorMessage(err))
		}
	})
}

func TestSubmitReport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		// Anonymous: the home organisation receives it; source public.
		r := e.submit(t, t.Context(), app.ReportInput{
			URLs:        []string{"HTTP://Example.COM:80/a/../b#frag", "http://se.example.test/x"},
			Description: "  seen on a forum  ", Category: "grooming", ReporterEmail: "Reporter@Example.org", Client: "192.0.2.1",
		})
		if !strings.HasPrefix(r.Reference, "R-") || len(r.Reference) != 12 || strings.ContainsAny(r.Reference[2:], "ILOU") {
			t.Errorf("reference %q", r.Reference)
		}
		if r.OrgCode != "SE-HOTLINE" || r.Source != alliance.SourcePublic || r.Category != alliance.CategoryGrooming ||
			r.Description != "seen on a forum" || r.ReporterEmail != "" || r.SubmittedBy != 0 || !r.ReceivedAt.Equal(testutil.Epoch) {
			t.Errorf("report %+v", r)
		}
		if len(r.Items) != 2 || r.Items[0].CanonicalURL != "http://example.com/b" || r.Items[0].URL != "HTTP://Example.COM:80/a/../b#frag" ||
			r.Items[1].Host != "se.example.test" || r.Items[0].Status != alliance.ItemNew || r.Items[0].ID >= r.Items[1].ID {
			t.Errorf("items %+v", r.Items)
		}
		// The owner reads it back with the contact; the audit rows say who did what.
		got, err := e.app.Report(as(t, e.se), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ReporterEmail != "reporter@example.org" || got.Reference != r.Reference || len(got.Items) != 2 ||
			got.Items[1].RegistrableDomain != "example.test" || len(got.Items[1].DedupeKey) != 32 {
			t.Errorf("read back %+v", got)
		}
		// A token user: its organisation, source industry by default.
		r2 := e.submit(t, withToken(t, e.nl, 3), app.ReportInput{URLs: []string{"http://example.com/b"}})
		if r2.OrgCode != "NL-HOTLINE" || r2.Source != alliance.SourceIndustry || r2.SubmittedBy != e.nl.ID {
			t.Errorf("token report %+v", r2)
		}
		want := []string{"anonymous report.create report", "analyst@se.example.org report.read report",
			"analyst@nl.example.org report.create report"}
		if got := auditActions(t, db); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The anonymous report's row is filed under the receiving organisation.
		var org string
		if err := db.SQL().QueryRowContext(t.Context(), "SELECT org_code FROM audit_events WHERE seq = 1").Scan(&org); err != nil || org != "SE-HOTLINE" {
			t.Errorf("audit org of an anonymous report: %q %v", org, err)
		}
	})
}

func TestSubmitReportDuplicates(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		se, nl := as(t, e.se), as(t, e.nl)
		first := e.submit(t, se, app.ReportInput{URLs: []string{"http://example.com/x"}})
		orig := first.Items[0].ID
		// Same org, another spelling of the same URL, twice in one report.
		r := e.submit(t, se, app.ReportInput{URLs: []string{"http://EXAMPLE.com/x#a", "http://example.com/new", "http://example.com/./new"}})
		if d := r.Items[0].DuplicateOf; d == nil || *d != orig || r.Items[0].Status != alliance.ItemDuplicate {
			t.Errorf("same org: %+v, want duplicate of %d", r.Items[0], orig)
		}
		if r.Items[1].DuplicateOf != nil || r.Items[1].Status != alliance.ItemNew {
			t.Errorf("new URL: %+v", r.Items[1])
		}
		if d := r.Items[2].DuplicateOf; d == nil || *d != r.Items[1].ID {
			t.Errorf("second occurrence in one report: %+v, want duplicate of %d", r.Items[2], r.Items[1].ID)
		}
		// Another organisation: not a duplicate.
		other := e.submit(t, nl, app.ReportInput{URLs: []string{"http://example.com/x"}})
		if other.Items[0].DuplicateOf != nil {
			t.Errorf("other org: %+v", other.Items[0])
		}
		// Routed items are still open: a later report links to them too.
		if _, err := e.app.TraceBatch(sys(t.Context()), 0); err != nil {
			t.Fatal(err)
		}
		again := e.submit(t, se, app.ReportInput{URLs: []string{"http://example.com/x"}})
		if d := again.Items[0].DuplicateOf; d == nil || *d != orig {
			t.Errorf("after routing: %+v", again.Items[0])
		}
		// Duplicates are never traced.
		it, err := e.app.Item(se, again.Items[0].ID)
		if err != nil || it.Trace != nil || it.Route != nil || it.Status != alliance.ItemDuplicate {
			t.Errorf("duplicate item %+v %v", it, err)
		}
	})
}

func TestSubmitReportIdempotency(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		ctx := withToken(t, e.se, 11)
		in := app.ReportInput{URLs: []string{"http://example.com/1", "http://example.com/2"}, Description: "d",
			ReporterEmail: "r@example.org", IdempotencyKey: "key-1"}
		res, err := e.app.SubmitReport(ctx, in)
		if err != nil || res.Replayed {
			t.Fatalf("first: %+v %v", res, err)
		}
		before := counts(t, db)
		again, err := e.app.SubmitReport(ctx, in)
		if err != nil || !again.Replayed || again.Report.ID != res.Report.ID || again.Report.Reference != res.Report.Reference ||
			len(again.Report.Items) != 2 || again.Report.Items[1].ID != res.Report.Items[1].ID || again.Report.ReporterEmail != "" {
			t.Fatalf("retry: %+v %v; first %+v", again, err, res)
		}
		if got := counts(t, db); got != before {
			t.Errorf("a replay stored rows: %s, before %s", got, before)
		}
		// Same key, another body: a conflict naming the header.
		in2 := in
		in2.Description = "other"
		_, err = e.app.SubmitReport(ctx, in2)
		if alliance.ErrorCode(err) != alliance.ECONFLICT || alliance.ErrorField(err) != "Idempotency-Key" {
			t.Errorf("reused key: %v", err)
		}
		// The same key from another sender is theirs alone.
		if r, err := e.app.SubmitReport(withToken(t, e.se, 12), in); err != nil || r.Replayed {
			t.Errorf("other token, same key: %+v %v", r, err)
		}
		// Concurrent retries with one key store one report.
		in3 := in
		in3.IdempotencyKey = "key-concurrent"
		var wg sync.WaitGroup
		ids := make([]int64, 8)
		for i := range ids {
			wg.Go(func() {
				r, err := e.app.SubmitReport(ctx, in3)
				if err != nil {
					t.Errorf("concurrent retry: %v", err)
				}
				ids[i] = r.Report.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Errorf("concurrent retries made reports %v", ids)
				break
			}
		}
		// Keys are forgotten after a day.
		e.clock.Advance(25 * time.Hour)
		if err := e.app.Housekeeping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if r, err := e.app.SubmitReport(ctx, in); err != nil || r.Replayed || r.Report.ID == res.Report.ID {
			t.Errorf("after a day: %+v %v", r, err)
		}
	})
}

func TestSubmitReportRateLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{
			AnonymousReportLimit: app.RateLimit{Events: 2, Per: time.Minute, Burst: 2},
			UserReportLimit:      app.RateLimit{Events: 3, Per: time.Second, Burst: 3},
		})
		in := app.ReportInput{URLs: []string{"http://example.com/"}, Client: "198.51.100.7"}
		for i := range 2 {
			if _, err := e.app.SubmitReport(t.Context(), in); err != nil {
				t.Fatalf("report %d: %v", i, err)
			}
		}
		_, err := e.app.SubmitReport(t.Context(), in)
		if alliance.ErrorCode(err) != alliance.ERATELIMIT || alliance.ErrorRetryAfter(err) <= 0 || alliance.ErrorRetryAfter(err) > 30*time.Second {
			t.Fatalf("third anonymous report: %v (retry after %v)", err, alliance.ErrorRetryAfter(err))
		}
		// Another client has its own bucket; the first refills with time.
		other := in
		other.Client = "198.51.100.8"
		if _, err := e.app.SubmitReport(t.Context(), other); err != nil {
			t.Errorf("other client: %v", err)
		}
		e.clock.Advance(alliance.ErrorRetryAfter(err))
		if _, err := e.app.SubmitReport(t.Context(), in); err != nil {
			t.Errorf("after Retry-After: %v", err)
		}
		// Token holders have their own, higher limit.
		tok := withToken(t, e.se, 5)
		for i := range 3 {
			if _, err := e.app.SubmitReport(tok, in); err != nil {
				t.Fatalf("token report %d: %v", i, err)
			}
		}
		if _, err := e.app.SubmitReport(tok, in); alliance.ErrorCode(err) != alliance.ERATELIMIT {
			t.Errorf("token over its limit: %v", err)
		}
	})
}

func TestSubmitReportConcurrent(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newIntakeEnv(t, db, app.Options{})
		// Two apps stand for two server processes: each group-commits on
		// its own, so their transactions race for the same URL.
		apps := []*app.App{e.app, app.New(app.Options{DB: db, HomeOrg: "SE-HOTLINE", Now: e.clock.Now})}
		const clients, each = 16, 10
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				ctx := withToken(t, e.se, int64(c+1))
				for i := range each {
					// Every client reports the shared URL once: exactly one original.
					urls := []string{fmt.Sprintf("http://example.com/%d/%d", c, i)}
					if i == 0 {
						urls = append(urls, "http://example.com/shared")
					}
					in := app.ReportInput{URLs: urls, IdempotencyKey: fmt.Sprint(i)}
					if _, err := apps[c%2].SubmitReport(ctx, in); err != nil {
						t.Errorf("client %d report %d: %v", c, i, err)
					}
				}
			})
		}
		wg.Wait()
		q := func(query string) int {
			var n int
			if err := db.SQL().QueryRowContext(t.Context(), query).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := q(`SELECT COUNT(*) FROM reports`); n != clients*each {
			t.Errorf("%d reports, want %d", n, clients*each)
		}
		if n := q(`SELECT COUNT(*) FROM items WHERE canonical_url = 'http://example.com/shared' AND duplicate_of IS NULL`); n != 1 {
			t.Errorf("%d originals of the shared URL, want 1", n)
		}
		if n := q(`SELECT COUNT(*) FROM audit_events WHERE action = 'report.create'`); n != clients*each {
			t.Errorf("%d audit rows, want %d", n, clients*each)
		}
		if v, err := db.VerifyAudit(t.Context()); err != nil || !v.OK {
			t.Errorf("audit chain: %+v %v", v, err)
		}
	})
}
