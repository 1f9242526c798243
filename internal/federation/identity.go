package federation

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
)

// nodeIDPrefix starts every node id; the rest is 26 base32 characters
// (16 bytes of the key's SHA-256), which makes ids self-certifying.
const nodeIDPrefix = "node-"

// publicKeyPrefix starts every textual public key, naming the algorithm so
// that a later key type can be told apart.
const publicKeyPrefix = "ed25519:"

// nodeIDEncoding is lower-case base32 without padding: ids appear in URLs,
// logs and file names, where case and '=' are a nuisance.
var nodeIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// nodeIDLen is len("node-") plus the base32 length of 16 bytes.
var nodeIDLen = len(nodeIDPrefix) + nodeIDEncoding.EncodedLen(16)

// Identity is a node's signing identity: its node id (derived from the
// public key), its country and its Ed25519 private key.
type Identity struct {
	NodeID  string
	Country string
	Private ed25519.PrivateKey
}

// NewIdentity creates an identity with a fresh key from crypto/rand for a
// node in country (ISO 3166-1 alpha-2, upper case, e.g. "SE").
func NewIdentity(country string) (Identity, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return Identity{}, fmt.Errorf("federation: new identity: %w", err)
	}
	return IdentityFromSeed(country, seed)
}

// IdentityFromSeed rebuilds an identity from a stored 32-byte key seed
// (Private.Seed()), so a node keeps its identity across restarts.
func IdentityFromSeed(country string, seed []byte) (Identity, error) {
	if !validCountry(country) {
		return Identity{}, fmt.Errorf("federation: identity: country %q is not two upper-case letters", country)
	}
	if len(seed) != ed25519.SeedSize {
		return Identity{}, fmt.Errorf("federation: identity: seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return Identity{
		NodeID:  NodeIDOf(priv.Public().(ed25519.PublicKey)),
		Country: country,
		Private: priv,
	}, nil
}

// Public returns the identity's public key, or nil when the private key is
// missing or malformed.
func (id Identity) Public() ed25519.PublicKey {
	if len(id.Private) != ed25519.PrivateKeySize {
		return nil
	}
	return id.Private.Public().(ed25519.PublicKey)
}

// check reports whether the identity can sign: a well-formed key whose node
// id matches. Signing with a mismatched id would produce objects no peer
// accepts, so it fails early instead.
func (id Identity) check() error {
	if len(id.Private) != ed25519.PrivateKeySize {
		return fmt.Errorf("federation: identity %q: private key is %d bytes, want %d", id.NodeID, len(id.Private), ed25519.PrivateKeySize)
	}
	if want := NodeIDOf(id.Public()); id.NodeID != want {
		return fmt.Errorf("federation: identity: node id %q does not match its key (want %q)", id.NodeID, want)
	}
	return nil
}

// NodeIDOf returns the node id of a public key: "node-" followed by the
// first 16 bytes of SHA-256(key) in lower-case base32 without padding.
func NodeIDOf(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return nodeIDPrefix + nodeIDEncoding.EncodeToString(sum[:16])
}

// ValidNodeID reports whether s has the shape of a node id. It does not say
// whether any node has that id.
func ValidNodeID(s string) bool {
	if len(s) != nodeIDLen || !strings.HasPrefix(s, nodeIDPrefix) {
		return false
	}
	b, err := nodeIDEncoding.DecodeString(s[len(nodeIDPrefix):])
	return err == nil && len(b) == 16 && nodeIDEncoding.EncodeToString(b) == s[len(nodeIDPrefix):]
}

// EncodePublicKey returns the textual form of a public key:
// "ed25519:" followed by standard base64 without padding (43 characters).
// This is what `alliance peer add --key` takes.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return publicKeyPrefix + base64.RawStdEncoding.EncodeToString(pub)
}

// ParsePublicKey parses the form written by [EncodePublicKey]. Trailing '='
// padding and surrounding spaces are tolerated, since keys are pasted by
// people.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return nil, fmt.Errorf("federation: parse public key: %d characters is too long", len(s))
	}
	rest, ok := strings.CutPrefix(s, publicKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("federation: parse public key %q: must start with %q", s, publicKeyPrefix)
	}
	rest = strings.TrimRight(rest, "=")
	b, err := base64.RawStdEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("federation: parse public key %q: not standard base64: %w", s, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("federation: parse public key %q: %d bytes, want %d", s, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// validCountry accepts two upper-case ASCII letters.
func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}
