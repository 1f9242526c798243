package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// waitFor bounds every wait in these tests; a passing test waits far less.
const waitFor = 15 * time.Second

// testDB is a freshly created, migrated database.
type testDB struct {
	dialect string
	db      *sql.DB
	dsn     string // PostgreSQL only: the DSN, for Config.PostgresDSN
}

// forEachDB marks t parallel and runs fn as a parallel subtest on a new, migrated SQLite database
// and, when ALLIANCE_TEST_POSTGRES is set, on a new PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, tdb testDB)) {
	t.Helper()
	t.Parallel()
	dbs := []struct {
		name string
		open func(*testing.T) testDB
	}{{SQLite, openSQLite}}
	if os.Getenv("ALLIANCE_TEST_POSTGRES") != "" {
		dbs = append(dbs, struct {
			name string
			open func(*testing.T) testDB
		}{Postgres, openPostgres})
	}
	for _, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			tdb := d.open(t)
			if err := Migrate(t.Context(), tdb.db, tdb.dialect); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			fn(t, tdb)
		})
	}
}

func openSQLite(t *testing.T) testDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alliance.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	return testDB{dialect: SQLite, db: db}
}

// openPostgres creates a uniquely named database on the server named by
// ALLIANCE_TEST_POSTGRES (a postgres:// URL) and drops it after the test.
func openPostgres(t *testing.T) testDB {
	t.Helper()
	base := os.Getenv("ALLIANCE_TEST_POSTGRES")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "alliance_jobs_" + hex.EncodeToString(randBytes(6))
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("ALLIANCE_TEST_POSTGRES must be a postgres:// URL, got %q", base)
	}
	u.Path = "/" + name
	dsn := u.String()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the drop
	return testDB{dialect: Postgres, db: db, dsn: dsn}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newRunner builds a Runner on tdb with fast polling, its own metrics
// registry and logs at warning level into the test output. The runner is
// stopped when the test ends.
func newRunner(t *testing.T, tdb testDB, cfg Config) (*Runner, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	cfg.testOnly = true
	var errorLogs atomic.Int64
	if cfg.Logger == nil {
		cfg.Logger = slog.New(&countingHandler{
			Handler: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}),
			errors:  &errorLogs,
		})
	}
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = 50 * time.Millisecond
	}
	if cfg.PostgresDSN == "" {
		cfg.PostgresDSN = tdb.dsn
	}
	r, err := New(tdb.db, tdb.dialect, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if n := errorLogs.Load(); n > 0 {
			t.Errorf("%d error-level log records from River or the runner", n)
		}
	})
	return r, reg
}

// countingHandler counts error-level records: River logs database trouble
// (for example SQLite time-format or locking problems) there.
type countingHandler struct {
	slog.Handler
	errors *atomic.Int64
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h *countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &countingHandler{h.Handler.WithAttrs(attrs), h.errors}
}

func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{h.Handler.WithGroup(name), h.errors}
}

// waitJob polls until the job reaches state and returns it.
func waitJob(t *testing.T, r *Runner, id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		job, err := r.Client().JobGet(t.Context(), id)
		if err != nil {
			t.Fatalf("JobGet %d: %v", id, err)
		}
		if job.State == state {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d (%s) is %s after %v, want %s; errors: %v", id, job.Kind, job.State, waitFor, state, job.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricValue returns a counter's value, or a histogram's sample count, for
// the metric name and job kind; 0 when it has not been recorded.
func metricValue(t *testing.T, reg *prometheus.Registry, name, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					if h := m.GetHistogram(); h != nil {
						return float64(h.GetSampleCount())
					}
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// waitMetric polls until metricValue reaches want.
func waitMetric(t *testing.T, reg *prometheus.Registry, name, kind string, want float64) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		got := metricValue(t, reg, name, kind)
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s{kind=%q} = %v after %v, want %v", name, kind, got, waitFor, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type echoArgs struct {
	N int `json:"n"`
}

func (echoArgs) Kind() string { return "test_echo" }

type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	got chan int
}

func (w *echoWorker) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	w.got <- job.Args.N
	return nil
}

