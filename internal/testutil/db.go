package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"alliance/internal/store"
)

// PostgresEnv names the environment variable holding the DSN of a PostgreSQL
// server for tests, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Its role must be
// allowed to create databases: each test gets its own, dropped afterwards.
// Unset, tests run on SQLite only.
const PostgresEnv = "ALLIANCE_TEST_POSTGRES"

// NamedDB is a test database and the name of its dialect ("sqlite",
// "postgres"), for t.Run.
type NamedDB struct {
	Name string
	DB   *store.DB
}

// DBs returns a fresh, migrated database of each dialect under test: SQLite
// in t.TempDir() always, and PostgreSQL when ALLIANCE_TEST_POSTGRES is set.
// They are closed (and the PostgreSQL database dropped) when t ends.
//
//	for _, d := range testutil.DBs(t) {
//		t.Run(d.Name, func(t *testing.T) { … d.DB … })
//	}
func DBs(t testing.TB) []NamedDB {
	t.Helper()
	dbs := []NamedDB{{Name: string(store.SQLite), DB: NewSQLite(t)}}
	if os.Getenv(PostgresEnv) != "" {
		dbs = append(dbs, NamedDB{Name: string(store.Postgres), DB: NewPostgres(t)})
	}
	return dbs
}

// EmptyDBs is DBs without migrating: schema version 0.
func EmptyDBs(t testing.TB) []NamedDB {
	t.Helper()
	dbs := []NamedDB{{Name: string(store.SQLite), DB: open(t, SQLiteDSN(t))}}
	if os.Getenv(PostgresEnv) != "" {
		dbs = append(dbs, NamedDB{Name: string(store.Postgres), DB: open(t, PostgresDSN(t))})
	}
	return dbs
}

// ForEachDB runs fn as a subtest named after each dialect under test, each
// with a fresh, migrated database of its own (see DBs). fn may call
// t.Parallel.
func ForEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run(string(store.SQLite), func(t *testing.T) { fn(t, NewSQLite(t)) })
	if os.Getenv(PostgresEnv) != "" {
		t.Run(string(store.Postgres), func(t *testing.T) { fn(t, NewPostgres(t)) })
	}
}

// NewSQLite returns a fresh, migrated SQLite database in t.TempDir().
func NewSQLite(t testing.TB) *store.DB {
	t.Helper()
	return migrated(t, open(t, SQLiteDSN(t)))
}

// NewPostgres returns a fresh, migrated PostgreSQL database of its own, or
// skips the test when ALLIANCE_TEST_POSTGRES is unset.
func NewPostgres(t testing.TB) *store.DB {
	t.Helper()
	return migrated(t, open(t, PostgresDSN(t)))
}

// SQLiteDSN returns the DSN of a new, empty SQLite database file in
// t.TempDir(), for tests that open the database themselves (e.g. through
// the command line).
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "alliance.db")
}

// PostgresDSN creates a new, empty PostgreSQL database with a random name on
// the server of ALLIANCE_TEST_POSTGRES and returns its DSN; it is dropped
// (with any connections left) when t ends. The test is skipped when
// ALLIANCE_TEST_POSTGRES is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	if os.Getenv(PostgresEnv) == "" {
		t.Skipf("%s is not set", PostgresEnv)
	}
	admin, base, err := pgAdmin()
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "alliance_test_" + hex.EncodeToString(b[:])
	if _, err := admin.SQL().ExecContext(t.Context(), `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("testutil: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.SQL().ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("testutil: drop database %s: %v", name, err)
		}
	})
	// Tests need no durability; commits that skip the WAL flush are faster.
	if _, err := admin.SQL().ExecContext(t.Context(), `ALTER DATABASE "`+name+`" SET synchronous_commit = off`); err != nil {
		t.Fatalf("testutil: configure database %s: %v", name, err)
	}
	u := *base
	u.Path = "/" + name
	return u.String()
}

// open opens dsn and closes it when t ends (before the database is dropped
// or its directory removed: cleanups run last-in, first-out).
func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("testutil: %v", err)
		}
	})
	return db
}

func migrated(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return db
}

// The admin connection to the PostgreSQL test server, shared by the tests of
// one process (it is never closed; the process ends first).
var pg struct {
	once sync.Once
	db   *store.DB
	url  *url.URL
	err  error
}

// pgAdmin connects to the server of ALLIANCE_TEST_POSTGRES: to its database,
// or to "postgres" if that one does not exist.
func pgAdmin() (*store.DB, *url.URL, error) {
	pg.once.Do(func() {
		dsn := os.Getenv(PostgresEnv)
		u, err := url.Parse(dsn)
		if err != nil {
			pg.err = fmt.Errorf("%s is not a URL: %v", PostgresEnv, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			alt := *u
			alt.Path = "/postgres"
			var altErr error
			if db, altErr = store.Open(ctx, alt.String()); altErr != nil {
				pg.err = fmt.Errorf("%s: %v", PostgresEnv, err)
				return
			}
		}
		db.SQL().SetMaxOpenConns(4)
		pg.db, pg.url = db, u
	})
	return pg.db, pg.url, pg.err
}
