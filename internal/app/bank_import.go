package app

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"alliance"
	"alliance/internal/bankfile"
	"alliance/internal/store"
)

// BankImport is a bank file import run in the background (see StartImport).
// While it runs, RecordsRead is the records read so far in this process.
type BankImport = store.BankImport

// Housekeeping gives up on an import left unfinished (see FailStaleImports)
// after these. An upload holds its request for as long as it takes, but a
// bank file arriving for an hour has stalled. A job attempt is cut off at
// an hour (jobs.bankImportTimeout) and its retries follow within minutes,
// or within about an hour when River rescues the job of a process that
// died; three hours after its last start nothing is coming back for it.
const (
	importUploadTimeout = time.Hour
	importJobTimeout    = 3 * time.Hour
)

// The errors recorded on the imports FailStaleImports gives up on.
const (
	importUploadGone = "The upload did not finish."
	importJobGone    = "The import job gave up before the import finished."
)

// importChunk is the size of the pieces an uploaded bank file is staged in:
// large enough that a file of 10^7 hashes is a few hundred rows, small
// enough that the import job holds one at a time.
const importChunk = 1 << 20

// bankImports is the App's state for background imports.
type bankImports struct {
	mu       sync.Mutex
	enqueue  func(ctx context.Context, tx *sql.Tx, importID int64) error
	progress map[int64]int64 // records read by imports running in this process
}

func (b *bankImports) setProgress(id, read int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.progress == nil {
		b.progress = map[int64]int64{}
	}
	b.progress[id] = read
}

func (b *bankImports) done(id int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.progress, id)
}

func (b *bankImports) read(id int64) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.progress[id]
	return n, ok
}

func (b *bankImports) enqueuer() func(context.Context, *sql.Tx, int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.enqueue
}

// SetBankImportEnqueuer makes StartImport queue each import as a job by
// calling fn in the transaction that stages its file (the job then calls
// RunImport). Without it StartImport runs the import before it returns.
// It is set once, before the App serves requests.
func (a *App) SetBankImportEnqueuer(fn func(ctx context.Context, tx *sql.Tx, importID int64) error) {
	a.imports.mu.Lock()
	defer a.imports.mu.Unlock()
	a.imports.enqueue = fn
}

// StartImport stages the bank file r, of format f, for the actor's bank
// bankRef (see ownBank) in one transaction, chunk by chunk so that memory
// stays constant, and queues its import. It returns the import, queued; or,
// when no enqueuer is set, runs it first and returns it finished (done or
// failed). Staging holds the write transaction while r is read: callers
// should give it a body that is already arriving.
func (a *App) StartImport(ctx context.Context, bankRef string, f bankfile.Format, r io.Reader) (BankImport, error) {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return BankImport{}, err
	}
	if _, err := bankfile.ParseFormat(string(f)); err != nil {
		return BankImport{}, alliance.FieldErrorf("format", "format must be vics, csv or hma.")
	}
	enqueue := a.imports.enqueuer()
	var imp BankImport
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		b, err := a.ownBank(ctx, tx, actor, bankRef)
		if err != nil {
			return err
		}
		imp = BankImport{BankID: b.ID, Bank: b.Name, OrgID: b.OwnerOrgID, OrgCode: b.OwnerOrg,
			Format: string(f), CreatedBy: actor.UserID}
		return tx.CreateBankImport(ctx, &imp)
	})
	if err != nil {
		return BankImport{}, fmt.Errorf("app: start import into bank %q: %w", bankRef, err)
	}
	// Each chunk commits in its own short transaction: holding one
	// transaction for the whole upload would keep SQLite's single write lock
	// for as long as the slowest uploader takes, and stall intake. The job is
	// enqueued only once every chunk is in, so nothing runs a partial file.
	if err := a.stageChunks(ctx, imp.ID, r); err != nil {
		a.abandonImport(ctx, &imp, err)
		return BankImport{}, fmt.Errorf("app: start import into bank %q: %w", bankRef, err)
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := audit(ctx, tx, "bank.import.start", "bank_import", strconv.FormatInt(imp.ID, 10)); err != nil {
			return err
		}
		if enqueue != nil {
			return enqueue(ctx, tx.SQLTx(), imp.ID)
		}
		return nil
	})
	if err != nil {
		a.abandonImport(ctx, &imp, err)
		return BankImport{}, fmt.Errorf("app: start import into bank %q: %w", bankRef, err)
	}
	if enqueue != nil {
		return imp, nil
	}
	if err := a.RunImport(ctx, imp.ID); err != nil && alliance.ErrorCode(err) == alliance.EINTERNAL {
		return BankImport{}, err
	}
	return a.ImportStatus(ctx, imp.ID)
}