type failArgs struct{}

func (failArgs) Kind() string { return "test_fail" }

type failWorker struct {
	river.WorkerDefaults[failArgs]
}

func (failWorker) Work(ctx context.Context, job *river.Job[failArgs]) error {
	return errors.New("deliberate failure")
}

type blockArgs struct{}

func (blockArgs) Kind() string { return "test_block" }

// blockWorker signals started, then waits for release or for its context to
// be cancelled, and records which came first.
type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started   chan struct{}
	release   chan struct{}
	cancelled atomic.Bool
	finished  atomic.Bool
}

func (w *blockWorker) Work(ctx context.Context, job *river.Job[blockArgs]) error {
	close(w.started)
	select {
	case <-w.release:
		w.finished.Store(true)
		return nil
	case <-ctx.Done():
		w.cancelled.Store(true)
		return ctx.Err()
	}
}

func TestMigrateIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		// forEachDB migrated once already.
		for range 2 {
			if err := Migrate(t.Context(), tdb.db, tdb.dialect); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		}
		var n int
		if err := tdb.db.QueryRowContext(t.Context(), "SELECT count(*) FROM river_job").Scan(&n); err != nil {
			t.Fatalf("river_job: %v", err)
		}
		var rows, version int
		if err := tdb.db.QueryRowContext(t.Context(), "SELECT count(*), max(version) FROM river_migration").Scan(&rows, &version); err != nil {
			t.Fatalf("river_migration: %v", err)
		}
		if rows != version || version < 6 {
			t.Errorf("river_migration has %d rows up to version %d; want one row per version", rows, version)
		}
	})
}

// TestMigrateConcurrentPostgres migrates one database from several
// goroutines at once, as several `alliance serve` processes starting together
// would; the advisory lock makes them take turns.
func TestMigrateConcurrentPostgres(t *testing.T) {
	if os.Getenv("ALLIANCE_TEST_POSTGRES") == "" {
		t.Skip("ALLIANCE_TEST_POSTGRES not set")
	}
	t.Parallel()
	tdb := openPostgres(t)
	errs := make(chan error, 3)
	for range cap(errs) {
		go func() { errs <- Migrate(t.Context(), tdb.db, tdb.dialect) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
}

func TestMigrateUnknownDialect(t *testing.T) {
	if err := Migrate(t.Context(), &sql.DB{}, "oracle"); err == nil {
		t.Error("Migrate(oracle) succeeded")
	}
	if _, err := New(&sql.DB{}, "oracle", Config{}); err == nil {
		t.Error("New(oracle) succeeded")
	}
}

func TestJobRunsAndCompletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		testJobRunsAndCompletes(t, tdb)
	})
}

// TestPostgresPollOnly runs jobs on PostgreSQL without a listener pool.
func TestPostgresPollOnly(t *testing.T) {
	if os.Getenv("ALLIANCE_TEST_POSTGRES") == "" {
		t.Skip("ALLIANCE_TEST_POSTGRES not set")
	}
	t.Parallel()
	tdb := openPostgres(t)
	if err := Migrate(t.Context(), tdb.db, tdb.dialect); err != nil {
		t.Fatal(err)
	}
	tdb.dsn = ""
	testJobRunsAndCompletes(t, tdb)
}

