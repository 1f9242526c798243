package app_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/bankfile"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// csvFile is a bank file of n random PDQ hashes.
func csvFile(r *rand.Rand, n int) string {
	var b strings.Builder
	b.WriteString("algorithm,value,category,series\n")
	for range n {
		b.WriteString(pdqLine(randHash(r), "a") + "\n")
	}
	return b.String()
}

func stagedChunks(t *testing.T, db *store.DB, id int64) int {
	t.Helper()
	var n int
	err := db.InReadTx(t.Context(), func(tx *store.Tx) error {
		var err error
		n, err = tx.CountBankImportChunks(t.Context(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBankImportJob(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		e.bank(t, e.se, "known", nil)
		var queued []int64
		e.a.SetBankImportEnqueuer(func(_ context.Context, tx *sql.Tx, id int64) error {
			if tx == nil {
				t.Error("enqueued outside a transaction")
			}
			queued = append(queued, id)
			return nil
		})
		// Over one staging chunk (1 MiB), so that the job reads across chunks.
		const n = 15000
		file := csvFile(rand.New(rand.NewPCG(5, 6)), n)
		if len(file) <= 1<<20 {
			t.Fatalf("test file of %d bytes fits in one chunk", len(file))
		}
		imp, err := e.a.StartImport(e.se, "known", bankfile.CSV, strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != store.ImportQueued || !slices.Equal(queued, []int64{imp.ID}) {
			t.Fatalf("import %+v, queued %v; want it queued once", imp, queued)
		}
		if got := stagedChunks(t, db, imp.ID); got != 2 {
			t.Errorf("%d chunks staged, want 2", got)
		}
		if got := len(e.entries(t, e.se, "known")); got != 0 {
			t.Errorf("%d entries before the job ran, want 0", got)
		}

		if _, err := e.a.ImportStatus(e.nl, imp.ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("status for another organisation: %v, want ENOTFOUND", err)
		}
		if err := e.a.RunImport(e.nl, imp.ID); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("run by another organisation: %v, want ENOTFOUND", err)
		}

		sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
		if err := e.a.RunImport(sys, imp.ID); err != nil {
			t.Fatal(err)
		}
		got, err := e.a.ImportStatus(e.se, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.ImportDone || got.RecordsRead != n || got.Added != n || got.Present != 0 ||
			got.Error != "" || got.StartedAt == nil || got.FinishedAt == nil || got.Bank != "known" || got.OrgCode != "SE-HOTLINE" {
			t.Errorf("import after the job: %+v", got)
		}
		if c := stagedChunks(t, db, imp.ID); c != 0 {
			t.Errorf("%d chunks still staged after the job", c)
		}
		if c := len(e.entries(t, e.se, "known")); c != n {
			t.Errorf("%d entries after the job, want %d", c, n)
		}
		// A finished import is not run again (a retried job).
		if err := e.a.RunImport(sys, imp.ID); err != nil {
			t.Fatal(err)
		}
		if again, _ := e.a.ImportStatus(e.se, imp.ID); again.Added != n || again.Status != store.ImportDone {
			t.Errorf("import after a second run: %+v", again)
		}
	})
}

func TestBankImportBadRecord(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db) // no enqueuer: StartImport runs the import itself
		e.bank(t, e.se, "known", nil)
		r := rand.New(rand.NewPCG(7, 8))
		if _, err := e.a.StartImport(e.se, "known", bankfile.CSV, strings.NewReader(csvFile(r, 3))); err != nil {
			t.Fatal(err)
		}
		bad := csvFile(r, 3) + "pdq,abcd,a,s1\n" + pdqLine(randHash(r), "a") + "\n"
		imp, err := e.a.StartImport(e.se, "known", bankfile.CSV, strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != store.ImportFailed || !strings.Contains(imp.Error, "Line 5") || imp.Added != 0 {
			t.Errorf("bad import %+v, want failed naming line 5", imp)
		}
		if c := stagedChunks(t, db, imp.ID); c != 0 {
			t.Errorf("%d chunks still staged after a failed import", c)
		}
		if c := len(e.entries(t, e.se, "known")); c != 3 {
			t.Errorf("%d entries after a failed import, want 3", c)
		}
		if _, err := e.a.StartImport(e.nl, "known", bankfile.CSV, strings.NewReader(bad)); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("import into a bank NL-HOTLINE lacks: %v, want ENOTFOUND", err)
		}
		if _, err := e.a.StartImport(e.se, "known", "xml", strings.NewReader(bad)); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("unknown format: %v, want EINVALID", err)
		}
	})
}

// failingReader yields its data, then fails, as a dropped upload does.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

func TestBankImportInterruptedUpload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newBankEnv(t, db)
		e.bank(t, e.se, "known", nil)
		var queued []int64
		e.a.SetBankImportEnqueuer(func(_ context.Context, _ *sql.Tx, id int64) error {
			queued = append(queued, id)
			return nil
		})
		// Two chunks' worth arrive, then the connection drops.
		file := csvFile(rand.New(rand.NewPCG(9, 10)), 15000)
		_, err := e.a.StartImport(e.se, "known", bankfile.CSV, &failingReader{strings.NewReader(file)})
		if err == nil {
			t.Fatal("an interrupted upload was accepted")
		}
		if len(queued) != 0 {
			t.Errorf("a job was queued for a partial upload: %v", queued)
		}
		var imps []store.BankImport
		err = db.InReadTx(t.Context(), func(tx *store.Tx) error {
			imp, err := tx.BankImportByID(t.Context(), 1)
			imps = append(imps, imp)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if imps[0].Status != store.ImportFailed {
			t.Errorf("interrupted import has status %q, want failed", imps[0].Status)
		}
		if c := stagedChunks(t, db, imps[0].ID); c != 0 {
			t.Errorf("%d chunks left staged after an interrupted upload", c)
		}
		if c := len(e.entries(t, e.se, "known")); c != 0 {
			t.Errorf("%d entries after an interrupted upload, want 0", c)
		}
	})
}
