package store_test

import (
	"bytes"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestBankEntries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var se, nl alliance.Organisation
		bank := alliance.Bank{Name: "known", PDQThreshold: 31}
		inTx(t, db, func(tx *store.Tx) (err error) {
			if se, err = tx.OrganisationByCode(ctx, "SE-HOTLINE"); err != nil {
				return err
			}
			if nl, err = tx.OrganisationByCode(ctx, "NL-HOTLINE"); err != nil {
				return err
			}
			bank.OwnerOrgID = se.ID
			return tx.CreateBank(ctx, &bank)
		})
		dup := alliance.Bank{Name: "known", OwnerOrgID: se.ID}
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateBank(ctx, &dup) })
		if alliance.ErrorCode(err) != alliance.ECONFLICT {
			t.Fatalf("second bank of the same name: %v, want conflict", err)
		}
		yes := true
		entry := func(b byte, category string) alliance.HashEntry {
			return alliance.HashEntry{Algorithm: alliance.HashMD5, Value: bytes.Repeat([]byte{b}, 16),
				Classification: alliance.Classification{Scheme: "s", Category: category}, VictimIdentified: &yes}
		}
		var added int64
		for round, category := range []string{"a", ""} {
			inTx(t, db, func(tx *store.Tx) error {
				if err := tx.LockBankChanges(ctx); err != nil {
					return err
				}
				maxID, err := tx.MaxBankEntryID(ctx)
				if err != nil {
					return err
				}
				// Repeats within one call and across calls stay one entry.
				if err := tx.UpsertBankEntries(ctx, bank.ID, []alliance.HashEntry{entry(1, category), entry(2, category), entry(1, category)}); err != nil {
					return err
				}
				added, err = tx.LogNewBankEntries(ctx, bank.ID, maxID)
				return err
			})
			if want := []int64{2, 0}[round]; added != want {
				t.Fatalf("round %d: %d added, want %d", round, added, want)
			}
		}
		var (
			entries []alliance.HashEntry
			changes []store.BankChange
			banks   map[int64]alliance.Bank
			last    int64
		)
		inTx(t, db, func(tx *store.Tx) (err error) {
			if err := tx.BankEntries(ctx, bank.ID, func(e alliance.HashEntry) error { entries = append(entries, e); return nil }); err != nil {
				return err
			}
			if _, err := tx.SetBankEntryActive(ctx, entries[0].ID, false); err != nil {
				return err
			}
			if changes, err = tx.BankChanges(ctx, 0, 100); err != nil {
				return err
			}
			if last, err = tx.LastBankChange(ctx); err != nil {
				return err
			}
			banks, err = tx.MatchableBanks(ctx, nl.ID)
			return err
		})
		if len(entries) != 2 || entries[0].Category != "a" || entries[0].VictimIdentified == nil || !*entries[0].VictimIdentified {
			t.Fatalf("entries %+v: want two, details kept when re-imported empty", entries)
		}
		if len(changes) != 3 || !changes[0].Add || !changes[1].Add || changes[2].Add || changes[2].Seq != last ||
			changes[2].EntryID != entries[0].ID || !bytes.Equal(changes[2].Value, entries[0].Value) {
			t.Fatalf("changes %+v (last %d)", changes, last)
		}
		if len(banks) != 0 {
			t.Fatalf("unshared bank matchable by NL: %+v", banks)
		}
		inTx(t, db, func(tx *store.Tx) (err error) {
			if err := tx.ShareBank(ctx, bank.ID, nl.ID); err != nil {
				return err
			}
			if err := tx.ShareBank(ctx, bank.ID, nl.ID); err != nil {
				return err
			}
			banks, err = tx.MatchableBanks(ctx, nl.ID)
			if err != nil {
				return err
			}
			active, err := tx.ActiveEntriesByID(ctx, []int64{entries[0].ID, entries[1].ID, 999999})
			if len(active) != 1 || active[0].ID != entries[1].ID {
				t.Errorf("active entries %+v, want only %d", active, entries[1].ID)
			}
			return err
		})
		if len(banks) != 1 || banks[bank.ID].OwnerOrg != "SE-HOTLINE" {
			t.Fatalf("shared bank: %+v", banks)
		}
	})
}