// RunImport runs the staged import id: it reads the staged file as one
// stream into the bank with ImportEntries (one transaction), records the
// outcome and deletes the staged file. An import that is already finished
// is left alone. A bad file is recorded as failed, with the record it
// stopped at, and is not an error; an internal failure is recorded as
// failed and returned. If ctx ends first, the import stays running with its
// file staged, so that a retry of its job runs it again. While it runs,
// ImportStatus in this process shows the records read so far.
func (a *App) RunImport(ctx context.Context, id int64) error {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return err
	}
	var imp BankImport
	started := false
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if imp, err = tx.BankImportByID(ctx, id); err != nil {
			return err
		}
		if !actor.System && imp.OrgID != actor.OrgID {
			return alliance.Errorf(alliance.ENOTFOUND, "Import not found.")
		}
		started, err = tx.StartBankImport(ctx, id)
		return err
	})
	if err != nil || !started {
		return wrapImportErr(id, err)
	}
	a.imports.setProgress(id, 0)
	defer a.imports.done(id)

	var res ImportResult
	rd, err := bankfile.NewReader(bufio.NewReader(&stagedFile{ctx: ctx, db: a.db, id: id}), bankfile.Format(imp.Format))
	if err == nil {
		res, err = a.ImportEntries(ctx, imp.OrgCode+"/"+imp.Bank, FileEntries(rd),
			func(read int64) { a.imports.setProgress(id, read) })
	}
	if err != nil && ctx.Err() != nil {
		return wrapImportErr(id, err)
	}
	imp.Status, imp.RecordsRead, imp.Added, imp.Present = store.ImportDone, res.Read, res.Added, res.Existing
	if err != nil {
		imp.Status, imp.Error = store.ImportFailed, alliance.ErrorMessage(err)
		imp.RecordsRead, _ = a.imports.read(id)
		a.log.WarnContext(ctx, "bank import failed", "import_id", id, "err", err)
	}
	ferr := a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.FinishBankImport(ctx, &imp); err != nil {
			return err
		}
		return audit(ctx, tx, "bank.import."+imp.Status, "bank_import", strconv.FormatInt(id, 10))
	})
	if ferr != nil {
		return wrapImportErr(id, ferr)
	}
	if err != nil && alliance.ErrorCode(err) == alliance.EINTERNAL {
		return wrapImportErr(id, err)
	}
	return nil
}

func wrapImportErr(id int64, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("app: run import %d: %w", id, err)
}

// ImportStatus returns the import id if it is into one of the actor's
// organisation's banks (any, for the system actor); ENOTFOUND otherwise.
func (a *App) ImportStatus(ctx context.Context, id int64) (BankImport, error) {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return BankImport{}, err
	}
	var imp BankImport
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		imp, err = tx.BankImportByID(ctx, id)
		return err
	})
	if err == nil && !actor.System && imp.OrgID != actor.OrgID {
		err = alliance.Errorf(alliance.ENOTFOUND, "Import not found.")
	}
	if err != nil {
		return BankImport{}, fmt.Errorf("app: import %d: %w", id, err)
	}
	if n, ok := a.imports.read(id); ok && imp.Status == store.ImportRunning {
		imp.RecordsRead = n
	}
	return imp, nil
}

// stagedFile reads an import's staged chunks in order, each in its own read
// transaction: the import's write transaction is open meanwhile, and SQLite
// lets readers run beside the writer.
type stagedFile struct {
	ctx context.Context
	db  *store.DB
	id  int64
	seq int
	buf []byte
	eof bool
}

// Read implements io.Reader.
func (s *stagedFile) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.eof {
			return 0, io.EOF
		}
		err := s.db.InReadTx(s.ctx, func(tx *store.Tx) error {
			chunk, ok, err := tx.BankImportChunk(s.ctx, s.id, s.seq)
			s.buf, s.eof = chunk, !ok
			return err
		})
		if err != nil {
			return 0, err
		}
		s.seq++
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// stageChunks copies r into the staging table of import id, one chunk per
// transaction.
func (a *App) stageChunks(ctx context.Context, id int64, r io.Reader) error {
	buf := make([]byte, importChunk)
	for seq := 0; ; seq++ {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			err := a.db.InTx(ctx, func(tx *store.Tx) error { return tx.AddBankImportChunk(ctx, id, seq, buf[:n]) })
			if err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return nil
		}
		if rerr != nil {
			if alliance.ErrorCode(rerr) != alliance.EINTERNAL { // the reader's own verdict, such as ETOOLARGE
				return rerr
			}
			return fmt.Errorf("read bank file: %w", rerr)
		}
	}
}

// abandonImport records an upload that did not complete as failed and drops
// what was staged of it, so no half-uploaded file is left behind.
func (a *App) abandonImport(ctx context.Context, imp *BankImport, cause error) {
	imp.Status = store.ImportFailed
	imp.Error = "The upload did not complete."
	if code := alliance.ErrorCode(cause); code != alliance.EINTERNAL {
		imp.Error = alliance.ErrorMessage(cause)
	}
	// The request may be gone (that is often why the upload failed); the
	// clean-up must still happen.
	ctx = context.WithoutCancel(ctx)
	err := a.db.InTx(ctx, func(tx *store.Tx) error { return tx.FinishBankImport(ctx, imp) })
	if err != nil {
		a.log.ErrorContext(ctx, "abandon bank import", "import", imp.ID, "err", err)
	}
}

// FailStaleImports records as failed, and drops the staged files of, the
// imports that nothing will finish: an upload whose process died, queued
// for importUploadTimeout without its file complete ("The upload did not
// finish."), and an import queued or running importJobTimeout after its
// last start (or its creation) whose job was discarded, cancelled or lost
// ("The import job gave up…"). Each is audited as "bank.import.failed". It
// returns how many; Housekeeping calls it as the system actor.
func (a *App) FailStaleImports(ctx context.Context) (int, error) {
	if _, err := require(ctx, alliance.PermManageBanks); err != nil {
		return 0, err
	}
	var stale []store.StaleBankImport
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		var err error
		stale, err = tx.FailStaleBankImports(ctx, now.Add(-importUploadTimeout), now.Add(-importJobTimeout),
			importUploadGone, importJobGone)
		if err != nil {
			return err
		}
		for _, s := range stale {
			if err := audit(ctx, tx, "bank.import.failed", "bank_import", strconv.FormatInt(s.ID, 10)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("app: fail stale bank imports: %w", err)
	}
	for _, s := range stale {
		a.log.WarnContext(ctx, "bank import given up", "import_id", s.ID, "uploaded", s.Uploaded)
	}
	return len(stale), nil
}
