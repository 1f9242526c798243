package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// The dialect names accepted by Migrate and New. They match the values of
// store.Dialect, so string(db.Dialect()) can be passed as is.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Defaults applied by New to the zero fields of Config.
const (
	DefaultMaxWorkers           = 10
	DefaultHousekeepingInterval = 15 * time.Minute
	DefaultStopTimeout          = 30 * time.Second
)

// hardStopGrace is how long Stop waits for jobs to return after it has
// cancelled their contexts.
const hardStopGrace = 5 * time.Second

// migrateLockKey is the PostgreSQL advisory lock that serialises concurrent
// Migrate calls from several processes ("alliance-jobs" folded into an int64).
const migrateLockKey int64 = 0x616c6c6a6f6273

// Config configures a Runner. The zero value is usable: no metrics, no
// housekeeping function, River's default polling.
type Config struct {
	// Logger receives the runner's and River's logs. Nil means slog.Default().
	Logger *slog.Logger

	// WorkerID names this process to River (the client id its running jobs
	// and leadership are recorded under), so that ReleaseDeadWorkers can
	// find what a dead process held. At most 100 characters; empty lets
	// River choose.
	WorkerID string

	// Registerer receives the job metrics, each labelled by job kind:
	// alliance_jobs_completed_total, alliance_jobs_failed_total and
	// alliance_job_duration_seconds. Nil means they are kept but not
	// registered anywhere. Registering twice on one registry (two Runners)
	// shares the collectors.
	Registerer prometheus.Registerer

	// Housekeeping is called by the periodic "housekeeping" job (for example,
	// to delete expired sessions). Nil means no periodic housekeeping job is
	// scheduled; its worker is still registered so that queued jobs of that
	// kind complete.
	Housekeeping func(ctx context.Context) error

	// HousekeepingInterval is how often the housekeeping job runs. It also
	// runs once whenever a process becomes River's leader. Zero means
	// DefaultHousekeepingInterval.
	HousekeepingInterval time.Duration

	// TraceBatch traces and routes up to limit items waiting for a trace and
	// returns how many it processed (app.App.TraceBatch, called as the
	// system actor). The periodic "trace_batch" job calls it repeatedly while
	// it returns full batches, for up to TraceBudget, so a backlog drains at
	// once. Nil means no trace job is scheduled; its worker is still
	// registered so that queued jobs of that kind complete.
	TraceBatch func(ctx context.Context, limit int) (int, error)

	// TraceInterval is how often the trace job is scheduled; it also runs
	// whenever a process becomes River's leader. Zero means
	// DefaultTraceInterval. At most one trace job waits or runs at a time.
	TraceInterval time.Duration

	// TraceBatchSize is the limit passed to TraceBatch. Zero means
	// DefaultTraceBatchSizeSQLite on SQLite and DefaultTraceBatchSize on
	// PostgreSQL.
	TraceBatchSize int

	// TraceBudget bounds how long one trace job keeps calling TraceBatch.
	// Zero means DefaultTraceBudget.
	TraceBudget time.Duration

	// FetchBatch fetches, hashes and matches up to limit routed items whose
	// fetch is due and returns how many it recorded (app.App.FetchBatch,
	// called as the system actor). The periodic "fetch_batch" job calls it
	// as the trace job calls TraceBatch. Nil means no fetch job is
	// scheduled; its worker is still registered.
	FetchBatch func(ctx context.Context, limit int) (int, error)

	// FetchInterval, FetchBatchSize and FetchBudget are the fetch job's
	// period, batch limit and budget; zero means DefaultFetchInterval,
	// DefaultFetchBatchSize and DefaultFetchBudget.
	FetchInterval  time.Duration
	FetchBatchSize int
	FetchBudget    time.Duration

	// TakedownBatch and NoticeBatch are the periodic takedown steps and
	// notice deliveries (app.App.TakedownBatch and NoticeBatch, as the
	// system actor); nil schedules none. Their intervals default to
	// DefaultTakedownInterval and DefaultNoticeInterval.
	TakedownBatch    func(ctx context.Context, limit int) (int, error)
	NoticeBatch      func(ctx context.Context, limit int) (int, error)
	TakedownInterval time.Duration
	NoticeInterval   time.Duration

	// PullBatch pulls peers' feeds (app.App.PullBatch, as the system
	// actor); nil schedules no pull job. PullInterval defaults to
	// DefaultPullInterval.
	PullBatch    func(ctx context.Context, limit int) (int, error)
	PullInterval time.Duration

	// BankImport runs a staged bank file import (app.App.RunImport, called
	// as the system actor) for the "bank_import" job. Nil fails such jobs.
	BankImport func(ctx context.Context, importID int64) error

	// PostgresDSN, on PostgreSQL, is the data source name of the same
	// database as the *sql.DB (the store's DSN, a URL or key=value string).
	// When set, River LISTENs for new jobs on one dedicated connection made
	// from it, so jobs start within milliseconds of the inserting
	// transaction's commit. When empty, River polls every FetchPollInterval.
	// Behind PgBouncer it must reach PostgreSQL directly or through session
	// pooling. Ignored on SQLite.
	PostgresDSN string

	// MaxWorkers is how many jobs run at once in this process. Zero means
	// DefaultMaxWorkers. River fetches at most MaxWorkers jobs per fetch and
	// fetches at most every 100ms, so a process works at most about
	// 10×MaxWorkers short jobs a second: another reason for batch jobs.
	MaxWorkers int

	// FetchPollInterval is how often River polls for new jobs when it is not
	// told about them by a notification. Zero means River's default (1s).
	FetchPollInterval time.Duration

	// StopTimeout bounds how long Stop waits for running jobs before it
	// cancels their contexts, when the context given to Stop has no earlier
	// deadline. Zero means DefaultStopTimeout.
	StopTimeout time.Duration

	// testOnly sets River's TestOnly (no staggered start of its maintenance
	// services), for this package's tests.
	testOnly bool
}

