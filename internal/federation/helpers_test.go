package federation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"
)

// testIdentity returns a deterministic identity: the same seed byte gives
// the same key in every run.
func testIdentity(t testing.TB, country string, seedByte byte) Identity {
	t.Helper()
	id, err := IdentityFromSeed(country, bytes.Repeat([]byte{seedByte}, ed25519.SeedSize))
	if err != nil {
		t.Fatalf("IdentityFromSeed: %v", err)
	}
	return id
}

// testTime is a fixed instant with sub-microsecond digits, so tests see
// Sign's truncation.
var testTime = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// signedObject returns an object signed by id.
func signedObject(t testing.TB, id Identity, kind, objID, to, body string) Object {
	t.Helper()
	o := Object{Kind: kind, ID: objID, To: to, Created: testTime, Body: json.RawMessage(body)}
	if err := Sign(&o, id); err != nil {
		t.Fatalf("Sign(%s): %v", objID, err)
	}
	return o
}
