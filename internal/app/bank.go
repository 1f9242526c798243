package app

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"alliance"
	"alliance/internal/bankfile"
	"alliance/internal/store"
)

// BankInput is what CreateBank needs.
type BankInput struct {
	Name        string
	Description string
	// PDQThreshold caps PDQ queries against the bank; nil means
	// alliance.MaxPDQThreshold.
	PDQThreshold *int
}

// maxBankName bounds bank names, which appear in URLs.
const maxBankName = 100

// CreateBank creates a bank owned by the actor's organisation.
func (a *App) CreateBank(ctx context.Context, in BankInput) (alliance.Bank, error) {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return alliance.Bank{}, err
	}
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return alliance.Bank{}, alliance.FieldErrorf("name", "Bank name is required.")
	case len(name) > maxBankName || strings.ContainsAny(name, "/?#%\\") || strings.TrimFunc(name, isPrintable) != "":
		return alliance.Bank{}, alliance.FieldErrorf("name",
			"Bank name must be at most %d printable characters without / ? # %% or \\.", maxBankName)
	}
	b := alliance.Bank{Name: name, Description: strings.TrimSpace(in.Description), PDQThreshold: alliance.MaxPDQThreshold}
	if in.PDQThreshold != nil {
		if *in.PDQThreshold < 0 || *in.PDQThreshold > alliance.MaxPDQThreshold {
			return alliance.Bank{}, alliance.FieldErrorf("pdq_threshold", "PDQ threshold must be 0 to %d.", alliance.MaxPDQThreshold)
		}
		b.PDQThreshold = *in.PDQThreshold
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		org, err := a.actorOrg(ctx, tx, actor)
		if err != nil {
			return err
		}
		b.OwnerOrgID, b.OwnerOrg = org.ID, org.Code
		if err := tx.CreateBank(ctx, &b); err != nil {
			return err
		}
		return audit(ctx, tx, "bank.create", "bank", strconv.FormatInt(b.ID, 10))
	})
	if err != nil {
		return alliance.Bank{}, fmt.Errorf("app: create bank: %w", err)
	}
	return b, nil
}

func isPrintable(r rune) bool { return r >= ' ' && r != 0x7f }

// actorOrg returns the organisation the actor acts for: its own, or the
// node's home organisation for the system actor.
func (a *App) actorOrg(ctx context.Context, tx *store.Tx, actor alliance.Actor) (alliance.Organisation, error) {
	code := actor.OrgCode
	if actor.System && code == "" {
		code = a.homeOrg
	}
	return tx.OrganisationByCode(ctx, code)
}

// ownBank finds a bank the actor may manage. ref is the bank's name within
// the actor's organisation, or "ORG-CODE/name" (the system actor's way to
// name any bank; others may name only their own organisation). Banks of
// other organisations are ENOTFOUND, as if they did not exist.
func (a *App) ownBank(ctx context.Context, tx *store.Tx, actor alliance.Actor, ref string) (alliance.Bank, error) {
	owner, name, qualified := strings.Cut(ref, "/")
	if !qualified {
		owner, name = "", ref
	}
	org, err := a.actorOrg(ctx, tx, actor)
	if err != nil {
		return alliance.Bank{}, err
	}
	if qualified && owner != org.Code {
		if !actor.System {
			return alliance.Bank{}, alliance.Errorf(alliance.ENOTFOUND, "Bank not found.")
		}
		if org, err = tx.OrganisationByCode(ctx, owner); err != nil {
			return alliance.Bank{}, alliance.Errorf(alliance.ENOTFOUND, "Bank not found.")
		}
	}
	return tx.BankByName(ctx, org.ID, name)
}

// ShareBank lets the organisation with code orgCode match against the
// actor's bank.
func (a *App) ShareBank(ctx context.Context, bankRef, orgCode string) error {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		b, err := a.ownBank(ctx, tx, actor, bankRef)
		if err != nil {
			return err
		}
		org, err := tx.OrganisationByCode(ctx, orgCode)
		if alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return unknownOrg(ctx, tx, orgCode)
		} else if err != nil {
			return err
		}
		if err := tx.ShareBank(ctx, b.ID, org.ID); err != nil {
			return err
		}
		return audit(ctx, tx, "bank.share", "bank", fmt.Sprintf("%d:%s", b.ID, org.Code))
	})
	if err != nil {
		return fmt.Errorf("app: share bank: %w", err)
	}
	return nil
}

