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
	"time"

	"alliance"
	"alliance/internal/app"
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

func TestHousekeepingFailsStaleImports(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		clock := testutil.NewFixedClock(t0)
		a := newApp(t, db, clock)
		u := addUser(t, a, "se-analyst@example.com", "SE-HOTLINE", "analyst")
		se := alliance.NewContextWithActor(ctx, u.Actor())
		if _, err := a.CreateBank(se, app.BankInput{Name: "known"}); err != nil {
			t.Fatal(err)
		}
		a.SetBankImportEnqueuer(func(context.Context, *sql.Tx, int64) error { return nil }) // a job that never runs
		file := csvFile(rand.New(rand.NewPCG(9, 10)), 10)
		start := func() int64 {
			t.Helper()
			imp, err := a.StartImport(se, "known", bankfile.CSV, strings.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			return imp.ID
		}

		// An upload whose process died after its first chunk: queued, no job.
		var cutOff int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			org, err := tx.OrganisationByCode(ctx, "SE-HOTLINE")
			if err != nil {
				return err
			}
			b, err := tx.BankByName(ctx, org.ID, "known")
			if err != nil {
				return err
			}
			imp := store.BankImport{BankID: b.ID, OrgID: org.ID, Format: "csv"}
			if err := tx.CreateBankImport(ctx, &imp); err != nil {
				return err
			}
			cutOff = imp.ID
			return tx.AddBankImportChunk(ctx, imp.ID, 0, []byte(file[:20]))
		})
		if err != nil {
			t.Fatal(err)
		}
		neverRun := start() // staged and queued; its job was discarded or cancelled before it ran
		done := start()
		if err := a.RunImport(sys(ctx), done); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)
		lateStart := start() // staged, then its job started and was lost
		if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := tx.StartBankImport(ctx, lateStart); return err }); err != nil {
			t.Fatal(err)
		}

		type want struct {
			status, err string
			chunks      int
		}
		check := func(when string, wants map[int64]want) {
			t.Helper()
			for id, w := range wants {
				imp, err := a.ImportStatus(sys(ctx), id)
				if err != nil {
					t.Fatal(err)
				}
				if imp.Status != w.status || !strings.HasPrefix(imp.Error, w.err) || stagedChunks(t, db, id) != w.chunks {
					t.Errorf("%s: import %d is %s (%q) with %d chunks; want %s (%q…) with %d",
						when, id, imp.Status, imp.Error, stagedChunks(t, db, id), w.status, w.err, w.chunks)
				}
				if w.status == store.ImportFailed && imp.FinishedAt == nil {
					t.Errorf("%s: failed import %d has no finish time", when, id)
				}
			}
		}
		housekeep := func(at time.Duration) {
			t.Helper()
			clock.Set(t0.Add(at))
			if err := a.Housekeeping(ctx); err != nil {
				t.Fatal(err)
			}
		}

		housekeep(2 * time.Hour)
		check("after 2h", map[int64]want{
			cutOff:    {store.ImportFailed, "The upload did not finish.", 0},
			neverRun:  {store.ImportQueued, "", 1},
			lateStart: {store.ImportRunning, "", 1},
			done:      {store.ImportDone, "", 0},
		})
		housekeep(3*time.Hour + time.Minute)
		check("after 3h", map[int64]want{
			neverRun:  {store.ImportFailed, "The import job gave up", 0},
			lateStart: {store.ImportRunning, "", 1},
		})
		housekeep(5*time.Hour + time.Minute)
		check("after 5h", map[int64]want{
			lateStart: {store.ImportFailed, "The import job gave up", 0},
			done:      {store.ImportDone, "", 0},
		})
		// A job that comes back after all finds its import finished.
		if err := a.RunImport(sys(ctx), lateStart); err != nil {
			t.Fatal(err)
		}
		check("after a late job", map[int64]want{lateStart: {store.ImportFailed, "The import job gave up", 0}})
		var failed int
		for _, s := range auditActions(t, db) {
			if strings.Contains(s, " bank.import.failed ") {
				failed++
			}
		}
		if failed != 3 {
			t.Errorf("%d bank.import.failed audit events, want 3", failed)
		}
	})
}