// Runner owns a River client: it works the registered job kinds, schedules
// the periodic jobs and records metrics. One Runner runs in each process;
// on PostgreSQL several processes share the queue. A Runner is started at
// most once; after Stop it cannot be started again.
type Runner struct {
	client     *river.Client[*sql.Tx]
	workers    *river.Workers
	listenPool *pgxpool.Pool
	logger     *slog.Logger
	metrics    *metrics
	dialect    string
	db         *sql.DB

	stopTimeout time.Duration
	// stopping is closed when Stop begins, so batch jobs end after the
	// batch in hand (see batchWorker).
	stopping chan struct{}

	mu      sync.Mutex
	started bool
	stopped bool
}

// New builds a Runner over db, which must already be migrated (Migrate).
// dialect is SQLite or Postgres. New does not start working jobs; see Start.
// Workers are added with Register between New and Start.
//
// Driver choice on PostgreSQL: riverdatabasesql over the same *sql.DB rather
// than riverpgxv5 over a separate pgx pool. River's client is then a
// *river.Client[*sql.Tx] on both dialects, so jobs can be inserted in the
// store's own *sql.Tx (InsertTx), which riverpgxv5 (it wants a pgx.Tx) cannot
// do. What riverdatabasesql alone lacks is LISTEN/NOTIFY; River v0.51's
// riverdatabasesql.NewWithPgxListener restores it with a pgx pool used only
// for the listener connection, which New creates from Config.PostgresDSN.
func New(db *sql.DB, dialect string, cfg Config) (*Runner, error) {
	if db == nil {
		return nil, errors.New("jobs: new: nil database")
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("jobs: new: unknown dialect %q", dialect)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	metrics, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("jobs: new: %w", err)
	}

	r := &Runner{
		workers:     river.NewWorkers(),
		logger:      logger,
		metrics:     metrics,
		dialect:     dialect,
		db:          db,
		stopTimeout: cmp.Or(cfg.StopTimeout, DefaultStopTimeout),
		stopping:    make(chan struct{}),
	}
	river.AddWorker(r.workers, &housekeepingWorker{fn: cfg.Housekeeping, logger: logger})
	traceLimit := cfg.TraceBatchSize
	if traceLimit == 0 {
		traceLimit = DefaultTraceBatchSize
		if dialect == SQLite {
			traceLimit = DefaultTraceBatchSizeSQLite
		}
	}
	traced, err := newTraceItems(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("jobs: new: %w", err)
	}
	river.AddWorker(r.workers, &batchWorker[TraceBatchArgs]{
		name:     "trace",
		fn:       cfg.TraceBatch,
		limit:    traceLimit,
		budget:   cmp.Or(cfg.TraceBudget, DefaultTraceBudget),
		items:    traced,
		logger:   logger,
		stopping: r.stopping,
	})

	fetched, err := newFetchItems(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("jobs: new: %w", err)
	}
	river.AddWorker(r.workers, &batchWorker[FetchBatchArgs]{
		name:     "fetch",
		fn:       cfg.FetchBatch,
		limit:    cmp.Or(cfg.FetchBatchSize, DefaultFetchBatchSize),
		budget:   cmp.Or(cfg.FetchBudget, DefaultFetchBudget),
		items:    fetched,
		logger:   logger,
		stopping: r.stopping,
	})

	takedowns, err := newBatchItems(cfg.Registerer, "alliance_takedown_items_total", "Items moved on by the takedown job (clearances, notices queued, re-checks).")
	if err != nil {
		return nil, fmt.Errorf("jobs: new: %w", err)
	}
	river.AddWorker(r.workers, &batchWorker[TakedownBatchArgs]{name: "takedown", fn: cfg.TakedownBatch,
		limit: 100, budget: DefaultFetchBudget, items: takedowns, logger: logger, stopping: r.stopping})
	notices, err := newBatchItems(cfg.Registerer, "alliance_notices_total", "Notice deliveries attempted by the notice job.")
	if err != nil {
		return nil, fmt.Errorf("jobs: new: %w", err)
	}
	river.AddWorker(r.workers, &batchWorker[NoticeBatchArgs]{name: "notice", fn: cfg.NoticeBatch,
		limit: 100, budget: DefaultFetchBudget, items: notices, logger: logger, stopping: r.stopping})

	pulled, err := newBatchItems(cfg.Registerer, "alliance_federation_objects_total", "Feed objects applied from peers by the pull job.")
	if err != nil {
		return nil, fmt.Errorf("jobs: new: %w", err)
	}
	river.AddWorker(r.workers, &batchWorker[PullBatchArgs]{name: "pull", fn: cfg.PullBatch,
		limit: 10, budget: DefaultFetchBudget, items: pulled, logger: logger, stopping: r.stopping})

	river.AddWorker(r.workers, &bankImportWorker{fn: cfg.BankImport, logger: logger})

	var periodic []*river.PeriodicJob
	if cfg.Housekeeping != nil {
		interval := cmp.Or(cfg.HousekeepingInterval, DefaultHousekeepingInterval)
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(interval),
			func() (river.JobArgs, *river.InsertOpts) { return HousekeepingArgs{}, nil },
			&river.PeriodicJobOpts{ID: HousekeepingArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.TraceBatch != nil {
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(cmp.Or(cfg.TraceInterval, DefaultTraceInterval)),
			func() (river.JobArgs, *river.InsertOpts) { return TraceBatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: TraceBatchArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.PullBatch != nil {
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(cmp.Or(cfg.PullInterval, DefaultPullInterval)),
			func() (river.JobArgs, *river.InsertOpts) { return PullBatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: PullBatchArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.TakedownBatch != nil {
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(cmp.Or(cfg.TakedownInterval, DefaultTakedownInterval)),
			func() (river.JobArgs, *river.InsertOpts) { return TakedownBatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: TakedownBatchArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.NoticeBatch != nil {
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(cmp.Or(cfg.NoticeInterval, DefaultNoticeInterval)),
			func() (river.JobArgs, *river.InsertOpts) { return NoticeBatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: NoticeBatchArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.FetchBatch != nil {
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(cmp.Or(cfg.FetchInterval, DefaultFetchInterval)),
			func() (river.JobArgs, *river.InsertOpts) { return FetchBatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: FetchBatchArgs{}.Kind(), RunOnStart: true},
		))
	}

	rc := &river.Config{
		Logger:            quietRiverLogger(logger),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cmp.Or(cfg.MaxWorkers, DefaultMaxWorkers)}},
		Workers:           r.workers,
		PeriodicJobs:      periodic,
		Middleware:        []rivertype.Middleware{metrics},
		FetchPollInterval: cfg.FetchPollInterval,
		// See rescueStuckJobsAfter; River's default JobTimeout (a minute) is below it.
		RescueStuckJobsAfter: rescueStuckJobsAfter,
		TestOnly:             cfg.testOnly,
		ID:                   cfg.WorkerID,
	}
	if cfg.FetchPollInterval > 0 && cfg.FetchPollInterval < river.FetchCooldownDefault {
		rc.FetchCooldown = cfg.FetchPollInterval
	}

	var driver riverdriver.Driver[*sql.Tx]
	switch dialect {
	case SQLite:
		driver = riversqlite.New(db)
	case Postgres:
		if cfg.PostgresDSN == "" {
			driver = riverdatabasesql.New(db)
			break
		}
		pc, err := pgxpool.ParseConfig(cfg.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("jobs: new: listener DSN: %w", err)
		}
		// River hijacks the listener connection from the pool; one is enough.
		pc.MinConns, pc.MaxConns = 0, 1
		pool, err := pgxpool.NewWithConfig(context.Background(), pc) // connects lazily
		if err != nil {
			return nil, fmt.Errorf("jobs: new: listener pool: %w", err)
		}
		r.listenPool = pool
		driver = riverdatabasesql.NewWithPgxListener(db, pool)
	default:
		return nil, fmt.Errorf("jobs: new: unknown dialect %q", dialect)
	}

	client, err := river.NewClient(driver, rc)
	if err != nil {
		r.closePool()
		return nil, fmt.Errorf("jobs: new: river client: %w", err)
	}
	r.client = client
	return r, nil
}

// Register adds the worker of job kind T to r. It must be called before
// Start, and not concurrently with inserts; registering a kind twice is an
// error. Jobs of kinds with no registered worker cannot be inserted.
func Register[T river.JobArgs](r *Runner, w river.Worker[T]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.stopped {
		var args T
		return fmt.Errorf("jobs: register %q: runner already started", args.Kind())
	}
	if err := river.AddWorkerSafely(r.workers, w); err != nil {
		return fmt.Errorf("jobs: register: %w", err)
	}
	return nil
}

// Client returns the River client, for inserting jobs (Insert, InsertTx,
// InsertManyTx) and inspecting them (JobGet, JobList). InsertTx takes the
// *sql.Tx of a store transaction on both dialects; see the package
// documentation. The client may be used to insert jobs without starting r.
func (r *Runner) Client() *river.Client[*sql.Tx] { return r.client }

// Start begins working jobs and, on the process elected leader, scheduling
// periodic jobs. It returns once River has started. ctx is used only while
// starting: cancelling it later does not stop the runner; call Stop.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return errors.New("jobs: start: runner stopped")
	}
	if r.started {
		return nil
	}
	if err := r.releaseDeadBatches(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	r.started = true
	r.logger.InfoContext(ctx, "jobs: runner started", "dialect", r.dialect, "listen", r.listenPool != nil)
	return nil
}

// Stop shuts r down gracefully: it stops fetching jobs and waits for running
// jobs to finish, until ctx is done or Config.StopTimeout has passed,
// whichever comes first. Jobs still running then have their contexts
// cancelled, and Stop waits a few more seconds for them to return; their
// attempts are retried later, on this or another process. Stop returns an
// error only if jobs were still running at the end. It is safe to call Stop
// on a Runner that was never started, and more than once.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return nil
	}
	r.stopped = true
	close(r.stopping)
	defer r.closePool()
	if !r.started {
		return nil
	}

	softCtx, cancel := context.WithTimeout(ctx, r.stopTimeout)
	err := r.client.Stop(softCtx)
	cancel()
	if err == nil {
		r.logger.InfoContext(ctx, "jobs: runner stopped")
		return nil
	}

	r.logger.WarnContext(ctx, "jobs: jobs still running at stop timeout; cancelling them", "err", err)
	hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopGrace)
	defer cancel()
	if err := r.client.StopAndCancel(hardCtx); err != nil {
		return fmt.Errorf("jobs: stop: jobs did not return after cancellation: %w", err)
	}
	r.logger.InfoContext(ctx, "jobs: runner stopped after cancelling running jobs")
	return nil
}

func (r *Runner) closePool() {
	if r.listenPool != nil {
		r.listenPool.Close()
		r.listenPool = nil
	}
}

// Migrate creates or upgrades River's tables (river_job, river_leader, …) in
// db with River's own migrations for dialect. It is idempotent. On
// PostgreSQL concurrent callers are serialised by an advisory lock; each
// River migration runs in its own transaction.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	switch dialect {
	case SQLite:
		return migrate(ctx, riversqlite.New(db))
	case Postgres:
		// The lock is held on a connection of its own while River migrates
		// through the pool; with a one-connection pool that would deadlock.
		if db.Stats().MaxOpenConnections != 1 {
			conn, err := db.Conn(ctx)
			if err != nil {
				return fmt.Errorf("jobs: migrate: %w", err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
				return fmt.Errorf("jobs: migrate: lock: %w", err)
			}
			defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey) //nolint:errcheck // closing the session releases it too
		}
		return migrate(ctx, riverdatabasesql.New(db))
	default:
		return fmt.Errorf("jobs: migrate: unknown dialect %q", dialect)
	}
}

