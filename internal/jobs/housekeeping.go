package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// HousekeepingArgs are the arguments of the periodic housekeeping job, which
// calls Config.Housekeeping. It has no fields.
type HousekeepingArgs struct{}

// Kind returns "housekeeping".
func (HousekeepingArgs) Kind() string { return "housekeeping" }

// InsertOpts limits housekeeping to a few attempts: it runs again at the next
// interval anyway.
func (HousekeepingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3}
}

type housekeepingWorker struct {
	river.WorkerDefaults[HousekeepingArgs]
	fn     func(context.Context) error
	logger *slog.Logger
}

// Work calls the housekeeping function and logs the outcome.
func (w *housekeepingWorker) Work(ctx context.Context, job *river.Job[HousekeepingArgs]) error {
	if w.fn == nil {
		w.logger.InfoContext(ctx, "jobs: housekeeping: nothing configured", "job_id", job.ID)
		return nil
	}
	start := time.Now()
	if err := w.fn(ctx); err != nil {
		w.logger.ErrorContext(ctx, "jobs: housekeeping failed",
			"job_id", job.ID, "attempt", job.Attempt, "duration", time.Since(start), "err", err)
		return fmt.Errorf("jobs: housekeeping: %w", err)
	}
	w.logger.InfoContext(ctx, "jobs: housekeeping done", "job_id", job.ID, "duration", time.Since(start))
	return nil
}
