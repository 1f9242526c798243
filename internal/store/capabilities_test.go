package store_test

import (
	"testing"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestCapabilityAssessments checks the upsert, the order of the reads and
// that the schema itself refuses a level out of range and an unknown
// country.
func TestCapabilityAssessments(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		put := func(a alliance.CapabilityAssessment) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return tx.PutCapabilityAssessment(ctx, &a) })
		}
		for _, a := range []alliance.CapabilityAssessment{
			{Country: "SE", Capability: "MNR-12", Level: 1, Note: "first", UpdatedBy: "a"},
			{Country: "SE", Capability: "MNR-02", Level: 2, UpdatedBy: "a"},
			{Country: "NL", Capability: "MNR-01", Level: 0, UpdatedBy: "b"},
			{Country: "SE", Capability: "MNR-12", Level: 4, Note: "second", UpdatedBy: "c"},
		} {
			if err := put(a); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []alliance.CapabilityAssessment{
			{Country: "SE", Capability: "MNR-01", Level: 5, UpdatedBy: "a"},
			{Country: "SE", Capability: "MNR-01", Level: -1, UpdatedBy: "a"},
			{Country: "ZZ", Capability: "MNR-01", Level: 1, UpdatedBy: "a"},
		} {
			if err := put(bad); err == nil {
				t.Errorf("%+v was stored", bad)
			}
		}
		var se, all []alliance.CapabilityAssessment
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if se, err = tx.CapabilityAssessments(ctx, "SE"); err != nil {
				return err
			}
			all, err = tx.AllCapabilityAssessments(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(se) != 2 || se[0].Capability != "MNR-02" || se[1].Capability != "MNR-12" || se[1].Level != 4 ||
			se[1].Note != "second" || se[1].UpdatedBy != "c" || se[1].UpdatedAt.IsZero() {
			t.Errorf("SE: %+v", se)
		}
		if len(all) != 3 || all[0].Country != "NL" || all[1].Country != "SE" {
			t.Errorf("all: %+v", all)
		}
	})
}
