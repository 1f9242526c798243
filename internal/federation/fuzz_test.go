package federation

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzVerifyObject decodes arbitrary JSON as an Object and verifies it
// against a fixed key: no input may panic, every failure must wrap one of
// the package's errors, and an object that verifies must still verify
// after a JSON round trip. The seed corpus in testdata/fuzz holds objects
// signed with testIdentity(SE, 1), valid and damaged.
func FuzzVerifyObject(f *testing.F) {
	se := testIdentity(f, "SE", 1)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"kind":"bank_entry","id":"a:1","origin":"` + se.NodeID + `","created":"2026-01-01T00:00:00Z","body":{"a":[1,2,{"b":null}]},"sig":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Object
		if err := json.Unmarshal(data, &o); err != nil {
			return
		}
		err := Verify(o, se.Public())
		if err != nil {
			if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrInvalidObject) {
				t.Fatalf("Verify error wraps no sentinel: %v", err)
			}
			return
		}
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("marshal a verified object: %v", err)
		}
		var back Object
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("unmarshal a verified object: %v", err)
		}
		if err := Verify(back, se.Public()); err != nil {
			t.Fatalf("verified object fails after a round trip: %v\n%s", err, raw)
		}
	})
}
