package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// TestTargetSets stores two versions of the targets, reads the current one
// and the history back, and checks that a version taken meanwhile is a
// conflict and that the schema refuses version 0.
func TestTargetSets(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var cur *alliance.TargetSet
		read := func() []alliance.TargetSet {
			t.Helper()
			var all []alliance.TargetSet
			err := db.InReadTx(ctx, func(tx *store.Tx) error {
				var err error
				if cur, err = tx.CurrentTargetSet(ctx); err != nil {
					return err
				}
				all, err = tx.TargetSetVersions(ctx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return all
		}
		if all := read(); cur != nil || len(all) != 0 {
			t.Fatalf("empty database: current %+v, %d versions", cur, len(all))
		}
		add := func(s alliance.TargetSet) error {
			return db.InTx(ctx, func(tx *store.Tx) error { return tx.AddTargetSet(ctx, &s) })
		}
		v1 := alliance.TargetSet{Version: 1, Label: alliance.TargetSetLabel(1), Targets: alliance.CloneTargets(alliance.DeclarationTargets),
			Note: "Clearer goal 1.1.", By: "sec@example.org"}
		v1.Targets[0].Goals[0].Text = "Identify more victims, «all» of them."
		v2 := v1
		v2.Version, v2.Label, v2.Note = 2, alliance.TargetSetLabel(2), ""
		v2.Targets = alliance.CloneTargets(v1.Targets)
		v2.Targets[2].Goals = append(v2.Targets[2].Goals, alliance.Goal{Code: "3.3", Text: "New goal without indicators."})
		for _, s := range []alliance.TargetSet{v1, v2} {
			if err := add(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := add(v2); alliance.ErrorCode(err) != alliance.ECONFLICT {
			t.Errorf("version 2 again: %v, want a conflict", err)
		}
		v0 := v1
		v0.Version = 0
		if err := add(v0); err == nil {
			t.Errorf("version 0 was stored")
		}
		all := read()
		if cur == nil || cur.Version != 2 || cur.Label != "declaration-2012-12-rev2" || cur.At.IsZero() {
			t.Fatalf("current: %+v", cur)
		}
		if len(all) != 2 || all[0].Version != 2 || all[1].Version != 1 || all[1].Note != "Clearer goal 1.1." || all[1].By != "sec@example.org" {
			t.Fatalf("versions: %+v", all)
		}
		if diff := cmp.Diff(v1.Targets, all[1].Targets); diff != "" {
			t.Errorf("version 1 round trip (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(v2.Targets, cur.Targets); diff != "" {
			t.Errorf("version 2 round trip (-want +got):\n%s", diff)
		}
	})
}
