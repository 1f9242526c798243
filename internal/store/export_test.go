package store

import (
	"context"
	"database/sql"
)

// RewritePlaceholders exposes rewritePlaceholders to the tests.
var RewritePlaceholders = rewritePlaceholders

// MigrationNames returns the embedded migration names of dialect d.
func MigrationNames(d Dialect) ([]string, error) {
	migs, err := loadMigrations(d)
	var names []string
	for _, m := range migs {
		names = append(names, m.name)
	}
	return names, err
}

// MigrateWithExtra runs the embedded migrations plus one more, numbered
// after the last, made of the given SQL.
func (db *DB) MigrateWithExtra(ctx context.Context, name, sqlText string) error {
	migs, err := loadMigrations(db.dialect)
	if err != nil {
		return err
	}
	migs = append(migs, migration{version: latestVersion(migs) + 1, name: name, sql: sqlText})
	return db.migrate(ctx, migs)
}

// ExecRaw runs a statement written with $n placeholders outside any
// transaction (tests that tamper with rows).
func (db *DB) ExecRaw(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.sql.ExecContext(ctx, db.dialect.rebind(query), args...)
}

// QueryInt runs a query written with $n placeholders that returns one integer.
func (db *DB) QueryInt(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx, db.dialect.rebind(query), args...).Scan(&n)
	return n, err
}

// AsWorker returns a handle on the same database acting as another worker
// (another process), sharing the connection pool and the clock.
func (db *DB) AsWorker(id string) *DB {
	c := *db
	c.worker = id
	return &c
}