func testJobRunsAndCompletes(t *testing.T, tdb testDB) {
	ctx := t.Context()
	r, reg := newRunner(t, tdb, Config{})
	echo := &echoWorker{got: make(chan int, 10)}
	if err := Register(r, echo); err != nil {
		t.Fatal(err)
	}
	if err := Register(r, failWorker{}); err != nil {
		t.Fatal(err)
	}
	if err := Register(r, echo); err == nil {
		t.Error("registering test_echo twice succeeded")
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Register(r, &blockWorker{}); err == nil {
		t.Error("Register after Start succeeded")
	}

	// A job scheduled an hour ahead must not run: on SQLite this checks that
	// times compare correctly as text.
	future, err := r.Client().Insert(ctx, echoArgs{N: -1}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("Insert scheduled: %v", err)
	}

	// A job inserted in a transaction that rolls back never exists.
	tx, err := tdb.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rolledBack, err := r.Client().InsertTx(ctx, tx, echoArgs{N: 7}, nil)
	if err != nil {
		t.Fatalf("InsertTx: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// A job inserted in a committed transaction runs.
	tx, err = tdb.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Client().InsertTx(ctx, tx, echoArgs{N: 42}, nil)
	if err != nil {
		t.Fatalf("InsertTx: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	failed, err := r.Client().Insert(ctx, failArgs{}, &river.InsertOpts{MaxAttempts: 1})
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}

	job := waitJob(t, r, res.Job.ID, rivertype.JobStateCompleted)
	if job.FinalizedAt == nil || job.AttemptedAt == nil || job.FinalizedAt.Before(job.CreatedAt) {
		t.Errorf("completed job times: created %v attempted %v finalized %v", job.CreatedAt, job.AttemptedAt, job.FinalizedAt)
	}
	if d := time.Since(job.CreatedAt); d < -time.Minute || d > time.Minute {
		t.Errorf("job created at %v, %v from now: time zone or format trouble", job.CreatedAt, d)
	}
	select {
	case n := <-echo.got:
		if n != 42 {
			t.Errorf("worker got n=%d, want 42", n)
		}
	default:
		t.Error("worker did not run")
	}
	// On SQLite the committed job may reuse the rolled-back job's ID (the
	// AUTOINCREMENT counter rolls back too), so count jobs of the kind.
	echoes, err := r.Client().JobList(ctx, river.NewJobListParams().Kinds(echoArgs{}.Kind()).States(rivertype.JobStateCompleted))
	if err != nil {
		t.Fatalf("JobList: %v", err)
	}
	if len(echoes.Jobs) != 1 {
		t.Errorf("%d test_echo jobs, want 1: the rolled-back insert (id %d) must not exist", len(echoes.Jobs), rolledBack.Job.ID)
	}
	fj := waitJob(t, r, failed.Job.ID, rivertype.JobStateDiscarded)
	if len(fj.Errors) != 1 || !strings.Contains(fj.Errors[0].Error, "deliberate failure") {
		t.Errorf("failed job errors = %+v", fj.Errors)
	}

	if fj, err := r.Client().JobGet(ctx, future.Job.ID); err != nil || fj.State != rivertype.JobStateScheduled {
		t.Errorf("job scheduled in an hour: %v, %v; want state scheduled", fj, err)
	} else if d := time.Until(fj.ScheduledAt); d < 59*time.Minute || d > time.Hour {
		t.Errorf("job scheduled at %v, %v from now; want an hour", fj.ScheduledAt, d)
	}

	waitMetric(t, reg, "alliance_jobs_completed_total", "test_echo", 1)
	waitMetric(t, reg, "alliance_jobs_failed_total", "test_fail", 1)
	if got := metricValue(t, reg, "alliance_job_duration_seconds", "test_echo"); got != 1 {
		t.Errorf("duration samples for test_echo = %v, want 1", got)
	}
	if got := metricValue(t, reg, "alliance_jobs_failed_total", "test_echo"); got != 0 {
		t.Errorf("failed test_echo = %v, want 0", got)
	}

	// Listing parses every timestamp column back (SQLite stores them as text).
	list, err := r.Client().JobList(ctx, river.NewJobListParams().States(rivertype.JobStateCompleted, rivertype.JobStateDiscarded).First(10))
	if err != nil {
		t.Fatalf("JobList: %v", err)
	}
	if len(list.Jobs) != 2 {
		t.Errorf("JobList: %d jobs, want 2", len(list.Jobs))
	}
}

func TestHousekeepingRunsOnStart(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		called := make(chan struct{}, 1)
		r, reg := newRunner(t, tdb, Config{
			Housekeeping: func(ctx context.Context) error {
				select {
				case called <- struct{}{}:
				default:
				}
				return nil
			},
		})
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-called:
		case <-time.After(waitFor):
			t.Fatalf("housekeeping not called within %v of start", waitFor)
		}
		waitMetric(t, reg, "alliance_jobs_completed_total", HousekeepingArgs{}.Kind(), 1)

		list, err := r.Client().JobList(t.Context(), river.NewJobListParams().Kinds(HousekeepingArgs{}.Kind()))
		if err != nil {
			t.Fatalf("JobList: %v", err)
		}
		if len(list.Jobs) != 1 || list.Jobs[0].MaxAttempts != 3 {
			t.Errorf("housekeeping jobs = %d (want 1), max attempts %v", len(list.Jobs), list.Jobs)
		}
	})
}

func TestStopWaitsForRunningJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		ctx := t.Context()
		r, reg := newRunner(t, tdb, Config{StopTimeout: waitFor})
		w := &blockWorker{started: make(chan struct{}), release: make(chan struct{})}
		if err := Register(r, w); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := r.Client().Insert(ctx, blockArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.started:
		case <-time.After(waitFor):
			t.Fatal("job did not start")
		}

		stopped := make(chan error, 1)
		go func() { stopped <- r.Stop(ctx) }()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a job was running", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(w.release)
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("Stop: %v", err)
			}
		case <-time.After(waitFor):
			t.Fatal("Stop did not return after the job finished")
		}
		if !w.finished.Load() || w.cancelled.Load() {
			t.Errorf("job finished=%v cancelled=%v, want finished, not cancelled", w.finished.Load(), w.cancelled.Load())
		}
		job, err := r.Client().JobGet(ctx, res.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if job.State != rivertype.JobStateCompleted {
			t.Errorf("job state after Stop = %s, want completed", job.State)
		}
		if got := metricValue(t, reg, "alliance_jobs_completed_total", "test_block"); got != 1 {
			t.Errorf("completed test_block = %v, want 1", got)
		}
		if err := r.Start(ctx); err == nil {
			t.Error("Start after Stop succeeded")
		}
		if err := r.Stop(ctx); err != nil {
			t.Errorf("second Stop: %v", err)
		}
	})
}