func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if len(res.Versions) > 0 {
		versions := make([]int, len(res.Versions))
		for i, v := range res.Versions {
			versions[i] = v.Version
		}
		// Debug: Migrate has no logger of its own, and migrate prints the outcome.
		slog.DebugContext(ctx, "jobs: applied River migrations", "versions", versions)
	}
	return nil
}

// quietRiverLogger returns the logger River gets. River reports routine
// state (producer job counts every few seconds) at info, which would bury
// the node's own log; its info lines show only when the node logs at debug.
func quietRiverLogger(l *slog.Logger) *slog.Logger {
	min := slog.LevelWarn
	if l.Enabled(context.Background(), slog.LevelDebug) {
		min = slog.LevelDebug
	}
	return slog.New(minLevelHandler{Handler: l.Handler(), min: min}).With("component", "river")
}

// minLevelHandler drops records below min before they reach the wrapped handler.
type minLevelHandler struct {
	slog.Handler
	min slog.Level
}

func (h minLevelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{Handler: h.Handler.WithGroup(name), min: h.min}
}

// batchKinds are the periodic batch jobs: unique while they wait or run,
// and safe to drop, since the next period's job takes up their work.
var batchKinds = []string{TraceBatchArgs{}.Kind(), FetchBatchArgs{}.Kind(), TakedownBatchArgs{}.Kind(),
	NoticeBatchArgs{}.Kind(), PullBatchArgs{}.Kind(), HousekeepingArgs{}.Kind()}

