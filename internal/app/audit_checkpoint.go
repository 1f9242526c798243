package app

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"alliance"
	"alliance/internal/federation"
	"alliance/internal/store"
)

// KindAuditCheckpoint is the object kind a checkpoint is signed as. It is
// never put on the federation feed; the kind keeps a checkpoint's signature
// from being taken for any object a peer accepts.
const KindAuditCheckpoint = "audit_checkpoint"

// SignedAuditCheckpoint is a checkpoint of the audit chain's head signed
// with the node's Ed25519 identity key, as `alliance audit checkpoint`
// writes it. Kept away from the database, it lets `alliance audit verify
// --checkpoint` show that the chain up to Seq was not rewritten since.
//
// The signature is the one of the federation object (federation.Sign) of
// kind KindAuditCheckpoint, id "audit_checkpoint:SEQ", origin NodeID,
// created Time and body {"hash":…,"seq":…}: it covers the RFC 8785
// canonical form of those, so the file's layout and spacing do not matter.
type SignedAuditCheckpoint struct {
	NodeID    string    `json:"node_id"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Signature string    `json:"sig"` // base64 (standard, no padding) Ed25519
}

// Checkpoint returns the row the checkpoint pins.
func (s SignedAuditCheckpoint) Checkpoint() alliance.AuditCheckpoint {
	return alliance.AuditCheckpoint{Seq: s.Seq, Hash: s.Hash}
}

// object is the federation object whose signature s carries.
func (s SignedAuditCheckpoint) object() (federation.Object, error) {
	body, err := json.Marshal(s.Checkpoint())
	if err != nil {
		return federation.Object{}, fmt.Errorf("app: audit checkpoint: %w", err)
	}
	return federation.Object{
		Kind: KindAuditCheckpoint, ID: KindAuditCheckpoint + ":" + strconv.FormatInt(s.Seq, 10),
		Origin: s.NodeID, Created: s.Time, Body: body, Signature: s.Signature,
	}, nil
}

// CheckpointAudit verifies the whole audit chain and returns its head signed
// with the node's identity key (made at first use, as for federation). Only
// the node itself (the operator's command line) may sign. A broken or empty
// chain gets no checkpoint: signing it would vouch for the damage.
func (a *App) CheckpointAudit(ctx context.Context) (SignedAuditCheckpoint, error) {
	actor, err := require(ctx, alliance.PermVerifyAudit)
	if err != nil {
		return SignedAuditCheckpoint{}, err
	}
	if !actor.System {
		return SignedAuditCheckpoint{}, alliance.Errorf(alliance.EFORBIDDEN, "Only the node itself signs audit checkpoints.")
	}
	v, err := a.db.VerifyAudit(ctx)
	if err != nil {
		return SignedAuditCheckpoint{}, fmt.Errorf("app: audit checkpoint: %w", err)
	}
	switch {
	case !v.OK:
		return SignedAuditCheckpoint{}, alliance.Errorf(alliance.ECONFLICT,
			"The audit chain is broken at row %d (%s); no checkpoint was made.", v.BrokenAt, v.Reason)
	case v.HeadSeq == 0:
		return SignedAuditCheckpoint{}, alliance.Errorf(alliance.EINVALID, "The audit chain is empty; there is nothing to checkpoint.")
	}
	id, err := a.NodeIdentity(ctx)
	if err != nil {
		return SignedAuditCheckpoint{}, err
	}
	cp := SignedAuditCheckpoint{Seq: v.HeadSeq, Hash: v.HeadHash, Time: a.now()}
	o, err := cp.object()
	if err != nil {
		return SignedAuditCheckpoint{}, err
	}
	if err := federation.Sign(&o, id); err != nil {
		return SignedAuditCheckpoint{}, fmt.Errorf("app: audit checkpoint: %w", err)
	}
	cp.NodeID, cp.Time, cp.Signature = o.Origin, o.Created, o.Signature
	return cp, nil
}

// ErrCheckpointSignature marks a checkpoint whose signature does not hold
// for the key it is checked against: a changed field, another node's key, a
// malformed signature. The federation error it comes with says which.
var ErrCheckpointSignature = errors.New("audit checkpoint signature is not valid")

// VerifyAuditCheckpoint checks cp's signature against key, or against this
// node's own identity key when key is nil, and then the whole audit chain
// with cp's row pinned: besides everything VerifyAudit finds, the chain
// breaks at cp.Seq when that row is gone or differs from the checkpoint.
//
// A bad signature is an error wrapping ErrCheckpointSignature, before any
// row is read. The node's own key is as trustworthy as the database it is
// kept in; a key kept elsewhere (`alliance node` prints it) also holds
// against someone who replaced the key in the database.
func (a *App) VerifyAuditCheckpoint(ctx context.Context, cp SignedAuditCheckpoint, key ed25519.PublicKey) (alliance.AuditVerification, error) {
	if _, err := require(ctx, alliance.PermVerifyAudit); err != nil {
		return alliance.AuditVerification{}, err
	}
	if key == nil {
		var err error
		if key, err = a.nodePublicKey(ctx); err != nil {
			return alliance.AuditVerification{}, err
		}
	}
	o, err := cp.object()
	if err != nil {
		return alliance.AuditVerification{}, err
	}
	if err := federation.Verify(o, key); err != nil {
		return alliance.AuditVerification{}, fmt.Errorf("%w (checkpoint of row %d, key %s): %w",
			ErrCheckpointSignature, cp.Seq, federation.EncodePublicKey(key), err)
	}
	if err := cp.Checkpoint().Validate(); err != nil {
		return alliance.AuditVerification{}, err
	}
	v, err := a.db.VerifyAudit(ctx, cp.Checkpoint())
	if err != nil {
		return v, fmt.Errorf("app: verify audit checkpoint: %w", err)
	}
	return v, nil
}

// nodePublicKey returns the public key of the node's identity without
// making one: a node without an identity cannot have signed anything.
func (a *App) nodePublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	var priv []byte
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		_, _, priv, err = tx.NodeIdentity(ctx)
		return err
	})
	if alliance.ErrorCode(err) == alliance.ENOTFOUND {
		return nil, alliance.Errorf(alliance.ENOTFOUND,
			"This node has no identity key yet, so it signed no checkpoint; give the signing node's key.")
	}
	if err != nil {
		return nil, fmt.Errorf("app: node public key: %w", err)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("app: node public key: stored key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	return ed25519.PrivateKey(priv).Public().(ed25519.PublicKey), nil
}
