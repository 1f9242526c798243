package store

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"alliance"
)

// ParseDSN tells the dialect of dsn and the driver's data source name:
// "postgres://…" or "postgresql://…" is PostgreSQL; "sqlite:PATH" or a plain
// file path is SQLite. An empty DSN is an EINVALID error.
//
// For SQLite, PATH may also be "//PATH" or a "file:" URI. The driver's data
// source name is a "file:" URI with an absolute path that sets, on every
// connection, busy_timeout (10 s), journal_mode=WAL, foreign_keys=on and
// synchronous=NORMAL, and makes read-write transactions BEGIN IMMEDIATE.
// Pragmas given in a "file:" URI are applied after these. In-memory SQLite
// is refused: each pooled connection would see a different database.
func ParseDSN(dsn string) (Dialect, string, error) {
	p, err := parseDSN(dsn)
	if err != nil {
		return "", "", err
	}
	return p.dialect, p.driverDSN, nil
}

type parsedDSN struct {
	dialect   Dialect
	driverDSN string
	path      string // SQLite: absolute file path when known
}

// display is how the database is named in errors.
func (p parsedDSN) display() string {
	if p.path != "" {
		return p.path
	}
	return p.driverDSN
}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// sqlitePragmas are set on every SQLite connection, busy timeout first.
var sqlitePragmas = []string{
	fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()),
	"journal_mode(wal)",
	"foreign_keys(1)",
	"synchronous(normal)",
}

func parseDSN(dsn string) (parsedDSN, error) {
	dsn = strings.TrimSpace(dsn)
	lower := strings.ToLower(dsn)
	switch {
	case dsn == "":
		return parsedDSN{}, alliance.Errorf(alliance.EINVALID,
			"The database DSN is empty; use postgres://… or sqlite:PATH.")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return parsedDSN{dialect: Postgres, driverDSN: dsn}, nil
	case strings.HasPrefix(lower, "sqlite:"):
		path := strings.TrimPrefix(dsn[len("sqlite:"):], "//")
		return sqliteDSN(path)
	case schemeRE.MatchString(dsn):
		scheme, _, _ := strings.Cut(dsn, "://")
		return parsedDSN{}, alliance.Errorf(alliance.EINVALID,
			"Unsupported database scheme %q; use postgres://… or sqlite:PATH.", scheme)
	default:
		return sqliteDSN(dsn)
	}
}

func sqliteDSN(path string) (parsedDSN, error) {
	if path == "" {
		return parsedDSN{}, alliance.Errorf(alliance.EINVALID, "The SQLite DSN names no file; use sqlite:PATH.")
	}
	var (
		u     *url.URL
		q     url.Values
		local string
	)
	if strings.HasPrefix(path, "file:") {
		var err error
		if u, err = url.Parse(path); err != nil {
			return parsedDSN{}, alliance.Errorf(alliance.EINVALID, "The SQLite URI %q is not valid: %v.", path, err)
		}
		if q, err = url.ParseQuery(u.RawQuery); err != nil {
			return parsedDSN{}, alliance.Errorf(alliance.EINVALID, "The SQLite URI %q has a bad query: %v.", path, err)
		}
		if q.Get("mode") == "memory" || q.Get("vfs") == "memdb" {
			return parsedDSN{}, errInMemory()
		}
		if u.Opaque == "" && u.Path != "" {
			local = filepath.FromSlash(u.Path)
		}
	} else {
		if path == ":memory:" {
			return parsedDSN{}, errInMemory()
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return parsedDSN{}, fmt.Errorf("store: sqlite path %q: %w", path, err)
		}
		local = abs
		u = &url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
		q = url.Values{}
	}
	pragmas := append(append([]string(nil), sqlitePragmas...), q["_pragma"]...)
	q["_pragma"] = pragmas
	if !q.Has("_txlock") {
		q.Set("_txlock", "immediate")
	}
	u.RawQuery = q.Encode()
	return parsedDSN{dialect: SQLite, driverDSN: u.String(), path: local}, nil
}

func errInMemory() error {
	return alliance.Errorf(alliance.EINVALID,
		"In-memory SQLite is not supported (each connection would see its own database); use a file.")
}

// rebind rewrites the $n placeholders of query for the dialect: PostgreSQL
// keeps them, SQLite gets ?n.
func (d Dialect) rebind(query string) string {
	if d == SQLite {
		return rewritePlaceholders(query)
	}
	return query
}

// rewritePlaceholders turns $1, $2, … into ?1, ?2, … outside string literals,
// quoted identifiers and comments. SQLite reads "$1" as a named parameter
// numbered by first appearance, so without the rewrite "$2 … $1" would bind
// the wrong values; ?NNN binds by number like PostgreSQL's $NNN.
func rewritePlaceholders(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			// A doubled quote inside a literal closes and reopens it: same result.
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				end = len(q)
			} else {
				end += i + 2
			}
			b.WriteString(q[i:end])
			i = end
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q)
			} else {
				end += i
			}
			b.WriteString(q[i:end])
			i = end
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				end = len(q)
			} else {
				end += i + 4
			}
			b.WriteString(q[i:end])
			i = end
		case c == '$' && i+1 < len(q) && isDigit(q[i+1]) && (i == 0 || !isIdentByte(q[i-1])):
			b.WriteByte('?')
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'z' || c >= 0x80
}