// ReleaseDeadWorkers, on PostgreSQL, discards the batch jobs that the given
// River clients (processes found dead by their heartbeat) left running,
// and ends their leadership, so that the batch kinds run again at once
// instead of waiting for River's rescuer (rescueStuckJobsAfter) and the
// leader's term. Other processes' jobs are not touched. On SQLite a
// restarted node's runner does this when it starts (releaseDeadBatches).
func (r *Runner) ReleaseDeadWorkers(ctx context.Context, workers []string) error {
	if r.dialect != Postgres || len(workers) == 0 {
		return nil
	}
	res, err := r.db.ExecContext(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
		WHERE state = 'running' AND kind = ANY($1) AND attempted_by[array_length(attempted_by, 1)] = ANY($2)`,
		batchKinds, workers)
	if err != nil {
		return fmt.Errorf("jobs: release batch jobs of dead workers: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		r.logger.WarnContext(ctx, "jobs: batch jobs left running by a dead process were discarded", "jobs", n, "workers", workers)
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM river_leader WHERE leader_id = ANY($1)`, workers); err != nil {
		return fmt.Errorf("jobs: end leadership of dead workers: %w", err)
	}
	return nil
}

// releaseDeadBatches, on SQLite, discards the batch jobs still marked
// running when the runner starts. A SQLite node works its jobs in one
// process, so such a job was left by a process that died; being unique, it
// would keep its kind from running until River's rescuer gave up on it
// (rescueStuckJobsAfter). On PostgreSQL other processes may be working
// them, and the rescuer decides.
//
// For the same reason it ends the leadership a dead process still holds:
// only River's leader schedules periodic jobs, and a leader that was killed
// keeps its term until it expires (up to 15 s), so no trace, fetch or
// notice job would run that long after a restart. (A process that stops
// cleanly resigns.)
func (r *Runner) releaseDeadBatches(ctx context.Context) error {
	if r.dialect != SQLite {
		return nil
	}
	args := []any{}
	ph := make([]string, len(batchKinds))
	for i, k := range batchKinds {
		args = append(args, k)
		ph[i] = "?"
	}
	res, err := r.db.ExecContext(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = attempted_at
		WHERE state = 'running' AND kind IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("release dead batch jobs: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		r.logger.WarnContext(ctx, "jobs: batch jobs left running by a process that stopped were discarded", "jobs", n)
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM river_leader`); err != nil {
		return fmt.Errorf("release dead leader: %w", err)
	}
	return nil
}
