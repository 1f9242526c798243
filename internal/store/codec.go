package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"

	"alliance"
)

// SQLite keeps timestamps as TEXT in one fixed-width UTC layout, so that
// they compare and sort as strings and round-trip exactly at microseconds
// (the audit hash covers them). PostgreSQL keeps TIMESTAMPTZ, also
// microseconds. Dates (DATE in PostgreSQL) are "YYYY-MM-DD" in SQLite.
const (
	sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"
	sqliteDateLayout = "2006-01-02"
)

// timeArg encodes a timestamp argument: UTC, truncated to microseconds.
func (d Dialect) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// nullTimeArg encodes an optional timestamp argument.
func (d Dialect) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.timeArg(*t)
}

// nullDateArg encodes an optional date argument (the time of day is dropped).
func (d Dialect) nullDateArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	u := t.UTC()
	if d == SQLite {
		return u.Format(sqliteDateLayout)
	}
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// parseTime reads a timestamp or date as SQLite holds it.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{sqliteTimeLayout, time.RFC3339Nano, sqliteDateLayout, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("store: cannot parse time %q", s)
}

// timeScanner scans a timestamp column of either dialect into a UTC time.
// With null set, dst receives nil for NULL.
type timeScanner struct {
	dst  *time.Time
	ndst **time.Time
}

// scanTime returns a scanner for a NOT NULL timestamp or date column.
func scanTime(dst *time.Time) sql.Scanner { return timeScanner{dst: dst} }

// scanNullTime returns a scanner for a nullable timestamp or date column.
func scanNullTime(dst **time.Time) sql.Scanner { return timeScanner{ndst: dst} }

// Scan implements sql.Scanner.
func (s timeScanner) Scan(src any) error {
	var (
		t   time.Time
		err error
	)
	switch v := src.(type) {
	case nil:
		if s.ndst != nil {
			*s.ndst = nil
			return nil
		}
		return errors.New("store: unexpected NULL time")
	case time.Time:
		t = v.UTC()
	case string:
		t, err = parseTime(v)
	case []byte:
		t, err = parseTime(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	if err != nil {
		return err
	}
	if s.ndst != nil {
		*s.ndst = &t
	} else {
		*s.dst = t
	}
	return nil
}

// nullString maps "" to NULL, for optional references such as a country code.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// isUniqueViolation reports whether err is a unique or primary key violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return errors.Is(err, sqlite3.CONSTRAINT_UNIQUE) || errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY)
}

// isForeignKeyViolation reports whether err is a foreign key violation.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	return errors.Is(err, sqlite3.CONSTRAINT_FOREIGNKEY)
}

// errMsgs are the user-safe messages for the outcomes of one operation that
// callers may show; empty ones fall back to a generic wrap.
type errMsgs struct {
	notFound string // sql.ErrNoRows → ENOTFOUND
	conflict string // unique violation → ECONFLICT
}

// wrapErr normalises a driver error: no rows becomes ENOTFOUND, a unique
// violation ECONFLICT and a foreign key violation EINVALID, each with a
// user-safe message and the driver error kept in the chain for the log;
// anything else is wrapped with the operation ("store: op: err").
func wrapErr(err error, op string, msgs errMsgs) error {
	if err == nil {
		return nil
	}
	var appErr *alliance.Error
	switch {
	case errors.As(err, &appErr):
		return err
	case errors.Is(err, sql.ErrNoRows) && msgs.notFound != "":
		return fmt.Errorf("store: %s: %w (%w)", op, alliance.Errorf(alliance.ENOTFOUND, "%s", msgs.notFound), err)
	case isUniqueViolation(err) && msgs.conflict != "":
		return fmt.Errorf("store: %s: %w (%w)", op, alliance.Errorf(alliance.ECONFLICT, "%s", msgs.conflict), err)
	case isForeignKeyViolation(err):
		return fmt.Errorf("store: %s: %w (%w)", op,
			alliance.Errorf(alliance.EINVALID, "A referenced object does not exist."), err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// notFound returns an ENOTFOUND error for op with a user-safe message.
func notFound(op, msg string) error {
	return fmt.Errorf("store: %s: %w", op, alliance.Errorf(alliance.ENOTFOUND, "%s", msg))
}
