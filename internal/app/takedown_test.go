package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/demosite"
	"alliance/internal/fetch"
	"alliance/internal/media"
	"alliance/internal/notify"
	"alliance/internal/recheck"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/testutil/smtpsink"
	"alliance/internal/trace"
)

// takedownEnv is an intake environment with a local site whose images can be
// taken down, a fetcher and re-checker that reach it, and notices sent to a
// local SMTP sink.
type takedownEnv struct {
	*intakeEnv
	base    string
	port    string
	removed atomic.Bool // the site answers 404 for /noise/ images when set
	moved   atomic.Bool // the site redirects /noise/ images to moved.example.invalid when set
	sink    *smtpsink.Sink
}

func newTakedownEnv(t *testing.T, db *store.DB) *takedownEnv {
	t.Helper()
	e := &takedownEnv{sink: smtpsink.Start(t)}
	site := demosite.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.removed.Load() && strings.HasPrefix(r.URL.Path, "/noise/") {
			http.NotFound(w, r)
			return
		}
		if e.moved.Load() && strings.HasPrefix(r.URL.Path, "/noise/") && r.Host != "moved.example.invalid:"+e.port {
			http.Redirect(w, r, "http://moved.example.invalid:"+e.port+r.URL.Path, http.StatusFound)
			return
		}
		site.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	f := fetch.New(fetch.Options{Timeout: 5 * time.Second, PerHostInterval: -1, AllowAddrs: []netip.AddrPort{ap},
		Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host == "site.example.test" || host == "moved.example.invalid" {
				return []netip.Addr{ap.Addr()}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}})
	t.Cleanup(f.Close)
	e.intakeEnv = newIntakeEnv(t, db, app.Options{
		Tracer:    newTracer(t, testHosts+trace.ExampleSE+" site.example.test\n"+trace.ExampleNL+" moved.example.invalid\n"),
		Collector: media.NewCollector(f, media.Options{}),
		Takedown: app.TakedownOptions{
			Sender:  notify.Multi{notify.ChannelEmail: &notify.SMTPSender{Addr: e.sink.Addr, StartTLS: notify.StartTLSNever}},
			Checker: recheck.New(f, recheck.Options{}),
			From:    "SE hotline <notices@se-hotline.example.org>",
		},
	})
	if err := e.app.Matcher().Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.base = fmt.Sprintf("http://site.example.test:%d", ap.Port())
	e.port = fmt.Sprint(ap.Port())
	return e
}

