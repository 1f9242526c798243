package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// bankImportTimeout bounds one bank import job. An import is one database
// transaction over the whole file; 10^7 hashes take minutes, not hours.
const bankImportTimeout = time.Hour

// BankImportArgs are the arguments of the "bank_import" job, which runs a
// staged bank file import by calling Config.BankImport. It is inserted in
// the transaction that stages the file.
type BankImportArgs struct {
	ImportID int64 `json:"import_id"`
}

// Kind returns "bank_import".
func (BankImportArgs) Kind() string { return "bank_import" }

// InsertOpts allows a few attempts: an attempt cut short (shutdown, a lost
// process) leaves the import running with its file staged, and the next
// attempt runs it again; a finished import is not run twice.
func (BankImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3}
}

type bankImportWorker struct {
	river.WorkerDefaults[BankImportArgs]
	fn     func(ctx context.Context, importID int64) error
	logger *slog.Logger
}

// Timeout lets an import of a large file finish.
func (w *bankImportWorker) Timeout(*river.Job[BankImportArgs]) time.Duration {
	return bankImportTimeout
}

// Work runs the import and logs the outcome.
func (w *bankImportWorker) Work(ctx context.Context, job *river.Job[BankImportArgs]) error {
	if w.fn == nil {
		return fmt.Errorf("jobs: bank import %d: no BankImport function configured", job.Args.ImportID)
	}
	start := time.Now()
	if err := w.fn(ctx, job.Args.ImportID); err != nil {
		w.logger.ErrorContext(ctx, "jobs: bank import failed", "job_id", job.ID, "import_id", job.Args.ImportID,
			"attempt", job.Attempt, "duration", time.Since(start), "err", err)
		return fmt.Errorf("jobs: bank import %d: %w", job.Args.ImportID, err)
	}
	w.logger.InfoContext(ctx, "jobs: bank import finished", "job_id", job.ID, "import_id", job.Args.ImportID,
		"duration", time.Since(start))
	return nil
}
