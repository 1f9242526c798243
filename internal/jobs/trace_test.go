package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// backlog is a fake trace function over a number of waiting items. It
// records the limits it was called with.
type backlog struct {
	mu     sync.Mutex
	left   int
	calls  int
	limits []int
}

func (b *backlog) trace(ctx context.Context, limit int) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(limit, b.left)
	b.left -= n
	b.calls++
	b.limits = append(b.limits, limit)
	return n, nil
}

func (b *backlog) state() (left, calls int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.left, b.calls
}

// tracedItems returns alliance_trace_items_total.
func tracedItems(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "alliance_trace_items_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// waitUntil polls cond until it holds or waitFor passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTraceJobDrainsBacklog checks that the trace job runs on start and
// keeps calling the trace function with the dialect's default batch size
// while it returns full batches, so the whole backlog is traced by the
// first job.
func TestTraceJobDrainsBacklog(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		size := map[string]int{SQLite: DefaultTraceBatchSizeSQLite, Postgres: DefaultTraceBatchSize}[tdb.dialect]
		total := 12*size + 34
		b := &backlog{left: total}
		r, reg := newRunner(t, tdb, Config{
			TraceBatch:    b.trace,
			TraceInterval: time.Hour, // only the run on start
		})
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "backlog drained", func() bool { left, _ := b.state(); return left == 0 })
		waitMetric(t, reg, "alliance_jobs_completed_total", TraceBatchArgs{}.Kind(), 1)

		_, calls := b.state()
		if calls != 13 { // 12 full batches, then 34
			t.Errorf("trace function called %d times, want 13 (one job draining the backlog)", calls)
		}
		for i, l := range b.limits {
			if l != size {
				t.Errorf("call %d: limit %d, want %d", i, l, size)
			}
		}
		if got := tracedItems(t, reg); got != float64(total) {
			t.Errorf("alliance_trace_items_total = %v, want %d", got, total)
		}
		list, err := r.Client().JobList(t.Context(), river.NewJobListParams().Kinds(TraceBatchArgs{}.Kind()))
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) != 1 || list.Jobs[0].MaxAttempts != 1 {
			t.Errorf("trace jobs = %d (want 1), %v", len(list.Jobs), list.Jobs)
		}
	})
}

// TestTraceJobUnique checks that while a trace job runs, the periodic
// schedule adds no second job, and that scheduling resumes when it is done.
func TestTraceJobUnique(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		started := make(chan struct{}, 1)
		release := make(chan struct{})
		var calls atomic.Int64
		fn := func(ctx context.Context, limit int) (int, error) {
			if calls.Add(1) == 1 {
				started <- struct{}{}
				select {
				case <-release:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
			return 0, nil
		}
		r, reg := newRunner(t, tdb, Config{TraceBatch: fn, TraceInterval: 100 * time.Millisecond})
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-started:
		case <-time.After(waitFor):
			t.Fatal("trace job did not start")
		}
		time.Sleep(time.Second) // ten periods
		list, err := r.Client().JobList(t.Context(), river.NewJobListParams().Kinds(TraceBatchArgs{}.Kind()).
			States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStatePending))
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) != 1 || list.Jobs[0].State != rivertype.JobStateRunning {
			states := make([]rivertype.JobState, len(list.Jobs))
			for i, j := range list.Jobs {
				states[i] = j.State
			}
			t.Errorf("while one trace job runs, trace jobs waiting or running: %v; want just the running one", states)
		}
		close(release)
		waitMetric(t, reg, "alliance_jobs_completed_total", TraceBatchArgs{}.Kind(), 2)
	})
}

// TestTraceJobBudgetAndErrors checks that a job stops at its budget even
// when batches keep coming full, and that a failing trace function fails its
// job without stopping the schedule.
func TestTraceJobBudgetAndErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		var calls atomic.Int64
		fn := func(ctx context.Context, limit int) (int, error) {
			n := calls.Add(1)
			if n%50 == 0 {
				return 3, errors.New("deliberate failure")
			}
			time.Sleep(time.Millisecond)
			return limit, nil // an endless backlog
		}
		r, reg := newRunner(t, tdb, Config{
			TraceBatch:     fn,
			TraceBatchSize: 10,
			TraceInterval:  100 * time.Millisecond,
			TraceBudget:    20 * time.Millisecond,
			// The deliberate failures are logged at error level.
			Logger: slog.New(slog.DiscardHandler),
		})
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		waitMetric(t, reg, "alliance_jobs_completed_total", TraceBatchArgs{}.Kind(), 2)
		waitMetric(t, reg, "alliance_jobs_failed_total", TraceBatchArgs{}.Kind(), 1)
		waitMetric(t, reg, "alliance_jobs_completed_total", TraceBatchArgs{}.Kind(),
			metricValue(t, reg, "alliance_jobs_completed_total", TraceBatchArgs{}.Kind())+1)
		// Completed jobs prove the budget: without it the first would never end.
		// The failed call's 3 items count too: they were processed.
		if got := tracedItems(t, reg); got < 20 || int(got)%10 != 3 {
			t.Errorf("alliance_trace_items_total = %v, want at least 20, ending in 3", got)
		}
	})
}
