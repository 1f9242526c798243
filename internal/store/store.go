package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/ncruces/go-sqlite3/driver" // registers the "sqlite3" database/sql driver
)

// Dialect names the SQL dialect of a database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Connection settings. SQLite keeps a handful of connections so that readers
// run side by side in WAL mode; writers queue on the database lock taken by
// BEGIN IMMEDIATE and wait for it up to the busy timeout.
const (
	sqliteBusyTimeout = 10 * time.Second
	openTimeout       = 15 * time.Second // to reach the database in Open, when ctx has no deadline
	pgMaxOpenConns    = 20
	pgMaxIdleConns    = pgMaxOpenConns // closing idle connections under bursty load only to reopen them cost 75–130 ms tails
	pgConnMaxLifetime = 30 * time.Minute
)

// DB is an open Alliance database.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	now     func() time.Time
	worker  string // this process's name in job_workers and job_claims
}

// Open opens the database named by dsn and checks that it is reachable. It
// does not migrate. SQLite is opened in WAL mode with a busy timeout.
func Open(ctx context.Context, dsn string) (*DB, error) {
	p, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var sqldb *sql.DB
	switch p.dialect {
	case Postgres:
		cfg, err := pgx.ParseConfig(p.driverDSN)
		if err != nil {
			// pgx redacts the password in its parse errors.
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		sqldb = stdlib.OpenDB(*cfg)
		sqldb.SetMaxOpenConns(pgMaxOpenConns)
		sqldb.SetMaxIdleConns(pgMaxIdleConns)
		sqldb.SetConnMaxLifetime(pgConnMaxLifetime)
	case SQLite:
		if p.path != "" {
			dir := filepath.Dir(p.path)
			if fi, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("store: open sqlite %s: directory %s does not exist", p.path, dir)
			} else if !fi.IsDir() {
				return nil, fmt.Errorf("store: open sqlite %s: %s is not a directory", p.path, dir)
			}
		}
		sqldb, err = sql.Open("sqlite3", p.driverDSN)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite %s: %w", p.display(), err)
		}
		n := max(4, runtime.NumCPU())
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
	}
	db := &DB{sql: sqldb, dialect: p.dialect, now: time.Now, worker: newWorkerID()}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		if p.dialect == Postgres {
			// pgx names user, database and host, never the password.
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		return nil, fmt.Errorf("store: open sqlite %s: %w", p.display(), err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// ErrWALBusy says a WAL checkpoint could not finish because readers or a
// writer held on; the next attempt will.
var ErrWALBusy = errors.New("store: wal checkpoint: busy")

// CheckpointWAL copies SQLite's write-ahead log into the database file and
// truncates the log; on PostgreSQL it does nothing. SQLite's own automatic
// checkpoints copy what they can but never restart a log that a reader
// is still using, so under constant load the log grows without bound (a
// one-hour soak grew it by about 4 GB); a node calls this periodically.
// It waits up to the busy timeout for readers to move on.
func (db *DB) CheckpointWAL(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	var busy, logFrames, done int
	if err := db.sql.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("store: wal checkpoint: %w", err)
	}
	if busy != 0 {
		return ErrWALBusy
	}
	return nil
}

// Dialect returns the dialect of db.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the underlying *sql.DB (for the job queue and pool metrics).
func (db *DB) SQL() *sql.DB { return db.sql }

// SetClock replaces the clock used for timestamps (tests). A nil clock
// restores time.Now.
func (db *DB) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	db.now = now
}

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.dialect, err)
	}
	return nil
}

// Tx is a database transaction with the queries of every aggregate.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
	now     time.Time // the transaction's timestamp, UTC, microsecond precision
	worker  string
}

// Now returns the timestamp of the transaction (UTC, microseconds).
func (tx *Tx) Now() time.Time { return tx.now }

// Dialect returns the dialect of the transaction's database.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// SQLTx returns the underlying *sql.Tx, so that other packages can join the
// transaction (the job queue's InsertTx). Do not commit or roll it back:
// InTx does.
func (tx *Tx) SQLTx() *sql.Tx { return tx.tx }

// InTx runs fn in a read-write transaction and commits if fn returns nil.
// On SQLite the transaction takes the write lock at BEGIN (IMMEDIATE) so that
// concurrent writers queue instead of failing. fn's error is returned as is.
// Do not start another transaction inside fn: on SQLite it would wait for
// the write lock fn holds until the busy timeout.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	return db.inTx(ctx, nil, fn)
}

// InReadTx runs fn in a read-only transaction, which sees one consistent
// snapshot. On SQLite it does not take the write lock, so reads run beside a
// writer; any write inside it fails.
func (db *DB) InReadTx(ctx context.Context, fn func(*Tx) error) error {
	return db.inTx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(*Tx) error) (err error) {
	sqltx, err := db.sql.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	tx := &Tx{tx: sqltx, dialect: db.dialect, now: db.now().UTC().Truncate(time.Microsecond), worker: db.worker}
	defer func() {
		if p := recover(); p != nil {
			_ = sqltx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := sqltx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// exec runs a statement written with $n placeholders.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.dialect.rebind(query), args...)
}

// execBulk is exec for multi-row statements, whose text varies with the
// number of rows. On PostgreSQL it skips pgx's prepared-statement cache, which
// would spend a round trip preparing each new row count (on each connection)
// and fill with one-off statements: the statement is parsed and run in one
// round trip instead.
func (tx *Tx) execBulk(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.dialect == Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	return tx.tx.ExecContext(ctx, tx.dialect.rebind(query), args...)
}

// queryBulk is query for statements whose text varies with the number of
// rows, as execBulk. The caller closes the rows.
func (tx *Tx) queryBulk(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx.dialect == Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	return tx.tx.QueryContext(ctx, tx.dialect.rebind(query), args...)
}

// query runs a query written with $n placeholders. The caller closes the rows.
func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.dialect.rebind(query), args...)
}

// queryRow runs a query written with $n placeholders that returns one row.
func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.dialect.rebind(query), args...)
}

// timeArg encodes a timestamp argument for the transaction's dialect.
func (tx *Tx) timeArg(t time.Time) any { return tx.dialect.timeArg(t) }
