package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"alliance"
)

// Migrations are forward only. Each dialect has its own directory with the
// same file names: NNNN_name.sql, applied in version order, each in its own
// transaction together with its row in schema_migrations. A migration file
// must not contain BEGIN or COMMIT.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migration is one schema change.
type migration struct {
	version int
	name    string // file name without .sql, e.g. "0001_init"
	sql     string
}

var migrationNameRE = regexp.MustCompile(`^([0-9]{4,})_[a-z0-9_]+\.sql$`)

// pgMigrateLockKey is the PostgreSQL advisory lock that serialises migrations
// of several processes starting at once ("alliance" in ASCII, truncated).
const pgMigrateLockKey int64 = 0x616c6c69616e6365

// loadMigrations reads the embedded migrations of dialect d in version order.
func loadMigrations(d Dialect) ([]migration, error) {
	return readMigrations(migrationFS, path.Join("migrations", string(d)))
}

func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations %s: %w", dir, err)
	}
	var migs []migration
	for _, e := range entries {
		m := migrationNameRE.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("store: migration %s/%s: name is not NNNN_name.sql", dir, e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s/%s: bad version", dir, e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s/%s: %w", dir, e.Name(), err)
		}
		migs = append(migs, migration{version: v, name: strings.TrimSuffix(e.Name(), ".sql"), sql: string(b)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].version < migs[j].version })
	for i := 1; i < len(migs); i++ {
		if migs[i].version == migs[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", migs[i-1].name, migs[i].name, migs[i].version)
		}
	}
	return migs, nil
}

// Migrate creates or upgrades the schema and loads the reference data
// (countries, organisations). It is idempotent; each migration runs in its own
// transaction, so a failure leaves the schema at the last good version.
// A database migrated by a newer program (an unknown version) is refused.
func (db *DB) Migrate(ctx context.Context) error {
	migs, err := loadMigrations(db.dialect)
	if err != nil {
		return err
	}
	return db.migrate(ctx, migs)
}

func (db *DB) migrate(ctx context.Context, migs []migration) error {
	if err := db.ensureMigrationTable(ctx); err != nil {
		return err
	}
	cur, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := latestVersion(migs); cur > latest {
		return fmt.Errorf("store: migrate: the database is at schema version %d, newer than this program's %d; run a newer program", cur, latest)
	}
	for _, m := range migs {
		if err := db.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return db.loadReferenceData(ctx)
}

// LatestVersion returns the newest migration version this program knows; a
// database at a lower SchemaVersion needs Migrate. Both dialects have the
// same versions (a test checks).
func LatestVersion() int {
	migs, err := loadMigrations(SQLite)
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return latestVersion(migs)
}

func latestVersion(migs []migration) int {
	if len(migs) == 0 {
		return 0
	}
	return migs[len(migs)-1].version
}

// lockMigrations serialises migrating processes on PostgreSQL until the end of
// the transaction; on SQLite, BEGIN IMMEDIATE already has.
func (tx *Tx) lockMigrations(ctx context.Context) error {
	if tx.dialect != Postgres {
		return nil
	}
	if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrateLockKey); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	return nil
}

func (db *DB) ensureMigrationTable(ctx context.Context) error {
	ts := "TIMESTAMPTZ"
	strict := ""
	if db.dialect == SQLite {
		ts, strict = "TEXT", " STRICT"
	}
	ddl := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at ` + ts + ` NOT NULL
	)` + strict
	return db.InTx(ctx, func(tx *Tx) error {
		if err := tx.lockMigrations(ctx); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, ddl); err != nil {
			return fmt.Errorf("store: migrate: create schema_migrations: %w", err)
		}
		return nil
	})
}

func (db *DB) applyMigration(ctx context.Context, m migration) error {
	return db.InTx(ctx, func(tx *Tx) error {
		if err := tx.lockMigrations(ctx); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
			return fmt.Errorf("store: migrate: check %s: %w", m.name, err)
		}
		if n > 0 {
			return nil
		}
		// Without arguments both drivers run the whole multi-statement file.
		if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: migration %s failed: %w", m.name, err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, tx.timeArg(tx.now)); err != nil {
			return fmt.Errorf("store: migration %s: record version: %w", m.name, err)
		}
		return nil
	})
}

// SchemaVersion returns the newest applied migration version (0 if none).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	exists := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if db.dialect == Postgres {
		exists = `SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	if err := db.sql.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// referenceKey names the store_meta row holding the fingerprint of the
