package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// newReport returns a report of SE-HOTLINE with an item per URL (the
// canonical URL is the URL: these tests are about storage, not urlnorm).
func newReport(t *testing.T, db *store.DB, ref string, urls ...string) *alliance.Report {
	t.Helper()
	var org alliance.Organisation
	inTx(t, db, func(tx *store.Tx) (err error) {
		org, err = tx.OrganisationByCode(t.Context(), "SE-HOTLINE")
		return err
	})
	r := &alliance.Report{Reference: ref, OrgID: org.ID, OrgCode: org.Code, Source: alliance.SourcePublic,
		Category: alliance.CategoryOther}
	for _, u := range urls {
		key := sha256.Sum256([]byte(u))
		r.Items = append(r.Items, alliance.Item{URL: u, CanonicalURL: u, Host: "example.com",
			RegistrableDomain: "example.com", DedupeKey: key[:]})
	}
	return r
}

func batch(rs ...*alliance.Report) []store.NewReport {
	out := make([]store.NewReport, len(rs))
	for i, r := range rs {
		out[i] = store.NewReport{Report: r}
	}
	return out
}

func TestCreateReports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		db.SetClock(testutil.NewFixedClock(testutil.Epoch).Now)
		a := newReport(t, db, "R-A", "http://example.com/1", "http://example.com/2", "http://example.com/1")
		a.ReporterEmail = "r@example.org"
		b := newReport(t, db, "R-B", "http://example.com/2", "http://example.com/3")
		inTx(t, db, func(tx *store.Tx) error { return tx.CreateReports(ctx, batch(a, b)) })
		if a.ID == 0 || b.ID <= a.ID || !a.ReceivedAt.Equal(testutil.Epoch) {
			t.Fatalf("reports %d %d at %v", a.ID, b.ID, a.ReceivedAt)
		}
		ids := []int64{a.Items[0].ID, a.Items[1].ID, a.Items[2].ID, b.Items[0].ID, b.Items[1].ID}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("item ids not ascending in report order: %v", ids)
			}
		}
		dup := func(it alliance.Item) string {
			if it.DuplicateOf == nil {
				return string(it.Status)
			}
			return fmt.Sprintf("%s of %d", it.Status, *it.DuplicateOf)
		}
		got := []string{dup(a.Items[0]), dup(a.Items[1]), dup(a.Items[2]), dup(b.Items[0]), dup(b.Items[1])}
		want := []string{"new", "new", fmt.Sprintf("duplicate of %d", ids[0]), fmt.Sprintf("duplicate of %d", ids[1]), "new"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("statuses %v, want %v", got, want)
		}
		// A later batch links to the stored originals; the contact is apart.
		c := newReport(t, db, "R-C", "http://example.com/3")
		inTx(t, db, func(tx *store.Tx) error {
			if err := tx.CreateReports(ctx, batch(c)); err != nil {
				return err
			}
			r, err := tx.ReportByID(ctx, a.ID)
			if err != nil {
				return err
			}
			if r.ReporterEmail != "" || len(r.Items) != 3 || r.Items[2].DuplicateOf == nil || r.Reference != "R-A" {
				t.Errorf("read back %+v", r)
			}
			email, err := tx.ReportContact(ctx, a.ID)
			if err != nil || email != "r@example.org" {
				t.Errorf("contact %q %v", email, err)
			}
			if email, err := tx.ReportContact(ctx, b.ID); err != nil || email != "" {
				t.Errorf("no contact: %q %v", email, err)
			}
			return nil
		})
		if d := c.Items[0].DuplicateOf; d == nil || *d != ids[4] {
			t.Errorf("later duplicate: %+v", c.Items[0])
		}
		// A taken reference fails the whole call.
		d := newReport(t, db, "R-A", "http://example.com/9")
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateReports(ctx, batch(d)) })
		if alliance.ErrorCode(err) != alliance.ECONFLICT {
			t.Errorf("taken reference: %v", err)
		}
	})
}

