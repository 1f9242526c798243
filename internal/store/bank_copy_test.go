package store_test

import (
	"bytes"
	"errors"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestImportTx(t *testing.T) {
	// Small merges, so that repeats fall within one merge and across merges.
	defer store.SetBankCopyMerge(3)()
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		bank := alliance.Bank{Name: "known", PDQThreshold: 31}
		inTx(t, db, func(tx *store.Tx) error {
			se, err := tx.OrganisationByCode(ctx, "SE-HOTLINE")
			if err != nil {
				return err
			}
			bank.OwnerOrgID = se.ID
			return tx.CreateBank(ctx, &bank)
		})
		yes, no := true, false
		entry := func(b byte, category string, victim *bool) alliance.HashEntry {
			return alliance.HashEntry{Algorithm: alliance.HashSHA1, Value: bytes.Repeat([]byte{b}, 20),
				Classification: alliance.Classification{Scheme: "s", Category: category}, VictimIdentified: victim,
				Series: "s1", AddedBy: 7}
		}
		load := func(batches ...[]alliance.HashEntry) (int64, error) {
			var added int64
			err := db.InImportTx(ctx, func(tx *store.ImportTx) error {
				if err := tx.LockBankChanges(ctx); err != nil {
					return err
				}
				maxID, err := tx.MaxBankEntryID(ctx)
				if err != nil {
					return err
				}
				for _, b := range batches {
					if err := tx.AddBankEntries(ctx, bank.ID, b); err != nil {
						return err
					}
				}
				if err := tx.FlushBankEntries(ctx); err != nil {
					return err
				}
				added, err = tx.LogNewBankEntries(ctx, bank.ID, maxID)
				return err
			})
			return added, err
		}
		entries := func() map[byte]alliance.HashEntry {
			out := map[byte]alliance.HashEntry{}
			inTx(t, db, func(tx *store.Tx) error {
				return tx.BankEntries(ctx, bank.ID, func(e alliance.HashEntry) error { out[e.Value[0]] = e; return nil })
			})
			return out
		}

		added, err := load(
			[]alliance.HashEntry{entry(1, "a", nil), entry(2, "a", &yes), entry(1, "b", nil)},
			[]alliance.HashEntry{entry(3, "a", nil), entry(2, "c", &no)},
			nil,
			[]alliance.HashEntry{entry(4, "a", nil)})
		if err != nil || added != 4 {
			t.Fatalf("first load: %d added, %v; want 4", added, err)
		}
		got := entries()
		if len(got) != 4 || got[1].Category != "b" || got[2].Category != "c" || got[2].VictimIdentified == nil ||
			*got[2].VictimIdentified || got[3].Series != "s1" || got[4].AddedBy != 7 || !got[4].Active {
			t.Fatalf("entries %+v: want 4, the last of repeats winning", got)
		}
		// Again, with empty details and one new entry: details stay.
		if added, err = load([]alliance.HashEntry{entry(1, "", nil), entry(2, "", nil), entry(5, "", nil)}); err != nil || added != 1 {
			t.Fatalf("second load: %d added, %v; want 1", added, err)
		}
		again := entries()
		if len(again) != 5 || again[1].Category != "b" || again[1].ID != got[1].ID || again[2].VictimIdentified == nil {
			t.Errorf("after a second load: %+v", again)
		}

		// A failure leaves the bank as it was, and the connection usable.
		boom := errors.New("boom")
		err = db.InImportTx(ctx, func(tx *store.ImportTx) error {
			if err := tx.AddBankEntries(ctx, bank.ID, []alliance.HashEntry{entry(6, "a", nil), entry(7, "a", nil), entry(8, "a", nil)}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failed load: %v", err)
		}
		if n := len(entries()); n != 5 {
			t.Errorf("%d entries after a failed load, want 5", n)
		}
		for range 3 {
			if added, err = load([]alliance.HashEntry{entry(9, "a", nil)}); err != nil {
				t.Fatalf("load after a failure: %v", err)
			}
		}
		if n := len(entries()); n != 6 {
			t.Errorf("%d entries at the end, want 6", n)
		}
	})
}