// reference data last loaded; loading is skipped while it matches, so
// restarts write nothing (and burn no PostgreSQL identity values).
const referenceKey = "reference_data"

// loadReferenceData upserts alliance.Countries() and
// alliance.ReferenceOrganisations(). The code is the source of truth: rows
// with their codes are brought back to it; other rows are left alone.
func (db *DB) loadReferenceData(ctx context.Context) error {
	countries := alliance.Countries()
	orgs := alliance.ReferenceOrganisations()
	fp := referenceFingerprint(countries, orgs)
	return db.InTx(ctx, func(tx *Tx) error {
		var have string
		err := tx.queryRow(ctx, `SELECT value FROM store_meta WHERE key = $1`, referenceKey).Scan(&have)
		if err == nil && have == fp {
			return nil
		}
		if err := tx.upsertCountries(ctx, countries); err != nil {
			return err
		}
		if err := tx.upsertOrganisations(ctx, orgs); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO store_meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, referenceKey, fp)
		return wrapErr(err, "record reference data", errMsgs{})
	})
}

func referenceFingerprint(countries []alliance.Country, orgs []alliance.Organisation) string {
	h := sha256.New()
	for _, c := range countries {
		since := ""
		if c.MemberSince != nil {
			since = c.MemberSince.UTC().Format(sqliteDateLayout)
		}
		fmt.Fprintf(h, "country\x00%s\x00%s\x00%t\x00%s\n", c.Code, c.Name, c.Member, since)
	}
	for _, o := range orgs {
		fmt.Fprintf(h, "org\x00%s\x00%s\x00%s\x00%s\n", o.Code, o.Name, o.Kind, o.CountryCode)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// valuesList returns "($1, $2), ($3, $4)" for rows × cols placeholders.
func valuesList(rows, cols int) string { return valuesListFrom(1, rows, cols) }

// valuesListFrom is valuesList with placeholders numbered from first.
func valuesListFrom(first, rows, cols int) string {
	var b strings.Builder
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func (tx *Tx) upsertCountries(ctx context.Context, countries []alliance.Country) error {
	args := make([]any, 0, 4*len(countries))
	for _, c := range countries {
		args = append(args, c.Code, c.Name, c.Member, tx.dialect.nullDateArg(c.MemberSince))
	}
	_, err := tx.exec(ctx, `INSERT INTO countries (code, name, member, member_since) VALUES `+
		valuesList(len(countries), 4)+`
		ON CONFLICT (code) DO UPDATE SET
			name = excluded.name, member = excluded.member, member_since = excluded.member_since`, args...)
	return wrapErr(err, "load countries", errMsgs{})
}

func (tx *Tx) upsertOrganisations(ctx context.Context, orgs []alliance.Organisation) error {
	args := make([]any, 0, 4*len(orgs))
	for _, o := range orgs {
		args = append(args, o.Code, o.Name, string(o.Kind), nullString(o.CountryCode))
	}
	_, err := tx.exec(ctx, `INSERT INTO organisations (code, name, kind, country_code) VALUES `+
		valuesList(len(orgs), 4)+`
		ON CONFLICT (code) DO UPDATE SET
			name = excluded.name, kind = excluded.kind, country_code = excluded.country_code`, args...)
	return wrapErr(err, "load organisations", errMsgs{})
}
