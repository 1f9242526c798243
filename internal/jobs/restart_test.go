package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestStopEndsBatchJobAfterItsBatch checks that Stop does not wait for a
// batch job to drain its backlog until the budget or the stop timeout: the
// job ends after the batch in hand, which completes uncancelled (a batch
// cancelled mid-way leaves its claimed items waiting for their lease).
func TestStopEndsBatchJobAfterItsBatch(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		var cancelled atomic.Int64
		started := make(chan struct{}, 1)
		fn := func(ctx context.Context, limit int) (int, error) {
			select {
			case started <- struct{}{}:
			default:
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				cancelled.Add(1)
				return 0, ctx.Err()
			}
			return limit, nil // an endless backlog
		}
		// Without the stop signal the job would run on for its budget,
		// and Stop would wait out its timeout, then cancel it.
		r, _ := newRunner(t, tdb, Config{TraceBatch: fn, TraceBudget: time.Minute, StopTimeout: 10 * time.Second})
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(waitFor):
			t.Fatal("trace job did not start")
		}
		start := time.Now()
		if err := r.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Stop took %v with a batch job draining a backlog; want it to end after the batch in hand", took)
		}
		if n := cancelled.Load(); n != 0 {
			t.Errorf("%d batches were cancelled mid-way; want the batch in hand to finish", n)
		}
	})
}

// TestDeadLeaderReleased checks that on SQLite the leadership left by a
// process that was killed does not keep a new runner from scheduling the
// periodic jobs until it expires.
func TestDeadLeaderReleased(t *testing.T) {
	tdb := openSQLite(t)
	if err := Migrate(t.Context(), tdb.db, SQLite); err != nil {
		t.Fatal(err)
	}
	// As a killed leader leaves it: a term with most of its time to run.
	if _, err := tdb.db.ExecContext(t.Context(), `INSERT INTO river_leader (leader_id, elected_at, expires_at)
		VALUES ('killed', datetime('now', 'subsec'), datetime('now', 'subsec', '+1 hour'))`); err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{}, 1)
	fn := func(ctx context.Context, limit int) (int, error) {
		select {
		case ran <- struct{}{}:
		default:
		}
		return 0, nil
	}
	r, _ := newRunner(t, tdb, Config{TraceBatch: fn})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(waitFor):
		t.Fatalf("no trace job within %v of the start: the dead leader's term still holds", waitFor)
	}
}