// Banks returns the banks the actor's organisation owns or has been shared
// (every bank for the system actor), with active entry counts.
func (a *App) Banks(ctx context.Context) ([]alliance.Bank, error) {
	actor, err := require(ctx, alliance.PermMatch)
	if err != nil {
		return nil, err
	}
	var out []alliance.Bank
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		out, err = tx.VisibleBanks(ctx, visibleTo(actor))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: banks: %w", err)
	}
	return out, nil
}

// visibleTo is the organisation whose banks the actor sees; 0 means all.
func visibleTo(actor alliance.Actor) int64 {
	if actor.System {
		return 0
	}
	return actor.OrgID
}

// EntrySource yields the entries of a bank file one at a time; Next returns
// io.EOF after the last. Its errors should name the line or record.
type EntrySource interface {
	Next() (alliance.HashEntry, error)
}

// ImportResult counts what an import did.
type ImportResult struct {
	Read     int64 // records read from the source
	Added    int64 // entries new to the bank
	Existing int64 // records the bank already held (or repeated in the file): last_seen and details updated
}

// importBatch is how many records ImportEntries buffers before writing them.
const importBatch = 2000

// ImportEntries reads every record of src into the actor's bank bankRef
// (see ownBank), in one transaction: a bad record leaves the bank as it was,
// and the error names the record (1-based). An entry already in the bank
// stays one entry: its last_seen moves on and its details are updated.
// progress, when not nil, is called with the records read so far after
// each batch. The import is audited as "bank.import" with its counts.
func (a *App) ImportEntries(ctx context.Context, bankRef string, src EntrySource, progress func(read int64)) (ImportResult, error) {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	// On PostgreSQL the rows go in by COPY (see store.ImportTx).
	err = a.db.InImportTx(ctx, func(itx *store.ImportTx) error {
		tx := itx.Tx
		b, err := a.ownBank(ctx, tx, actor, bankRef)
		if err != nil {
			return err
		}
		if err := tx.LockBankChanges(ctx); err != nil {
			return err
		}
		maxID, err := tx.MaxBankEntryID(ctx)
		if err != nil {
			return err
		}
		batch := make([]alliance.HashEntry, 0, importBatch)
		flush := func() error {
			if err := itx.AddBankEntries(ctx, b.ID, batch); err != nil {
				return err
			}
			batch = batch[:0]
			if progress != nil {
				progress(res.Read)
			}
			return nil
		}
		for {
			e, err := src.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			n := res.Read + 1
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var ferr *bankfile.Error
				if errors.As(err, &ferr) { // names its line or record already
					unit := ferr.Unit
					if unit != "" {
						unit = strings.ToUpper(unit[:1]) + unit[1:]
					}
					return alliance.Errorf(alliance.EINVALID, "%s %d: %s", unit, ferr.N, ferr.Msg)
				}
				msg := err.Error()
				if alliance.ErrorCode(err) != alliance.EINTERNAL {
					msg = alliance.ErrorMessage(err)
				}
				// The reader's message may name a line as well; files are
				// the user's own input, so its detail is safe to show.
				return alliance.Errorf(alliance.EINVALID, "Record %d: %s", n, msg)
			}
			if err := e.Validate(); err != nil {
				return alliance.Errorf(alliance.EINVALID, "Record %d: %s", n, alliance.ErrorMessage(err))
			}
			e.AddedBy = actor.UserID
			batch = append(batch, e)
			res.Read = n
			if len(batch) == importBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if err := itx.FlushBankEntries(ctx); err != nil {
			return err
		}
		if res.Added, err = tx.LogNewBankEntries(ctx, b.ID, maxID); err != nil {
			return err
		}
		res.Existing = res.Read - res.Added
		// Series and identified victims named by the file come with it.
		if err := a.syncBankSeries(ctx, tx, b); err != nil {
			return err
		}
		return audit(ctx, tx, "bank.import", "bank",
			fmt.Sprintf("%d read=%d added=%d existing=%d", b.ID, res.Read, res.Added, res.Existing))
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("app: import into bank %q: %w", bankRef, err)
	}
	a.refreshAfterWrite(ctx)
	return res, nil
}

// ExportEntries calls fn with every entry of the actor's bank bankRef
// (see ownBank), active or not, in id order, streaming from one read
// transaction. fn's error stops the export and is returned.
func (a *App) ExportEntries(ctx context.Context, bankRef string, fn func(alliance.HashEntry) error) error {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return err
	}
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		b, err := a.ownBank(ctx, tx, actor, bankRef)
		if err != nil {
			return err
		}
		return tx.BankEntries(ctx, b.ID, fn)
	})
	if err != nil {
		return fmt.Errorf("app: export bank %q: %w", bankRef, err)
	}
	return nil
}

