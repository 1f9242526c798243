package alliance

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// AuditEvent is one row of the audit log: who did what to which object, when,
// in which request. Rows form a hash chain: each stores the hash of the row
// before it and a hash over its own content and that link, so editing,
// deleting or reordering any row breaks the chain from that row on.
type AuditEvent struct {
	Seq        int64 // 1, 2, 3, … with no gaps
	Time       time.Time
	ActorID    int64  // user id; 0 for anonymous and system
	ActorLabel string // e-mail, "anonymous" or "system"
	OrgCode    string // the organisation acted for
	Action     string // e.g. "user.create", "report.read"
	ObjectType string // e.g. "user", "report"
	ObjectID   string
	RequestID  string
	PrevHash   string // hex SHA-256 of the previous row; GenesisHash for the first
	Hash       string // hex SHA-256 of this row's content and PrevHash
}

// GenesisHash is the PrevHash of the first audit row.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ComputeHash returns the chain hash of e given its PrevHash. Each field is
// length-prefixed so that no two different rows can serialise the same way.
// Time is hashed at microsecond precision in UTC, the precision both
// databases keep.
func (e AuditEvent) ComputeHash() string {
	h := sha256.New()
	var buf [8]byte
	writeInt := func(v int64) {
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	writeStr := func(s string) {
		writeInt(int64(len(s)))
		h.Write([]byte(s))
	}
	writeStr("alliance-audit-v1")
	writeInt(e.Seq)
	writeInt(e.Time.UTC().Truncate(time.Microsecond).UnixMicro())
	writeInt(e.ActorID)
	writeStr(e.ActorLabel)
	writeStr(e.OrgCode)
	writeStr(e.Action)
	writeStr(e.ObjectType)
	writeStr(e.ObjectID)
	writeStr(e.RequestID)
	writeStr(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditVerification is the outcome of checking the audit chain.
type AuditVerification struct {
	Rows     int64  // rows checked
	OK       bool   // every link and every row hash holds
	BrokenAt int64  // Seq of the first row that fails; 0 when OK
	Reason   string // why that row fails
	HeadSeq  int64  // Seq of the last row when OK
	HeadHash string // hash of the last row when OK
}

// AuditCheckpoint pins one row of the chain: row Seq has hash Hash. Because
// each hash covers the row before it, the pin covers every row up to Seq.
// Kept outside the database (signed by the node, see `alliance audit
// checkpoint`), it exposes what the chain alone cannot: rows removed from
// the end together with the head, or rows before Seq rewritten with every
// hash after them recomputed.
type AuditCheckpoint struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Validate checks the checkpoint's shape: Seq of at least 1 and Hash of 64
// lower-case hex digits.
func (cp AuditCheckpoint) Validate() error {
	if cp.Seq < 1 {
		return Errorf(EINVALID, "The checkpoint names row %d; rows start at 1.", cp.Seq)
	}
	if b, err := hex.DecodeString(cp.Hash); err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != cp.Hash {
		return Errorf(EINVALID, "The checkpoint hash %.80q is not 64 lower-case hex digits.", cp.Hash)
	}
	return nil
}

// AuditChecker verifies rows one at a time, in Seq order, with constant memory.
type AuditChecker struct {
	prevSeq  int64
	prevHash string
	pins     []AuditCheckpoint
	result   AuditVerification
}

// NewAuditChecker starts a verification at the genesis of the chain.
func NewAuditChecker() *AuditChecker {
	return &AuditChecker{prevHash: GenesisHash, result: AuditVerification{OK: true}}
}

// Pin adds a checkpoint the chain must still hold: row cp.Seq must have
// hash cp.Hash (checked by Check) and must be reached (checked by Finish).
func (c *AuditChecker) Pin(cp AuditCheckpoint) {
	c.pins = append(c.pins, cp)
}

// Check verifies the next row. It returns false once the chain is broken;
// further rows are then ignored.
func (c *AuditChecker) Check(e AuditEvent) bool {
	if !c.result.OK {
		return false
	}
	c.result.Rows++
	fail := func(reason string) bool {
		c.result.OK, c.result.BrokenAt, c.result.Reason = false, e.Seq, reason
		return false
	}
	switch {
	case e.Seq != c.prevSeq+1:
		// A deleted or reordered row shows as a gap or a step back in Seq.
		return fail("sequence gap: expected row " + strconv.FormatInt(c.prevSeq+1, 10))
	case e.PrevHash != c.prevHash:
		return fail("link to previous row does not match")
	case e.ComputeHash() != e.Hash:
		return fail("row content does not match its hash")
	}
	for _, p := range c.pins {
		if p.Seq == e.Seq && p.Hash != e.Hash {
			// The row is consistent with the rows before it, so they
			// were rewritten and the chain recomputed since the
			// checkpoint (or the checkpoint is of another chain).
			return fail("row does not match the checkpoint (hash " + p.Hash + "): the chain up to it was rewritten")
		}
	}
	c.prevSeq, c.prevHash = e.Seq, e.Hash
	return true
}

// Result returns the verification so far.
func (c *AuditChecker) Result() AuditVerification {
	r := c.result
	if r.OK {
		r.HeadSeq, r.HeadHash = c.prevSeq, c.prevHash
	}
	return r
}

// Finish returns the verification after the last row: like Result, but a
// pinned row the chain never reached breaks it at that row.
func (c *AuditChecker) Finish() AuditVerification {
	r := c.Result()
	if !r.OK {
		return r
	}
	var missing int64
	for _, p := range c.pins {
		if p.Seq > c.prevSeq && (missing == 0 || p.Seq < missing) {
			missing = p.Seq
		}
	}
	if missing != 0 {
		r.OK, r.BrokenAt, r.HeadSeq, r.HeadHash = false, missing, 0, ""
		r.Reason = "checkpointed row missing: the chain ends at row " + strconv.FormatInt(c.prevSeq, 10)
	}
	return r
}