// TestCreateReportsRace: two transactions store the same URL at once. On
// SQLite the second waits for the write lock and sees the first's item; on
// PostgreSQL it may fail with ECONFLICT, and its retry links to the item.
func TestCreateReportsRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		first := newReport(t, db, "R-1", "http://example.com/race")
		second := newReport(t, db, "R-2", "http://example.com/race")
		inserted, commit := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			err := db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateReports(ctx, batch(first)); err != nil {
					return err
				}
				close(inserted)
				<-commit
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
		<-inserted
		var err error
		wg.Go(func() {
			err = db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateReports(ctx, batch(second)) })
		})
		time.Sleep(50 * time.Millisecond) // let the second reach the lock or the index
		close(commit)
		wg.Wait()
		if alliance.ErrorCode(err) == alliance.ECONFLICT {
			err = db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateReports(ctx, batch(second)) })
		}
		if err != nil {
			t.Fatal(err)
		}
		if d := second.Items[0].DuplicateOf; d == nil || *d != first.Items[0].ID {
			t.Errorf("second: %+v, want a duplicate of %d", second.Items[0], first.Items[0].ID)
		}
	})
}

func TestAppendAudits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		appendEvents(t, db, 2)
		var batch []*alliance.AuditEvent
		for i := range 5 {
			batch = append(batch, &alliance.AuditEvent{ActorLabel: "system", Action: "item.route", ObjectType: "item", ObjectID: fmt.Sprint(i)})
		}
		inTx(t, db, func(tx *store.Tx) error { return tx.AppendAudits(ctx, batch) })
		if batch[0].Seq != 3 || batch[4].Seq != 7 || batch[1].PrevHash != batch[0].Hash || batch[4].Hash != batch[4].ComputeHash() {
			t.Errorf("batch %+v", batch)
		}
		appendEvents(t, db, 1)
		if v := verify(t, db); !v.OK || v.Rows != 8 {
			t.Errorf("chain after a batch: %+v", v)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.AppendAudits(ctx, []*alliance.AuditEvent{{ActorLabel: "system"}})
		}); err == nil {
			t.Error("an event without action was appended")
		}
	})
}

func TestTraceClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		db.SetClock(clock.Now)
		r := newReport(t, db, "R-T", "http://example.com/a", "http://example.com/b", "http://example.com/a")
		inTx(t, db, func(tx *store.Tx) error { return tx.CreateReports(ctx, batch(r)) })
		claim := func(limit int) (out []store.TraceClaim) {
			inTx(t, db, func(tx *store.Tx) (err error) {
				out, err = tx.ClaimTraces(ctx, limit, 10*time.Minute)
				return err
			})
			return out
		}
		// The duplicate is never claimed; claimed items wait for their lease.
		c := claim(10)
		if len(c) != 2 || c[0].ItemID != r.Items[0].ID || c[1].ItemID != r.Items[1].ID || c[0].Attempts != 0 {
			t.Fatalf("claims %+v", c)
		}
		if again := claim(10); len(again) != 0 {
			t.Errorf("claimed twice: %+v", again)
		}
		// Recording needs the claim: a re-trace queued meanwhile wins.
		clock.Advance(time.Second)
		inTx(t, db, func(tx *store.Tx) error { return tx.Retrace(ctx, c[1].ItemID) })
		var applied []store.TraceOutcome
		inTx(t, db, func(tx *store.Tx) (err error) {
			applied, err = tx.RecordTraces(ctx, []store.TraceOutcome{
				{Claim: c[0], Trace: alliance.Trace{Status: alliance.TraceTimeout, Attempts: 1}, RetryAt: clock.Now().Add(time.Minute)},
				{Claim: c[1], Trace: alliance.Trace{Status: alliance.TraceOK, IP: "192.0.2.1", Attempts: 1},
					Route: &alliance.Route{Kind: alliance.RouteNoHotline, OrgCode: "SE-HOTLINE", Reason: "test"}},
			})
			return err
		})
		if len(applied) != 1 || applied[0].Claim.ItemID != c[0].ItemID {
			t.Fatalf("applied %+v", applied)
		}
		// The re-trace is due now; the failed trace after its retry time.
		if got := claim(10); len(got) != 1 || got[0].ItemID != c[1].ItemID {
			t.Errorf("after re-trace: %+v", got)
		}
		clock.Advance(time.Minute)
		if got := claim(10); len(got) != 1 || got[0].ItemID != c[0].ItemID || got[0].Attempts != 1 {
			t.Errorf("after retry time: %+v", got)
		}
		// A lapsed lease makes an item due again (the tracer died).
		clock.Advance(10 * time.Minute)
		if got := claim(1); len(got) != 1 {
			t.Errorf("after the lease: %+v", got)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Retrace(ctx, r.Items[2].ID) }); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("retrace of a duplicate: %v", err)
		}
	})
}
