package alliance_test

import (
	"strings"
	"testing"

	"alliance"
)

// TestAuditCheckpointPin: a pinned row must be reached with the pinned hash.
func TestAuditCheckpointPin(t *testing.T) {
	rows := chain(5)
	rewritten := chain(5)
	rewritten[1].ObjectID = "rewritten"
	for i := 1; i < len(rewritten); i++ {
		rewritten[i].PrevHash = rewritten[i-1].Hash
		rewritten[i].Hash = rewritten[i].ComputeHash()
	}
	pin := alliance.AuditCheckpoint{Seq: 4, Hash: rows[3].Hash}
	tests := []struct {
		name   string
		rows   []alliance.AuditEvent
		broken int64
		reason string
	}{
		{"intact", rows, 0, ""},
		{"rows after the pin added", append(append([]alliance.AuditEvent(nil), rows...), chain(6)[5]), 0, ""},
		{"rewritten and rehashed", rewritten, 4, "does not match the checkpoint"},
		{"cut short before the pin", rows[:3], 4, "checkpointed row missing: the chain ends at row 3"},
		{"empty", nil, 4, "checkpointed row missing: the chain ends at row 0"},
		{"broken before the pin", func() []alliance.AuditEvent {
			r := chain(5)
			r[1].Action = "x"
			return r
		}(), 2, "row content does not match its hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := alliance.NewAuditChecker()
			c.Pin(pin)
			for _, e := range tt.rows {
				c.Check(e)
			}
			v := c.Finish()
			if v.BrokenAt != tt.broken || v.OK != (tt.broken == 0) || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("got %+v, want broken at %d (%q)", v, tt.broken, tt.reason)
			}
			if v.OK && (v.HeadSeq != int64(len(tt.rows)) || v.HeadHash != tt.rows[len(tt.rows)-1].Hash) {
				t.Errorf("head = %d %s, want the last row", v.HeadSeq, v.HeadHash)
			}
		})
	}
}

func TestAuditCheckpointValidate(t *testing.T) {
	good := chain(1)[0].Hash
	tests := []struct {
		cp alliance.AuditCheckpoint
		ok bool
	}{
		{alliance.AuditCheckpoint{Seq: 1, Hash: good}, true},
		{alliance.AuditCheckpoint{Seq: 0, Hash: good}, false},
		{alliance.AuditCheckpoint{Seq: 1, Hash: strings.ToUpper(good)}, false},
		{alliance.AuditCheckpoint{Seq: 1, Hash: good[:62]}, false},
		{alliance.AuditCheckpoint{Seq: 1, Hash: ""}, false},
	}
	for _, tt := range tests {
		if err := tt.cp.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tt.cp, err, tt.ok)
		} else if err != nil && alliance.ErrorCode(err) != alliance.EINVALID {
			t.Errorf("Validate(%+v): code %q, want invalid", tt.cp, alliance.ErrorCode(err))
		}
	}
}
