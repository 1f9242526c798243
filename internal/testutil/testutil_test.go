package testutil_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestDBs(t *testing.T) {
	t.Parallel()
	dbs := testutil.DBs(t)
	want := []string{"sqlite"}
	if os.Getenv(testutil.PostgresEnv) != "" {
		want = append(want, "postgres")
	}
	if len(dbs) != len(want) {
		t.Fatalf("DBs returned %d databases, want %v", len(dbs), want)
	}
	for i, d := range dbs {
		if d.Name != want[i] || string(d.DB.Dialect()) != want[i] {
			t.Errorf("DBs[%d] = %s (%s), want %s", i, d.Name, d.DB.Dialect(), want[i])
		}
		if v, err := d.DB.SchemaVersion(context.Background()); err != nil || v != store.LatestVersion() {
			t.Errorf("%s: schema version %d, %v; want %d", d.Name, v, err, store.LatestVersion())
		}
	}
	for i, d := range testutil.EmptyDBs(t) {
		if d.Name != want[i] {
			t.Errorf("EmptyDBs[%d] = %s, want %s", i, d.Name, want[i])
		}
		if v, err := d.DB.SchemaVersion(context.Background()); err != nil || v != 0 {
			t.Errorf("%s: empty database at schema version %d, %v", d.Name, v, err)
		}
	}
}

func TestForEachDB(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		u := testutil.CreateUser(t, db, "SE-HOTLINE", "Fixture@Example.org", alliance.RoleAnalyst)
		if u.ID == 0 || u.Email != "fixture@example.org" || u.OrgCode != "SE-HOTLINE" {
			t.Errorf("CreateUser = %+v", u)
		}
		mu.Lock()
		seen = append(seen, string(db.Dialect()))
		mu.Unlock()
	})
	if len(seen) == 0 || seen[0] != "sqlite" {
		t.Errorf("ForEachDB ran on %v", seen)
	}
}

// TestPostgresDSN checks that each test gets a database of its own, dropped
// when the test ends.
func TestPostgresDSN(t *testing.T) {
	t.Parallel()
	if os.Getenv(testutil.PostgresEnv) == "" {
		t.Skipf("%s is not set", testutil.PostgresEnv)
	}
	admin := testutil.NewPostgres(t)
	var names []string
	for range 2 {
		t.Run("db", func(t *testing.T) {
			u, err := url.Parse(testutil.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(u.Path, "/")
			if !strings.HasPrefix(name, "alliance_test_") {
				t.Errorf("database name %q", name)
			}
			names = append(names, name)
			db, err := store.Open(t.Context(), u.String())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if v, err := db.SchemaVersion(t.Context()); err != nil || v != 0 {
				t.Errorf("fresh database at version %d, %v", v, err)
			}
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("database names %v", names)
	}
	for _, name := range names {
		var n int
		err := admin.SQL().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM pg_database WHERE datname = $1`, name).Scan(&n)
		if err != nil || n != 0 {
			t.Errorf("database %s left behind: %d, %v", name, n, err)
		}
	}
}

func TestFixedClock(t *testing.T) {
	t.Parallel()
	c := testutil.NewFixedClock(testutil.Epoch)
	if !c.Now().Equal(testutil.Epoch) || !c.Now().Equal(c.Now()) {
		t.Errorf("Now = %v", c.Now())
	}
	if got := c.Advance(time.Hour); !got.Equal(testutil.Epoch.Add(time.Hour)) || !c.Now().Equal(got) {
		t.Errorf("Advance = %v, Now = %v", got, c.Now())
	}
	c.Set(testutil.Epoch)
	if !c.Now().Equal(testutil.Epoch) {
		t.Errorf("after Set, Now = %v", c.Now())
	}
	if testutil.Epoch.Location() != time.UTC || testutil.Epoch.Nanosecond()%1000 != 0 {
		t.Errorf("Epoch %v is not UTC at microseconds", testutil.Epoch)
	}
}