// SetEntryActive switches an entry of one of the actor's banks on or off;
// lookups reflect it at once in this process (every match re-reads the
// entry) and within a poll interval in the others. A bankRef other than ""
// (see ownBank) must name the entry's bank.
func (a *App) SetEntryActive(ctx context.Context, bankRef string, entryID int64, active bool) error {
	actor, err := require(ctx, alliance.PermManageBanks)
	if err != nil {
		return err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		e, err := tx.BankEntry(ctx, entryID)
		if err != nil {
			return err
		}
		b, err := tx.BankByID(ctx, e.BankID)
		if err != nil {
			return err
		}
		if !actor.System && b.OwnerOrgID != actor.OrgID {
			return alliance.Errorf(alliance.ENOTFOUND, "Entry not found.")
		}
		if bankRef != "" {
			if named, err := a.ownBank(ctx, tx, actor, bankRef); err != nil || named.ID != b.ID {
				return alliance.Errorf(alliance.ENOTFOUND, "Entry not found.")
			}
		}
		if err := tx.LockBankChanges(ctx); err != nil {
			return err
		}
		changed, err := tx.SetBankEntryActive(ctx, entryID, active)
		if err != nil || !changed {
			return err
		}
		action := "bank.entry.disable"
		if active {
			action = "bank.entry.enable"
		}
		return audit(ctx, tx, action, "bank_entry", strconv.FormatInt(entryID, 10))
	})
	if err != nil {
		return fmt.Errorf("app: set entry %d active=%t: %w", entryID, active, err)
	}
	a.refreshAfterWrite(ctx)
	return nil
}

// refreshAfterWrite brings this process's matcher up to date after a local
// change, so that the writer sees it without waiting for the next poll.
func (a *App) refreshAfterWrite(ctx context.Context) {
	if !a.matcher.Loaded() {
		return
	}
	if err := a.matcher.Refresh(ctx); err != nil {
		a.log.WarnContext(ctx, "matcher refresh after write failed; the next poll retries", "err", err)
	}
}

// FileEntries adapts a bank file reader to an EntrySource.
func FileEntries(r bankfile.Reader) EntrySource { return fileEntries{r} }

type fileEntries struct{ r bankfile.Reader }

// Next converts the next entry of the file.
func (f fileEntries) Next() (alliance.HashEntry, error) {
	e, err := f.r.Next()
	if err != nil {
		return alliance.HashEntry{}, err
	}
	alg, err := alliance.ParseHashAlgorithm(e.Algorithm)
	if err != nil {
		return alliance.HashEntry{}, err
	}
	v, err := alg.ParseHashValue(e.Value)
	if err != nil {
		return alliance.HashEntry{}, err
	}
	return alliance.HashEntry{Algorithm: alg, Value: v, Profile: e.Profile,
		Classification: alliance.Classification{Scheme: e.CategoryScheme, Category: e.Category},
		Series:         e.Series, VictimIdentified: e.VictimIdentified, Source: e.Source}, nil
}

// FileEntry converts an entry for a bank file writer.
func FileEntry(e alliance.HashEntry) bankfile.Entry {
	return bankfile.Entry{Algorithm: string(e.Algorithm), Value: hex.EncodeToString(e.Value), Profile: e.Profile,
		Category: e.Category, CategoryScheme: e.Scheme, Series: e.Series, VictimIdentified: e.VictimIdentified,
		Source: e.Source}
}
