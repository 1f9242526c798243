package store_test

import (
	"bytes"
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestBankImports(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		bank := alliance.Bank{Name: "known", PDQThreshold: 31}
		imp := store.BankImport{Format: "csv", CreatedBy: 7}
		chunks := [][]byte{bytes.Repeat([]byte{'a'}, 100), {0, 1, 2}}
		inTx(t, db, func(tx *store.Tx) error {
			se, err := tx.OrganisationByCode(ctx, "SE-HOTLINE")
			if err != nil {
				return err
			}
			bank.OwnerOrgID = se.ID
			if err := tx.CreateBank(ctx, &bank); err != nil {
				return err
			}
			imp.BankID, imp.OrgID = bank.ID, se.ID
			if err := tx.CreateBankImport(ctx, &imp); err != nil {
				return err
			}
			for i, c := range chunks {
				if err := tx.AddBankImportChunk(ctx, imp.ID, i, c); err != nil {
					return err
				}
			}
			return nil
		})
		var got store.BankImport
		inTx(t, db, func(tx *store.Tx) (err error) {
			for i, want := range append(chunks, nil) {
				c, ok, err := tx.BankImportChunk(ctx, imp.ID, i)
				if err != nil || ok != (want != nil) || !bytes.Equal(c, want) {
					t.Errorf("chunk %d = %v, %t, %v; want %v", i, c, ok, err, want)
				}
			}
			if got, err = tx.BankImportByID(ctx, imp.ID); err != nil {
				return err
			}
			if got.Status != store.ImportQueued || got.Bank != "known" || got.OrgCode != "SE-HOTLINE" || got.CreatedBy != 7 ||
				got.StartedAt != nil || got.FinishedAt != nil {
				t.Errorf("queued import %+v", got)
			}
			for _, want := range []bool{true, true} { // a running import may start again (a retried job)
				if ok, err := tx.StartBankImport(ctx, imp.ID); err != nil || ok != want {
					t.Errorf("start = %t, %v; want %t", ok, err, want)
				}
			}
			got.Status, got.RecordsRead, got.Added, got.Present, got.Error = store.ImportFailed, 5, 0, 0, "Line 5: bad"
			if err := tx.FinishBankImport(ctx, &got); err != nil {
				return err
			}
			if ok, err := tx.StartBankImport(ctx, imp.ID); err != nil || ok {
				t.Errorf("start after finish = %t, %v; want false", ok, err)
			}
			if n, err := tx.CountBankImportChunks(ctx, imp.ID); err != nil || n != 0 {
				t.Errorf("%d chunks after finish (%v), want 0", n, err)
			}
			if got, err = tx.BankImportByID(ctx, imp.ID); err != nil {
				return err
			}
			if got.Status != store.ImportFailed || got.RecordsRead != 5 || got.Error != "Line 5: bad" ||
				got.StartedAt == nil || got.FinishedAt == nil {
				t.Errorf("finished import %+v", got)
			}
			if _, err := tx.BankImportByID(ctx, imp.ID+100); alliance.ErrorCode(err) != alliance.ENOTFOUND {
				t.Errorf("unknown import: %v, want ENOTFOUND", err)
			}
			return nil
		})
	})
}
