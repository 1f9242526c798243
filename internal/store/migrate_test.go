package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	t.Parallel()
	lite, err := store.MigrationNames(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.MigrationNames(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 {
		t.Fatal("no migrations")
	}
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Errorf("migrations differ between sqlite and postgres (-sqlite +postgres):\n%s", diff)
	}
	if !strings.HasPrefix(lite[0], "0001_") {
		t.Errorf("first migration is %s, want 0001_…", lite[0])
	}
	if got := store.LatestVersion(); got != len(lite) {
		t.Errorf("LatestVersion() = %d, want %d", got, len(lite))
	}
}

// counts returns the row counts of the reference tables.
func counts(t *testing.T, db *store.DB) (countries, members, orgs int64) {
	t.Helper()
	ctx := context.Background()
	var err error
	if countries, err = db.QueryInt(ctx, `SELECT COUNT(*) FROM countries`); err != nil {
		t.Fatal(err)
	}
	if members, err = db.QueryInt(ctx, `SELECT COUNT(*) FROM countries WHERE member AND member_since IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if orgs, err = db.QueryInt(ctx, `SELECT COUNT(*) FROM organisations`); err != nil {
		t.Fatal(err)
	}
	return countries, members, orgs
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testutil.EmptyDBs(t) {
		t.Run(d.Name, func(t *testing.T) {
			db := d.DB
			if v, err := db.SchemaVersion(ctx); err != nil || v != 0 {
				t.Fatalf("SchemaVersion before = %d, %v; want 0", v, err)
			}
			for i := range 2 {
				if err := db.Migrate(ctx); err != nil {
					t.Fatalf("Migrate #%d: %v", i+1, err)
				}
				if v, err := db.SchemaVersion(ctx); err != nil || v != store.LatestVersion() {
					t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, store.LatestVersion())
				}
				c, m, o := counts(t, db)
				if c != 249 || m != 48 || o != 97 {
					t.Errorf("after Migrate #%d: %d countries, %d members, %d organisations; want 249, 48, 97", i+1, c, m, o)
				}
			}
			n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM schema_migrations`)
			if err != nil || n != int64(store.LatestVersion()) {
				t.Errorf("schema_migrations rows = %d, %v", n, err)
			}
		})
	}
}

func TestMigrateRestoresReferenceData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		// A changed fingerprint (as after a program upgrade) reloads the data.
		if _, err := db.ExecRaw(ctx, `UPDATE countries SET name = 'X' WHERE code = 'SE'`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecRaw(ctx, `UPDATE store_meta SET value = 'old' WHERE key = 'reference_data'`); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM countries WHERE code = 'SE' AND name = 'Sweden'`)
		if err != nil || n != 1 {
			t.Errorf("Sweden not restored: %d, %v", n, err)
		}
		if _, _, o := counts(t, db); o != 97 {
			t.Errorf("%d organisations after reload, want 97", o)
		}
	})
}

func TestMigrateFailureLeavesNothingHalfApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		before := store.LatestVersion()
		bad := `CREATE TABLE half_applied (id INTEGER PRIMARY KEY);
			INSERT INTO half_applied (id) VALUES (1);
			INSERT INTO no_such_table (id) VALUES (1);`
		err := db.MigrateWithExtra(ctx, "9999_bad", bad)
		if err == nil {
			t.Fatal("a bad migration succeeded")
		}
		if !strings.Contains(err.Error(), "9999_bad") {
			t.Errorf("error does not name the migration: %v", err)
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v != before {
			t.Errorf("SchemaVersion = %d, %v; want %d", v, err, before)
		}
		if _, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM half_applied`); err == nil {
			t.Error("table of the failed migration exists")
		}
		// The database still works, and a good migration applies.
		if err := db.MigrateWithExtra(ctx, "9999_good", `CREATE TABLE later_feature (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatalf("good migration: %v", err)
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v != before+1 {
			t.Errorf("SchemaVersion = %d, %v; want %d", v, err, before+1)
		}
		// A newer schema than the program knows is refused.
		err = db.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Migrate on a newer schema: %v", err)
		}
	})
}

func TestReferenceQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		err := db.InReadTx(ctx, func(tx *store.Tx) error {
			cs, err := tx.Countries(ctx)
			if err != nil {
				return err
			}
			if len(cs) != 249 {
				t.Errorf("%d countries", len(cs))
			}
			if cs[0].Code != "AF" {
				t.Errorf("first country is %s %s, want AF", cs[0].Code, cs[0].Name)
			}
			ax := slices.IndexFunc(cs, func(c alliance.Country) bool { return c.Code == "AX" })
			if ax < 0 || cs[ax+1].Code != "AL" {
				t.Errorf("Åland Islands not sorted before Albania: %d", ax)
			}
			want := alliance.Countries()
			se := slices.IndexFunc(cs, func(c alliance.Country) bool { return c.Code == "SE" })
			wi := slices.IndexFunc(want, func(c alliance.Country) bool { return c.Code == "SE" })
			if diff := cmp.Diff(want[wi], cs[se]); diff != "" {
				t.Errorf("Sweden (-want +got):\n%s", diff)
			}
			orgs, err := tx.Organisations(ctx)
			if err != nil {
				return err
			}
			if len(orgs) != 97 {
				t.Errorf("%d organisations", len(orgs))
			}
			if !slices.IsSortedFunc(orgs, func(a, b alliance.Organisation) int { return strings.Compare(a.Code, b.Code) }) {
				t.Error("organisations are not sorted by code")
			}
			sec, err := tx.OrganisationByCode(ctx, alliance.SecretariatCode)
			if err != nil {
				return err
			}
			if sec.ID == 0 || sec.Kind != alliance.OrgSecretariat || sec.CountryCode != "" {
				t.Errorf("secretariat = %+v", sec)
			}
			hl, err := tx.OrganisationByCode(ctx, "SE-HOTLINE")
			if err != nil {
				return err
			}
			if hl.Kind != alliance.OrgHotline || hl.CountryCode != "SE" || hl.Name != "Sweden hotline" {
				t.Errorf("SE-HOTLINE = %+v", hl)
			}
			_, err = tx.OrganisationByCode(ctx, "XX-NOPE")
			if alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("unknown organisation: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