func TestStopCancelsAfterTimeout(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		ctx := t.Context()
		r, reg := newRunner(t, tdb, Config{StopTimeout: 300 * time.Millisecond})
		w := &blockWorker{started: make(chan struct{}), release: make(chan struct{})}
		if err := Register(r, w); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := r.Client().Insert(ctx, blockArgs{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.started:
		case <-time.After(waitFor):
			t.Fatal("job did not start")
		}
		if err := r.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !w.cancelled.Load() {
			t.Error("running job's context was not cancelled")
		}
		job, err := r.Client().JobGet(ctx, res.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		// River puts a job interrupted by shutdown back to available without
		// recording an error; it runs again on the next start.
		if job.State != rivertype.JobStateAvailable && job.State != rivertype.JobStateRetryable {
			t.Errorf("interrupted job: state %s, want available or retryable", job.State)
		}
		for _, name := range []string{"alliance_jobs_failed_total", "alliance_jobs_completed_total"} {
			if got := metricValue(t, reg, name, "test_block"); got != 0 {
				t.Errorf("%s{kind=test_block} = %v, want 0 for an interrupted attempt", name, got)
			}
		}
		if got := metricValue(t, reg, "alliance_job_duration_seconds", "test_block"); got != 1 {
			t.Errorf("duration samples for test_block = %v, want 1", got)
		}
	})
}

