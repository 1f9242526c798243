package jobs

import (
	"context"
	"sync"
	"testing"

	"github.com/riverqueue/river/rivertype"
)

// TestBankImportJob checks that a queued bank_import job calls
// Config.BankImport with its import id, inserted in a transaction as the
// app's enqueuer does.
func TestBankImportJob(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb testDB) {
		var (
			mu  sync.Mutex
			ran []int64
		)
		r, _ := newRunner(t, tdb, Config{BankImport: func(_ context.Context, id int64) error {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, id)
			return nil
		}})
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		tx, err := tdb.db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Client().InsertTx(t.Context(), tx, BankImportArgs{ImportID: 42}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		waitJob(t, r, res.Job.ID, rivertype.JobStateCompleted)
		mu.Lock()
		defer mu.Unlock()
		if len(ran) != 1 || ran[0] != 42 {
			t.Errorf("BankImport called with %v, want [42]", ran)
		}
	})
}
