package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
)

func TestParseDSN(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs("data/alliance.db")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		dsn         string
		dialect     store.Dialect
		wantPrefix  string   // of the driver DSN
		wantContain []string // in the driver DSN
		code        string   // error code, "" for success
	}{
		{name: "postgres", dsn: "postgres://u:p@h:5432/db?sslmode=disable", dialect: store.Postgres,
			wantPrefix: "postgres://u:p@h:5432/db?sslmode=disable"},
		{name: "postgresql", dsn: "postgresql://h/db", dialect: store.Postgres, wantPrefix: "postgresql://h/db"},
		{name: "postgres upper case", dsn: "POSTGRES://h/db", dialect: store.Postgres, wantPrefix: "POSTGRES://h/db"},
		{name: "sqlite absolute", dsn: "sqlite:/var/lib/alliance/a.db", dialect: store.SQLite,
			wantPrefix: "file:///var/lib/alliance/a.db?"},
		{name: "sqlite triple slash", dsn: "sqlite:///var/lib/alliance/a.db", dialect: store.SQLite,
			wantPrefix: "file:///var/lib/alliance/a.db?"},
		{name: "sqlite relative", dsn: "sqlite:data/alliance.db", dialect: store.SQLite,
			wantPrefix: "file://" + filepath.ToSlash(abs) + "?"},
		{name: "plain path", dsn: "data/alliance.db", dialect: store.SQLite,
			wantPrefix: "file://" + filepath.ToSlash(abs) + "?"},
		{name: "path with odd characters", dsn: "/tmp/a b?c#d.db", dialect: store.SQLite,
			wantPrefix: "file:///tmp/a%20b%3Fc%23d.db?"},
		{name: "pragmas and txlock", dsn: "sqlite:/tmp/x.db", dialect: store.SQLite, wantContain: []string{
			"_pragma=busy_timeout%2810000%29&_pragma=journal_mode%28wal%29&_pragma=foreign_keys%281%29&_pragma=synchronous%28normal%29",
			"_txlock=immediate",
		}},
		{name: "file URI keeps its pragmas after ours", dsn: "sqlite:file:/tmp/x.db?_pragma=cache_size(-2000)",
			dialect: store.SQLite, wantPrefix: "file:/tmp/x.db?", wantContain: []string{
				"synchronous%28normal%29&_pragma=cache_size%28-2000%29", "_txlock=immediate"}},
		{name: "file URI txlock kept", dsn: "file:/tmp/x.db?_txlock=exclusive", dialect: store.SQLite,
			wantContain: []string{"_txlock=exclusive"}},
		{name: "empty", dsn: "  ", code: alliance.EINVALID},
		{name: "sqlite without path", dsn: "sqlite:", code: alliance.EINVALID},
		{name: "memory", dsn: "sqlite::memory:", code: alliance.EINVALID},
		{name: "memory URI", dsn: "file:x?mode=memory", code: alliance.EINVALID},
		{name: "unknown scheme", dsn: "mysql://h/db", code: alliance.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, drv, err := store.ParseDSN(tt.dsn)
			if tt.code != "" {
				if alliance.ErrorCode(err) != tt.code {
					t.Fatalf("ParseDSN(%q) = %q, %q, %v; want code %s", tt.dsn, d, drv, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", tt.dsn, err)
			}
			if d != tt.dialect {
				t.Errorf("dialect = %q, want %q", d, tt.dialect)
			}
			if !strings.HasPrefix(drv, tt.wantPrefix) {
				t.Errorf("driver DSN = %q, want prefix %q", drv, tt.wantPrefix)
			}
			for _, s := range tt.wantContain {
				if !strings.Contains(drv, s) {
					t.Errorf("driver DSN = %q, want it to contain %q", drv, s)
				}
			}
		})
	}
}

func TestRewritePlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = $1 AND b = $2", "SELECT * FROM t WHERE a = ?1 AND b = ?2"},
		{"VALUES ($10, $2, $1)", "VALUES (?10, ?2, ?1)"},
		{"SELECT '$1', $1", "SELECT '$1', ?1"},
		{"SELECT 'it''s $1', $2", "SELECT 'it''s $1', ?2"},
		{`SELECT "col$1", "a""$2", $3`, `SELECT "col$1", "a""$2", ?3`},
		{"SELECT $1 -- and $2\n, $3", "SELECT ?1 -- and $2\n, ?3"},
		{"SELECT /* $1 */ $2", "SELECT /* $1 */ ?2"},
		{"SELECT a$1 FROM t", "SELECT a$1 FROM t"},
		{"SELECT $ FROM t", "SELECT $ FROM t"},
		{"SELECT 'unterminated $1", "SELECT 'unterminated $1"},
		{"SELECT $1::text", "SELECT ?1::text"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := store.RewritePlaceholders(tt.in); got != tt.want {
				t.Errorf("RewritePlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "a.db")
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dsn  string
		want []string // in the error text
	}{
		{"empty", "", []string{"DSN is empty"}},
		{"unsupported scheme", "mysql://h/db", []string{`"mysql"`}},
		{"sqlite missing directory", "sqlite:" + missingDir, []string{"store: open sqlite", "does not exist"}},
		{"sqlite file as directory", "sqlite:" + notADir + "/a.db", []string{"store: open sqlite", "is not a directory"}},
		{"postgres refused", "postgres://alice:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5",
			[]string{"store: open postgres", "127.0.0.1"}},
		{"postgres bad URL", "postgres://alice:s3cret@h:notaport/db", []string{"store: open postgres", "cannot parse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			db, err := store.Open(ctx, tt.dsn)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error leaks the password: %q", msg)
			}
		})
	}
}

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a.db")
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != store.SQLite {
		t.Errorf("dialect = %q", db.Dialect())
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000",
	} {
		var got string
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
}
