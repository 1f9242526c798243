package store_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestCheckpointWAL checks that a checkpoint empties SQLite's write-ahead
// log after writes, and does nothing on PostgreSQL.
func TestCheckpointWAL(t *testing.T) {
	dsn := testutil.SQLiteDSN(t)
	db, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	wal := strings.TrimPrefix(strings.SplitN(dsn, "?", 2)[0], "sqlite:") + "-wal"
	size := func() int64 {
		fi, err := os.Stat(wal)
		if err != nil {
			t.Fatalf("the write-ahead log: %v", err)
		}
		return fi.Size()
	}
	if size() == 0 {
		t.Fatal("no writes in the log to checkpoint: the test cannot tell")
	}
	if err := db.CheckpointWAL(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := size(); n != 0 {
		t.Errorf("the log holds %d bytes after a checkpoint", n)
	}
	if os.Getenv(testutil.PostgresEnv) != "" {
		if err := testutil.NewPostgres(t).CheckpointWAL(context.Background()); err != nil {
			t.Errorf("PostgreSQL: %v", err)
		}
	}
}