func TestStopWithoutStart(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		r, _ := newRunner(t, tdb, Config{})
		// An unstarted runner still inserts jobs (for example from the CLI).
		if _, err := r.Client().Insert(t.Context(), HousekeepingArgs{}, nil); err != nil {
			t.Fatalf("Insert: %v", err)
		}
		if err := r.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	})
}

type countArgs struct {
	I int `json:"i"`
}

func (countArgs) Kind() string { return "test_count" }

type countWorker struct {
	river.WorkerDefaults[countArgs]
	n atomic.Int64
}

func (w *countWorker) Work(ctx context.Context, job *river.Job[countArgs]) error {
	w.n.Add(1)
	return nil
}

// TestManyJobs works a few hundred jobs with several workers at once, which
// on SQLite exercises concurrent writers through the ncruces driver.
func TestManyJobs(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		ctx := t.Context()
		r, reg := newRunner(t, tdb, Config{MaxWorkers: 20})
		w := &countWorker{}
		if err := Register(r, w); err != nil {
			t.Fatal(err)
		}
		const n = 100
		params := make([]river.InsertManyParams, n)
		for i := range params {
			params[i] = river.InsertManyParams{Args: countArgs{I: i}}
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := r.Client().InsertMany(ctx, params); err != nil {
			t.Fatalf("InsertMany: %v", err)
		}
		waitMetric(t, reg, "alliance_jobs_completed_total", "test_count", n)
		t.Logf("%d jobs in %v", n, time.Since(start))
		if got := w.n.Load(); got != n {
			t.Errorf("worker ran %d times, want %d", got, n)
		}
	})
}

// TestPostgresListen checks that with Config.PostgresDSN a job starts on
// notification, long before the next poll.
func TestPostgresListen(t *testing.T) {
	if os.Getenv("ALLIANCE_TEST_POSTGRES") == "" {
		t.Skip("ALLIANCE_TEST_POSTGRES not set")
	}
	t.Parallel()
	ctx := t.Context()
	tdb := openPostgres(t)
	if err := Migrate(ctx, tdb.db, tdb.dialect); err != nil {
		t.Fatal(err)
	}
	const poll = time.Minute
	r, _ := newRunner(t, tdb, Config{FetchPollInterval: poll})
	echo := &echoWorker{got: make(chan int, 1)}
	if err := Register(r, echo); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Let the producer's first fetch and the LISTEN happen before inserting,
	// so that only a notification can start the job.
	deadline := time.Now().Add(waitFor)
	for !listening(t, tdb.db) {
		if time.Now().After(deadline) {
			t.Fatal("no LISTEN connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if _, err := r.Client().Insert(ctx, echoArgs{N: 1}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-echo.got:
		t.Logf("job started %v after insert", time.Since(start))
	case <-time.After(poll / 2):
		t.Fatal("job did not start on notification")
	}
}

// listening reports whether a session of this database has run LISTEN.
func listening(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var n int
	err := db.QueryRowContext(t.Context(),
		"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen%'").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestDeadBatchReleased checks that on SQLite a unique batch job left
// running by a process that died is discarded when the next runner starts,
// so the kind runs again at once instead of after River's rescue.
func TestDeadBatchReleased(t *testing.T) {
	tdb := openSQLite(t)
	if err := Migrate(t.Context(), tdb.db, SQLite); err != nil {
		t.Fatal(err)
	}
	r, _ := newRunner(t, tdb, Config{})
	res, err := r.Client().Insert(t.Context(), TraceBatchArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As a crashed process leaves it.
	if _, err := tdb.db.ExecContext(t.Context(), `UPDATE river_job SET state = 'running', attempted_at = scheduled_at, attempt = 1
		WHERE id = ?`, res.Job.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	var state string
	if err := tdb.db.QueryRowContext(t.Context(), `SELECT state FROM river_job WHERE id = ?`, res.Job.ID).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != "discarded" {
		t.Errorf("the dead batch job is %q, want discarded", state)
	}
}
