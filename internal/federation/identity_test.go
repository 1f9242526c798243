package federation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewIdentity(t *testing.T) {
	a, err := NewIdentity("SE")
	if err != nil {
		t.Fatalf("NewIdentity: %v", err)
	}
	b, err := NewIdentity("NL")
	if err != nil {
		t.Fatalf("NewIdentity: %v", err)
	}
	if a.NodeID == b.NodeID {
		t.Fatalf("two new identities share node id %s", a.NodeID)
	}
	for _, id := range []Identity{a, b} {
		if !ValidNodeID(id.NodeID) {
			t.Errorf("node id %q is not valid", id.NodeID)
		}
		if got := NodeIDOf(id.Public()); got != id.NodeID {
			t.Errorf("NodeIDOf(public) = %q, want %q", got, id.NodeID)
		}
		if len(id.NodeID) != len("node-")+26 || strings.ToLower(id.NodeID) != id.NodeID || strings.Contains(id.NodeID, "=") {
			t.Errorf("node id %q: want node- and 26 lower-case base32 characters", id.NodeID)
		}
	}
	if a.Country != "SE" {
		t.Errorf("country = %q, want SE", a.Country)
	}

	// The same seed gives the same identity (restart), a stored seed too.
	again, err := IdentityFromSeed("SE", a.Private.Seed())
	if err != nil {
		t.Fatalf("IdentityFromSeed: %v", err)
	}
	if again.NodeID != a.NodeID || !bytes.Equal(again.Private, a.Private) {
		t.Errorf("identity from seed differs: %s vs %s", again.NodeID, a.NodeID)
	}
}

func TestIdentityBadInput(t *testing.T) {
	for _, c := range []string{"", "se", "SWE", "S1", "ÖS"} {
		t.Run("country "+c, func(t *testing.T) {
			if _, err := NewIdentity(c); err == nil {
				t.Errorf("NewIdentity(%q) succeeded", c)
			}
		})
	}
	if _, err := IdentityFromSeed("SE", make([]byte, 31)); err == nil {
		t.Error("IdentityFromSeed with a 31-byte seed succeeded")
	}
	if (Identity{}).Public() != nil {
		t.Error("Public of an empty identity is not nil")
	}
}

func TestPublicKeyRoundTrip(t *testing.T) {
	id := testIdentity(t, "SE", 1)
	text := EncodePublicKey(id.Public())
	if !strings.HasPrefix(text, "ed25519:") || len(text) != len("ed25519:")+43 {
		t.Fatalf("EncodePublicKey = %q, want ed25519: and 43 base64 characters", text)
	}
	padded := "ed25519:" + base64.StdEncoding.EncodeToString(id.Public())
	for _, in := range []string{text, padded, "  " + text + "\n"} {
		got, err := ParsePublicKey(in)
		if err != nil {
			t.Fatalf("ParsePublicKey(%q): %v", in, err)
		}
		if !got.Equal(id.Public()) {
			t.Errorf("ParsePublicKey(%q) = %x, want %x", in, got, id.Public())
		}
	}
}

func TestParsePublicKeyBad(t *testing.T) {
	key := testIdentity(t, "SE", 1).Public()
	b64 := base64.RawStdEncoding.EncodeToString(key)
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "must start with"},
		{"no prefix", b64, "must start with"},
		{"wrong prefix", "rsa:" + b64, "must start with"},
		{"upper-case prefix", "ED25519:" + b64, "must start with"},
		{"url alphabet", "ed25519:" + strings.NewReplacer("+", "-", "/", "_").Replace(b64) + "-_", "not standard base64"},
		{"bad characters", "ed25519:" + b64[:40] + "!!!", "not standard base64"},
		{"short", "ed25519:" + base64.RawStdEncoding.EncodeToString(key[:31]), "31 bytes, want 32"},
		{"long", "ed25519:" + base64.RawStdEncoding.EncodeToString(append(bytes.Clone(key), 0)), "33 bytes, want 32"},
		{"huge", "ed25519:" + strings.Repeat("A", 300), "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParsePublicKey(c.in)
			if err == nil {
				t.Fatalf("ParsePublicKey(%q) = %x, want error", c.in, got)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestValidNodeID(t *testing.T) {
	good := NodeIDOf(ed25519.PublicKey(make([]byte, 32)))
	cases := map[string]bool{
		good:                              true,
		"":                                false,
		"node-":                           false,
		strings.ToUpper(good):             false,
		"peer-" + good[5:]:                false,
		good + "a":                        false,
		good[:len(good)-1] + "1":          false, // '1' is not in the alphabet
		good[:len(good)-1] + "b":          false, // non-canonical trailing bits
		"node-" + strings.Repeat("a", 26): true,
	}
	for in, want := range cases {
		if got := ValidNodeID(in); got != want {
			t.Errorf("ValidNodeID(%q) = %v, want %v", in, got, want)
		}
	}
}
