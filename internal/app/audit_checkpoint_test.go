package app_test

import (
	"errors"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/federation"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

func TestAuditCheckpoint(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clock := testutil.NewFixedClock(time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC))
		a := newApp(t, db, clock)
		ctx := sys(t.Context())
		if _, err := a.CheckpointAudit(ctx); alliance.ErrorCode(err) != alliance.EINVALID {
			t.Fatalf("checkpoint of an empty chain: %v, want invalid", err)
		}
		// A node without an identity signed nothing; it does not make one to check.
		if _, err := a.VerifyAuditCheckpoint(ctx, app.SignedAuditCheckpoint{Seq: 1, Hash: alliance.GenesisHash}, nil); alliance.ErrorCode(err) != alliance.ENOTFOUND {
			t.Errorf("verify on a node without identity: %v, want not found", err)
		}
		auditor := addUser(t, a, "auditor@example.org", "SE-HOTLINE", "auditor")
		addUser(t, a, "analyst@example.org", "SE-HOTLINE", "analyst")

		// Only the node itself signs.
		if _, err := a.CheckpointAudit(alliance.NewContextWithActor(t.Context(), auditor.Actor())); alliance.ErrorCode(err) != alliance.EFORBIDDEN {
			t.Errorf("checkpoint as an auditor: %v, want forbidden", err)
		}
		cp, err := a.CheckpointAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id, err := a.NodeIdentity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Seq != 2 || cp.NodeID != id.NodeID || !cp.Time.Equal(clock.Now().Truncate(time.Microsecond)) || cp.Signature == "" {
			t.Errorf("checkpoint = %+v", cp)
		}
		// An auditor may verify one, against the node's key or a given one.
		actx := alliance.NewContextWithActor(t.Context(), auditor.Actor())
		for _, key := range [][]byte{nil, id.Public()} {
			if v, err := a.VerifyAuditCheckpoint(actx, cp, key); err != nil || !v.OK || v.HeadSeq != 2 {
				t.Errorf("verify with key %x: %+v, %v", key, v, err)
			}
		}
		other, err := federation.NewIdentity("SE")
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.VerifyAuditCheckpoint(actx, cp, other.Public())
		if !errors.Is(err, app.ErrCheckpointSignature) || !errors.Is(err, federation.ErrBadSignature) {
			t.Errorf("verify with another key: %v, want a signature error", err)
		}
		forged := cp
		forged.Hash = alliance.GenesisHash
		if _, err := a.VerifyAuditCheckpoint(actx, forged, nil); !errors.Is(err, app.ErrCheckpointSignature) {
			t.Errorf("verify a changed checkpoint: %v, want a signature error", err)
		}
	})
}
