package federation

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// Limits on one object. A peer's object over a limit is rejected whole.
const (
	// MaxBodyBytes bounds an object's Body.
	MaxBodyBytes = 1 << 20
	// MaxKindLen bounds an object's Kind.
	MaxKindLen = 200
	// MaxIDLen bounds an object's ID.
	MaxIDLen = 200
)

// Sentinel errors. Functions wrap them with detail; test with errors.Is.
var (
	// ErrBadSignature: a signature is missing, malformed, made with another
	// key, or the signed data was changed after signing.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownPeer: the node id is not a known peer (no key for it).
	ErrUnknownPeer = errors.New("unknown peer")
	// ErrReplay: a request nonce was already seen (or could not be recorded).
	ErrReplay = errors.New("replayed request")
	// ErrSkew: a request date is too far from the verifier's clock.
	ErrSkew = errors.New("request date outside allowed clock skew")
	// ErrBadRequest: a signed request lacks a header or has a malformed one.
	ErrBadRequest = errors.New("malformed signed request")
	// ErrInvalidObject: an object breaks a limit or has a malformed field
	// (before any signature is checked).
	ErrInvalidObject = errors.New("invalid object")
	// ErrBadResponse: a peer's feed response is malformed or over a limit.
	ErrBadResponse = errors.New("bad feed response")
)

// Object is one signed feed object. Body is the kind's JSON payload, opaque
// to this package (but it must be valid JSON of at most [MaxBodyBytes]).
//
// The signature covers the RFC 8785 (JCS) canonical form of the object
// without "sig"; see [SigningBytes]. Created enters that form as UTC
// RFC 3339 with up to nine fractional digits (time.RFC3339Nano), so the
// instant is signed, not its time zone; [Sign] truncates Created to whole
// microseconds first, so the value survives a round trip through
// PostgreSQL or SQLite timestamps unchanged.
type Object struct {
	Kind      string          `json:"kind"`         // e.g. "bank_entry", "bank_tombstone", "item_forward", "item_status", "series_status"
	ID        string          `json:"id"`           // unique per origin, e.g. "bank_entry:SE-HOTLINE/known:123:v2"
	Origin    string          `json:"origin"`       // node id of the origin
	To        string          `json:"to,omitempty"` // node id of the one addressee, or "" for every peer the agreement allows
	Created   time.Time       `json:"created"`
	Body      json.RawMessage `json:"body"`
	Signature string          `json:"sig"` // base64 (standard, no padding) Ed25519 over SigningBytes
}

// signedForm is what the signature covers: the object without "sig", with
// Created fixed to UTC text.
type signedForm struct {
	Kind    string          `json:"kind"`
	ID      string          `json:"id"`
	Origin  string          `json:"origin"`
	To      string          `json:"to,omitempty"`
	Created string          `json:"created"`
	Body    json.RawMessage `json:"body"`
}

// Validate checks an object's fields against the limits, without checking
// its signature: kind of [a-z0-9_.-] up to [MaxKindLen], id of printable
// UTF-8 without control characters up to [MaxIDLen], origin and To (when
// set) shaped as node ids, Created set, Body valid JSON up to
// [MaxBodyBytes]. Errors wrap [ErrInvalidObject].
func (o Object) Validate() error {
	switch {
	case o.Kind == "" || len(o.Kind) > MaxKindLen || !validKind(o.Kind):
		return fmt.Errorf("federation: object %.200q: kind %.200q must be 1-%d of [a-z0-9_.-]: %w", o.ID, o.Kind, MaxKindLen, ErrInvalidObject)
	case o.ID == "" || len(o.ID) > MaxIDLen || !validText(o.ID):
		return fmt.Errorf("federation: object id %.200q must be 1-%d bytes of printable UTF-8: %w", o.ID, MaxIDLen, ErrInvalidObject)
	case !ValidNodeID(o.Origin):
		return fmt.Errorf("federation: object %q: origin %.200q is not a node id: %w", o.ID, o.Origin, ErrInvalidObject)
	case o.To != "" && !ValidNodeID(o.To):
		return fmt.Errorf("federation: object %q: to %.200q is not a node id: %w", o.ID, o.To, ErrInvalidObject)
	case o.Created.IsZero():
		return fmt.Errorf("federation: object %q: created is not set: %w", o.ID, ErrInvalidObject)
	case len(o.Body) > MaxBodyBytes:
		return fmt.Errorf("federation: object %q: body is %d bytes, limit %d: %w", o.ID, len(o.Body), MaxBodyBytes, ErrInvalidObject)
	case len(o.Body) == 0 || !json.Valid(o.Body):
		return fmt.Errorf("federation: object %q: body is not valid JSON: %w", o.ID, ErrInvalidObject)
	}
	return nil
}

