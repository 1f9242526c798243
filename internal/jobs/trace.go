package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Defaults of the trace job, applied by New to the zero fields of Config.
const (
	DefaultTraceInterval  = time.Second
	DefaultTraceBatchSize = 500
	// DefaultTraceBatchSizeSQLite is smaller: each batch is one write
	// transaction, and on SQLite it holds the one write lock that intake
	// also waits for. Measured with `alliance bench intake
	// --trace-during-intake` on 2 cores: p99 intake latency about 65 ms with
	// batches of 500, 45 ms with 100, while the trace still drains over
	// 7,000 items/s (docs/benchmarks.md).
	DefaultTraceBatchSizeSQLite = 100
	DefaultTraceBudget          = 30 * time.Second
)

// traceJobTimeout bounds one trace job: its budget plus time for the batch in
// flight when the budget runs out (a batch can wait on DNS for a few seconds).
const traceJobTimeout = time.Minute

// rescueStuckJobsAfter is how long a job may stay "running" before River's
// rescuer treats its process as dead. River's default is an hour; the trace
// job is unique, so a job left running by a crashed process would block
// tracing that long. Jobs whose worker sets a longer Timeout are left alone
// by the rescuer until it passes.
const rescueStuckJobsAfter = 2 * time.Minute

// TraceBatchArgs are the arguments of the periodic trace job, which calls
// Config.TraceBatch until the backlog of items waiting for a trace is
// drained. It has no fields.
type TraceBatchArgs struct{}

// Kind returns "trace_batch".
func (TraceBatchArgs) Kind() string { return "trace_batch" }

// InsertOpts makes the job unique while it waits or runs, so that with a
// one-second period at most one is queued and one runs, however long a
// backlog takes to drain. It is tried once: a failed job is replaced by the
// next period's, and the items it did not trace are still waiting.
func (TraceBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// batchWorker runs a periodic batch job (trace, fetch): it calls fn while
// it returns full batches, its budget lasts, its context lives and the
// runner is not stopping.
type batchWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	name   string // what the batches do, for logs: "trace", "fetch"
	fn     func(ctx context.Context, limit int) (int, error)
	limit  int
	budget time.Duration
	items  prometheus.Counter
	logger *slog.Logger
	// stopping is closed when Runner.Stop begins: the job ends after the
	// batch in hand, recorded, rather than draining a backlog until the
	// stop timeout cancels it mid-batch (its claimed items would then wait
	// for their lease). The next process takes up the backlog.
	stopping <-chan struct{}
}

// Timeout bounds the job a little beyond its budget.
func (w *batchWorker[T]) Timeout(*river.Job[T]) time.Duration {
	return max(traceJobTimeout, 2*w.budget)
}

// Work calls the batch function while it returns full batches, its budget
// lasts and its context lives, so a backlog drains in one job rather than
// one batch a period.
func (w *batchWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	if w.fn == nil {
		return nil
	}
	start := time.Now()
	total, batches := 0, 0
	for {
		n, err := w.fn(ctx, w.limit)
		total += n
		batches++
		w.items.Add(float64(n))
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				// Shutdown or timeout: the items left wait for the next job.
				return fmt.Errorf("jobs: %s batch: %w", w.name, err)
			}
			w.logger.ErrorContext(ctx, "jobs: batch failed", "batch", w.name,
				"job_id", job.ID, "items", total, "batches", batches, "duration", time.Since(start), "err", err)
			return fmt.Errorf("jobs: %s batch: %w", w.name, err)
		}
		if n < w.limit || ctx.Err() != nil || time.Since(start) >= w.budget || w.isStopping() {
			break
		}
	}
	if total > 0 {
		w.logger.InfoContext(ctx, "jobs: batch done", "batch", w.name,
			"job_id", job.ID, "items", total, "batches", batches, "duration", time.Since(start))
	}
	return nil
}

// isStopping reports whether the runner has begun to stop.
func (w *batchWorker[T]) isStopping() bool {
	select {
	case <-w.stopping:
		return true
	default:
		return false
	}
}

// newTraceItems returns the counter of items traced, registered on reg when
// it is not nil (or the one registered there before).
func newTraceItems(reg prometheus.Registerer) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "alliance_trace_items_total",
		Help: "Items traced and routed by the trace job (failed traces included; they are retried).",
	})
	if reg == nil {
		return c, nil
	}
	return register(reg, prometheus.Counter(c))
}
