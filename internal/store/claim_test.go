package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestReleaseDeadClaims: what a dead worker claimed and did not finish is
// made due again once its heartbeat is stale, what it finished and what
// live workers hold are left alone, and a stopping worker releases its own.
func TestReleaseDeadClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(testutil.Epoch)
		db.SetClock(clock.Now)
		dead, live := db.AsWorker("dead"), db.AsWorker("live")
		r := newReport(t, db, "R-C", "http://a.example.com/1", "http://b.example.com/2", "http://c.example.com/3", "http://d.example.com/4")
		inTx(t, db, func(tx *store.Tx) error { return tx.CreateReports(ctx, batch(r)) })
		claim := func(w *store.DB, limit int) (out []store.TraceClaim) {
			inTx(t, w, func(tx *store.Tx) (err error) {
				out, err = tx.ClaimTraces(ctx, limit, 10*time.Minute)
				return err
			})
			return out
		}
		release := func(w *store.DB, staleBefore time.Time, own bool) (n int64) {
			inTx(t, w, func(tx *store.Tx) (err error) {
				n, _, err = tx.ReleaseDeadClaims(ctx, staleBefore, own)
				return err
			})
			return n
		}
		ids := func(cs []store.TraceClaim) (out []int64) {
			for _, c := range cs {
				out = append(out, c.ItemID)
			}
			return out
		}

		byDead := claim(dead, 3)
		clock.Advance(time.Second)
		byLive := claim(live, 1)
		if len(byDead) != 3 || len(byLive) != 1 {
			t.Fatalf("claims: dead %v, live %v", ids(byDead), ids(byLive))
		}
		// The dead worker finished one item before it died.
		inTx(t, dead, func(tx *store.Tx) error {
			_, err := tx.RecordTraces(ctx, []store.TraceOutcome{{Claim: byDead[0],
				Trace: alliance.Trace{Status: alliance.TraceTimeout, Attempts: 1}, RetryAt: clock.Now().Add(time.Hour)}})
			return err
		})

		// While its heartbeat is fresh nothing is released.
		clock.Advance(5 * time.Second)
		if n := release(live, clock.Now().Add(-10*time.Second), false); n != 0 {
			t.Errorf("released %d rows of a worker with a fresh heartbeat", n)
		}
		// Stale: its two unfinished items are due now, nothing else.
		clock.Advance(10 * time.Second)
		inTx(t, live, func(tx *store.Tx) error { return tx.Heartbeat(ctx) })
		if n := release(live, clock.Now().Add(-10*time.Second), false); n != 2 {
			t.Errorf("released %d rows, want the dead worker's 2 unfinished", n)
		}
		if got := ids(claim(live, 10)); !slices.Equal(got, ids(byDead[1:])) {
			t.Errorf("due after the release: %v, want %v", got, ids(byDead[1:]))
		}
		if n := release(live, clock.Now().Add(-10*time.Second), false); n != 0 {
			t.Errorf("released %d rows twice", n)
		}
		// A stopping worker releases what it still holds (its first claim
		// and the two it took over), and nobody's are left.
		if n := release(live, clock.Now().Add(-10*time.Second), true); n != 3 {
			t.Errorf("own release: %d rows, want 3", n)
		}
		if got := claim(db, 10); len(got) != 3 {
			t.Errorf("due after the own release: %v, want 3 items", ids(got))
		}
		var workers int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM job_workers WHERE id IN ('dead', 'live')`).Scan(&workers); err != nil {
			t.Fatal(err)
		}
		if workers != 0 {
			t.Errorf("%d of the stopped workers are still listed", workers)
		}
		// Expired claims are forgotten.
		clock.Advance(11 * time.Minute)
		release(db, clock.Now().Add(-10*time.Second), false)
		var claims int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM job_claims`).Scan(&claims); err != nil {
			t.Fatal(err)
		}
		if claims != 0 {
			t.Errorf("%d expired claims kept", claims)
		}
	})
}