// step runs the node's jobs once, as the periodic jobs would: trace, fetch,
// takedown steps, notice deliveries.
func (e *takedownEnv) step(t *testing.T) {
	t.Helper()
	ctx := sys(t.Context())
	e.traceAll(t, e.app)
	for _, f := range []func(context.Context, int) (int, error){e.app.FetchBatch, e.app.TakedownBatch, e.app.NoticeBatch, e.app.TakedownBatch} {
		if _, err := f(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *takedownEnv) takedown(t *testing.T, id int64) alliance.Item {
	t.Helper()
	it, err := e.app.Item(sys(t.Context()), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestTakedownLifecycle is the "done when" without a browser: a
// report of a generated image on a local site is traced, routed national,
// fetched, assessed; the police are notified and let the grace pass; the
// notice reaches the SMTP sink; the site stops serving the file and the
// re-check finds the item removed, with every time recorded. A second item
// that stays up is reminded after a day and escalated after three.
func TestTakedownLifecycle(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newTakedownEnv(t, db)
		se := as(t, e.se)
		r := e.submit(t, se, app.ReportInput{URLs: []string{e.base + "/noise/5.png", e.base + "/gradient/3.png"}})
		gone, stays := r.Items[0].ID, r.Items[1].ID
		e.step(t)
		for _, id := range []int64{gone, stays} {
			if it := e.takedown(t, id); it.Fetch == nil || it.Fetch.Status != alliance.FetchFetched || it.Route == nil ||
				it.Route.Kind != alliance.RouteNational {
				t.Fatalf("item %d before assessment: fetch %+v route %+v", id, it.Fetch, it.Route)
			}
			if _, err := e.app.Assess(se, id, illegal); err != nil {
				t.Fatal(err)
			}
		}
		e.step(t) // within the grace: nothing moves
		if it := e.takedown(t, gone); it.Takedown.Status != alliance.TakedownPoliceNotified || len(e.sink.Messages()) != 0 {
			t.Fatalf("within the grace: %s, %d mails", it.Takedown.Status, len(e.sink.Messages()))
		}

		e.clock.Advance(app.DefaultPoliceGrace + time.Minute)
		noticeAt := e.clock.Now()
		e.step(t)
		msgs := e.sink.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d notices delivered, want 2", len(msgs))
		}
		for _, m := range msgs {
			if len(m.To) != 1 || m.To[0] != "abuse@example.test" || !strings.Contains(m.Body, e.base+"/noise/5.png") && !strings.Contains(m.Body, e.base+"/gradient/3.png") {
				t.Errorf("notice: to %v, body %q", m.To, m.Body)
			}
		}
		it := e.takedown(t, gone)
		if td := it.Takedown; td.Status != alliance.TakedownNoticeSent || td.NoticeAt == nil || !td.NoticeAt.Equal(noticeAt) ||
			td.Notices != 1 || td.NextAction == nil || !td.NextAction.Equal(noticeAt.Add(app.DefaultRecheckInterval)) {
			t.Fatalf("after the notice: %+v", td)
		}

		// The host removes the file; the next re-check finds it gone.
		e.removed.Store(true)
		e.clock.Advance(app.DefaultRecheckInterval)
		removedAt := e.clock.Now()
		e.step(t)
		it = e.takedown(t, gone)
		if td := it.Takedown; td.Status != alliance.TakedownRemoved || td.RemovedAt == nil || !td.RemovedAt.Equal(removedAt) ||
			td.Rechecks != 1 || !strings.HasPrefix(td.LastCheck, "removed") || td.NextAction != nil {
			t.Fatalf("after the removal: %+v", td)
		}
		var path []string
		for _, ev := range it.TakedownHistory {
			path = append(path, string(ev.To))
		}
		if got, want := strings.Join(path, ">"), "assessed>police_notified>police_cleared>notice_sent>removed"; got != want {
			t.Errorf("history %s, want %s", got, want)
		}

		// The figures show it, from the recorded times.
		st, err := e.app.TakedownStats(se, app.StatsFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if o := st.Overall; o.Items != 2 || o.Removed != 1 || o.MedianReportToRemoval == nil ||
			*o.MedianReportToRemoval != removedAt.Sub(testutil.Epoch) || *o.MedianNoticeToRemoval != removedAt.Sub(noticeAt) ||
			o.Within1Day != 0.5 || len(st.ByCountry) != 1 || st.ByCountry[0].Country != "SE" {
			t.Errorf("takedown figures: %+v", st)
		}
		if st, err := e.app.TakedownStats(as(t, e.nl), app.StatsFilter{}); err != nil || st.Overall.Items != 0 {
			t.Errorf("NL sees SE's figures: %+v %v", st.Overall, err)
		}

		// The gradient stays up: reminded after a day, escalated after three.
		if td := e.takedown(t, stays).Takedown; td.Status != alliance.TakedownNoticeSent || td.Rechecks != 1 || !strings.HasPrefix(td.LastCheck, "still_up") {
			t.Fatalf("the image that stays: %+v", td)
		}
		for range 12 { // 3 days in steps of the re-check interval
			e.clock.Advance(app.DefaultRecheckInterval)
			e.step(t)
		}
		td := e.takedown(t, stays).Takedown
		if td.Status != alliance.TakedownEscalated || td.Notices < 3 {
			t.Errorf("after three days up: %+v", td)
		}
		if n := len(e.sink.Messages()); n != 1+td.Notices {
			t.Errorf("%d mails for %d notices of the item that stays (plus 1 for the other)", n, td.Notices)
		}
	})
}

// TestNoticeRetries checks that a refused delivery is retried with backoff
// and a permanent refusal is given up and kept visible, without the item
// moving on.
func TestNoticeRetries(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newTakedownEnv(t, db)
	se := as(t, e.se)
	r := e.submit(t, se, app.ReportInput{URLs: []string{e.base + "/noise/9.png"}})
	id := r.Items[0].ID
	e.step(t)
	if _, err := e.app.Assess(se, id, illegal); err != nil {
		t.Fatal(err)
	}
	admin := as(t, testutil.CreateUser(t, db, "SE-HOTLINE", "admin@se.example.org", alliance.RoleAdmin))
	if err := e.app.SetNoticeTemplate(admin, notify.Template{Subject: "Removal request {{.Reference}}", Body: "Please remove {{.ItemURL}}."}); err != nil {
		t.Fatal(err)
	}
	e.sink.FailNext(1, 451, "try later")
	e.clock.Advance(app.DefaultPoliceGrace + time.Minute)
	e.step(t)
	it := e.takedown(t, id)
	if td := it.Takedown; td.Status != alliance.TakedownPoliceCleared || len(e.sink.Messages()) != 0 {
		t.Fatalf("after a transient refusal: %+v, %d mails", td, len(e.sink.Messages()))
	}
	if len(it.Notices) != 1 || it.Notices[0].Status != "pending" || it.Notices[0].Attempts != 1 ||
		!strings.Contains(it.Notices[0].LastError, "451") || it.Notices[0].NextAt == nil {
		t.Errorf("the refused notice is not visible: %+v", it.Notices)
	}
	e.clock.Advance(2 * time.Minute)
	e.step(t)
	it = e.takedown(t, id)
	if td := it.Takedown; td.Status != alliance.TakedownNoticeSent || len(e.sink.Messages()) != 1 {
		t.Fatalf("after the retry: %+v, %d mails", td, len(e.sink.Messages()))
	}
	if m := e.sink.Messages()[0]; m.Subject != fmt.Sprintf("Removal request SE-HOTLINE-%d", id) || !strings.Contains(m.Body, "Please remove "+e.base+"/noise/9.png.") {
		t.Errorf("the organisation's template was not used: %q %q", m.Subject, m.Body)
	}
	if n := it.Notices[0]; n.Status != "sent" || n.Attempts != 2 || n.SentAt == nil || n.LastError != "" || n.Recipient != "abuse@example.test" {
		t.Errorf("delivered notice: %+v", n)
	}
	if m := e.sink.Messages()[0]; !strings.Contains(m.Header.Get("Message-Id"), fmt.Sprintf("notice-%d", n0(it))) {
		t.Errorf("Message-ID %q does not name the notice", m.Header.Get("Message-Id"))
	}
}

// TestNoticeAtMostOnce checks that a notice whose delivery may have
// happened is never sent again: one whose sending a crash cut off (marked
// sending, its claim released as a restarted node releases a dead
// process's), and one the relay took without replying. Both count as sent,
// unconfirmed, and their items move on to the re-checks.
func TestNoticeAtMostOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newTakedownEnv(t, db)
		se := as(t, e.se)
		ctx := sys(t.Context())
		var ids []int64
		for _, u := range []string{"/noise/11.png", "/noise/12.png"} {
			ids = append(ids, e.submit(t, se, app.ReportInput{URLs: []string{e.base + u}}).Items[0].ID)
		}
		e.step(t)
		for _, id := range ids {
			if _, err := e.app.Assess(se, id, illegal); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(app.DefaultPoliceGrace + time.Minute)
		if _, err := e.app.TakedownBatch(ctx, 0); err != nil { // the notices go into the outbox
			t.Fatal(err)
		}

		// The crash: the first notice is claimed and marked as sending, and
		// the process dies before any outcome is recorded.
		err := db.InTx(ctx, func(tx *store.Tx) error {
			ns, err := tx.ClaimNotices(ctx, 1, time.Minute)
			if err != nil || len(ns) != 1 || ns[0].ItemID != ids[0] {
				return fmt.Errorf("claim: %v %+v", err, ns)
			}
			if ok, err := tx.StartNoticeSend(ctx, ns[0]); err != nil || !ok {
				return fmt.Errorf("start sending: %v %v", ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, _, err := e.app.ReleaseOwnClaims(ctx); err != nil || n != 1 {
			t.Fatalf("release the dead claim: %d %v", n, err)
		}
		// The second notice: the relay takes it and the reply is lost.
		e.sink.DropNextReply(1)
		e.step(t)
		for range 2 { // a retry, were there one, would be due by now
			e.clock.Advance(5 * time.Minute)
			e.step(t)
		}

		if got := len(e.sink.Messages()); got != 1 {
			t.Errorf("%d messages reached the sink, want 1 (the one whose reply was lost, once)", got)
		}
		for i, id := range ids {
			it := e.takedown(t, id)
			if len(it.Notices) != 1 {
				t.Fatalf("item %d: %d notices, want 1", id, len(it.Notices))
			}
			n := it.Notices[0]
			want := []string{"stopped while sending", "end of DATA"}[i]
			if n.Status != "sent" || !n.Unconfirmed || n.SentAt == nil || n.NextAt != nil || !strings.Contains(n.LastError, want) {
				t.Errorf("item %d: notice %+v, want sent, unconfirmed, last error naming %q", id, n, want)
			}
			if it.Takedown.Status != alliance.TakedownNoticeSent {
				t.Errorf("item %d is %s, want %s", id, it.Takedown.Status, alliance.TakedownNoticeSent)
			}
		}
		var audited int
		err = db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'notice.unconfirmed'`).Scan(&audited)
		if err != nil || audited != 2 {
			t.Errorf("%d notice.unconfirmed audit rows (%v), want 2", audited, err)
		}
	})
}

// TestAbuseContacts checks contact validation and that the most specific
// contact wins: a webhook for the host over the network's e-mail.
func TestAbuseContacts(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newIntakeEnv(t, db, app.Options{})
	ctx := sys(t.Context())
	secret := []byte("0123456789abcdef0123")
	for _, tc := range []struct {
		in    app.AbuseContactInput
		field string
	}{
		{app.AbuseContactInput{Scope: "planet", Key: "x", Channel: "email", Address: "a@example.org"}, "scope"},
		{app.AbuseContactInput{Scope: "asn", Key: "sixty", Channel: "email", Address: "a@example.org"}, "key"},
		{app.AbuseContactInput{Scope: "country", Key: "XX", Channel: "email", Address: "a@example.org"}, "key"},
		{app.AbuseContactInput{Scope: "domain", Key: "example.org", Channel: "email", Address: "not an address"}, "address"},
		{app.AbuseContactInput{Scope: "domain", Key: "example.org", Channel: "webhook", Address: "https://hooks.example.org/x"}, "secret"},
		{app.AbuseContactInput{Scope: "domain", Key: "example.org", Channel: "webhook", Address: "ftp://hooks.example.org/x", Secret: secret}, "address"},
		{app.AbuseContactInput{Scope: "domain", Key: "example.org", Channel: "fax", Address: "a@example.org"}, "channel"},
	} {
		if err := e.app.PutAbuseContact(ctx, tc.in); alliance.ErrorField(err) != tc.field {
			t.Errorf("%+v: %v, want an error on %s", tc.in, err, tc.field)
		}
	}
	if err := e.app.PutAbuseContact(as(t, e.se), app.AbuseContactInput{Scope: "asn", Key: "1653", Channel: "email", Address: "abuse@sunet.example"}); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
		t.Errorf("an analyst adding a contact: %v", err)
	}
	for _, in := range []app.AbuseContactInput{
		{Scope: "asn", Key: "AS1653", Channel: "email", Address: "abuse@sunet.example"},
		{Scope: "domain", Key: "Example.test", Channel: "webhook", Address: "https://hooks.example.test/abuse", Secret: secret},
	} {
		if err := e.app.PutAbuseContact(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	err := db.InReadTx(t.Context(), func(tx *store.Tx) error {
		c, err := tx.FindAbuseContact(t.Context(), []string{"cdn.example.test", "example.test"}, 1653, "SE")
		if err != nil || c.Channel != "webhook" || string(c.Secret) != string(secret) {
			t.Errorf("host contact: %+v %v", c, err)
		}
		c, err = tx.FindAbuseContact(t.Context(), []string{"other.example.org"}, 1653, "SE")
		if err != nil || c.Address != "abuse@sunet.example" {
			t.Errorf("network contact: %+v %v", c, err)
		}
		if _, err := tx.FindAbuseContact(t.Context(), []string{"x.example.org"}, 3333, "NL"); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("no contact: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func n0(it alliance.Item) int64 { return it.Notices[0].ID }

// TestTakedownMoved checks that content found at another host by a re-check
// moves its item and is reported there as a new item, traced and routed
// to the new host's country.
func TestTakedownMoved(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newTakedownEnv(t, db)
	se := as(t, e.se)
	r := e.submit(t, se, app.ReportInput{URLs: []string{e.base + "/noise/21.png"}})
	id := r.Items[0].ID
	e.step(t)
	if _, err := e.app.Assess(se, id, illegal); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(app.DefaultPoliceGrace + time.Minute)
	e.step(t)
	if td := e.takedown(t, id).Takedown; td.Status != alliance.TakedownNoticeSent {
		t.Fatalf("before the move: %+v", td)
	}
	e.moved.Store(true)
	e.clock.Advance(app.DefaultRecheckInterval)
	e.step(t)
	it := e.takedown(t, id)
	if it.Takedown.Status != alliance.TakedownMoved || !strings.HasPrefix(it.Takedown.LastCheck, "changed") {
		t.Fatalf("after the move: %+v", it.Takedown)
	}
	e.step(t) // the new item is traced and routed
	page, err := e.app.Items(se, app.ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, x := range page.Items {
		if x.URL == "http://moved.example.invalid:"+e.port+"/noise/21.png" {
			found = true
			if x.Route == nil || x.Route.Kind != alliance.RouteForward || x.Route.OrgCode != "NL-HOTLINE" {
				t.Errorf("the moved content's item: route %+v, want forward to NL-HOTLINE", x.Route)
			}
		}
	}
	if !found {
		t.Errorf("no item for the new address among %d", len(page.Items))
	}
	// A re-trace of the moved item starts its takedown again on its route.
	if err := e.app.Retrace(se, id); err != nil {
		t.Fatal(err)
	}
	e.traceAll(t, e.app)
	if td := e.takedown(t, id).Takedown; td.Status != alliance.TakedownPoliceNotified || td.Police != "SE-POLICE" {
		t.Errorf("after re-tracing the moved item: %+v", td)
	}
}

// TestAlertMail checks that a new alert of a series whose contact point is
// an address is e-mailed there, once, through the notice sender.
func TestAlertMail(t *testing.T) {
	db := testutil.NewSQLite(t)
	e := newTakedownEnv(t, db)
	se := as(t, e.se)
	police := as(t, testutil.CreateUser(t, db, "SE-POLICE", "police@se.example.org", alliance.RolePolice))
	if _, err := e.app.CreateSeries(police, app.SeriesInput{Code: "S-MAIL", Contact: "vid-desk@se-police.example.org"}); err != nil {
		t.Fatal(err)
	}
	r := e.submit(t, se, app.ReportInput{URLs: []string{e.base + "/noise/61.png", e.base + "/noise/62.png"}})
	e.step(t)
	for _, it := range r.Items {
		if _, err := e.app.Assess(se, it.ID, illegal); err != nil {
			t.Fatal(err)
		}
		if err := e.app.LinkItem(police, it.ID, "S-MAIL", "same series"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.app.NoticeBatch(sys(t.Context()), 0); err != nil {
		t.Fatal(err)
	}
	var alerts []smtpsink.Message
	for _, m := range e.sink.Messages() {
		if m.To[0] == "vid-desk@se-police.example.org" {
			alerts = append(alerts, m)
		}
	}
	if len(alerts) != 1 || !strings.Contains(alerts[0].Subject, "S-MAIL") || !strings.Contains(alerts[0].Body, e.base+"/noise/61.png") {
		t.Errorf("alert mails (two sightings on one host merge into one): %+v", alerts)
	}
}