// SigningBytes returns the bytes an object's signature covers: the JCS
// canonical form of the object without "sig". The object must pass
// [Object.Validate].
func SigningBytes(o Object) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(signedForm{
		Kind:    o.Kind,
		ID:      o.ID,
		Origin:  o.Origin,
		To:      o.To,
		Created: o.Created.UTC().Format(time.RFC3339Nano),
		Body:    o.Body,
	})
	if err != nil {
		return nil, fmt.Errorf("federation: object %q: marshal: %w: %w", o.ID, ErrInvalidObject, err)
	}
	canon, err := jcs.Transform(raw)
	if err != nil {
		// I-JSON rules json.Valid does not enforce (duplicate keys, lone
		// surrogates) end here.
		return nil, fmt.Errorf("federation: object %q: canonical JSON: %w: %w", o.ID, ErrInvalidObject, err)
	}
	return canon, nil
}

// Sign sets o.Origin to id.NodeID, normalises o.Created (which the caller
// must set) to UTC whole microseconds, and sets o.Signature.
func Sign(o *Object, id Identity) error {
	if err := id.check(); err != nil {
		return err
	}
	o.Origin = id.NodeID
	o.Created = o.Created.UTC().Truncate(time.Microsecond)
	msg, err := SigningBytes(*o)
	if err != nil {
		return fmt.Errorf("federation: sign: %w", err)
	}
	o.Signature = base64.RawStdEncoding.EncodeToString(ed25519.Sign(id.Private, msg))
	return nil
}

// Verify checks o's signature against origin, the public key of the node
// named in o.Origin. A key whose node id is not o.Origin, a changed field
// or a malformed signature give an error wrapping [ErrBadSignature]; a
// field over a limit gives one wrapping [ErrInvalidObject].
func Verify(o Object, origin ed25519.PublicKey) error {
	if len(origin) != ed25519.PublicKeySize {
		return fmt.Errorf("federation: verify object %.200q: public key is %d bytes: %w", o.ID, len(origin), ErrBadSignature)
	}
	msg, err := SigningBytes(o)
	if err != nil {
		return fmt.Errorf("federation: verify: %w", err)
	}
	if id := NodeIDOf(origin); id != o.Origin {
		return fmt.Errorf("federation: verify object %q: origin %q is not the node of the key (%q): %w", o.ID, o.Origin, id, ErrBadSignature)
	}
	sig, err := decodeSignature(o.Signature)
	if err != nil {
		return fmt.Errorf("federation: verify object %q: %w", o.ID, err)
	}
	if !ed25519.Verify(origin, msg, sig) {
		return fmt.Errorf("federation: verify object %q from %s: %w", o.ID, o.Origin, ErrBadSignature)
	}
	return nil
}

// decodeSignature decodes standard base64 without padding into a 64-byte
// Ed25519 signature; anything else wraps ErrBadSignature.
func decodeSignature(s string) ([]byte, error) {
	if len(s) != base64.RawStdEncoding.EncodedLen(ed25519.SignatureSize) {
		return nil, fmt.Errorf("signature is %d characters, want %d: %w", len(s), base64.RawStdEncoding.EncodedLen(ed25519.SignatureSize), ErrBadSignature)
	}
	sig, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("signature is not base64: %w", ErrBadSignature)
	}
	return sig, nil
}

// validKind accepts [a-z0-9_.-].
func validKind(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validText accepts valid UTF-8 without control characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
