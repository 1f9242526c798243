package federation

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Headers of a signed request between nodes.
const (
	HeaderNode      = "X-Alliance-Node"
	HeaderDate      = "X-Alliance-Date"
	HeaderNonce     = "X-Alliance-Nonce"
	HeaderSignature = "X-Alliance-Signature"
)

// DefaultSkew is the clock skew a [Verifier] allows when Skew is zero.
const DefaultSkew = 5 * time.Minute

// DefaultMaxNonces bounds the in-memory replay set when
// Verifier.MaxNonces is zero: at the default skew that is about 160
// requests a second from all peers together, far above a pull loop's rate.
const DefaultMaxNonces = 100_000

// nonceBytes is the size of a request nonce before base64url encoding.
const nonceBytes = 16

// requestVersion starts the signed string so that a later scheme cannot be
// confused with this one.
const requestVersion = "alliance-request-v1"

// SignRequest signs r as node id at time now: it sets the node, date
// (http.TimeFormat), nonce (16 random bytes, base64url without padding)
// and signature headers. The signature covers the node id, method, host,
// path with query, date, nonce and SHA-256 of body; body must be exactly
// what r sends (nil for none).
func SignRequest(r *http.Request, body []byte, id Identity, now time.Time) error {
	if err := id.check(); err != nil {
		return fmt.Errorf("federation: sign request: %w", err)
	}
	nb := make([]byte, nonceBytes)
	if _, err := rand.Read(nb); err != nil {
		return fmt.Errorf("federation: sign request: nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(nb)
	date := now.UTC().Format(http.TimeFormat)
	if r.URL == nil {
		return fmt.Errorf("federation: sign request: no URL")
	}
	// The server sees r.Host when set, else the URL's host.
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	msg := requestString(id.NodeID, r.Method, host, r.URL.RequestURI(), date, nonce, body)
	r.Header.Set(HeaderNode, id.NodeID)
	r.Header.Set(HeaderDate, date)
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, base64.RawStdEncoding.EncodeToString(ed25519.Sign(id.Private, msg)))
	return nil
}

// requestString is the signed text of a request: one field a line. Host
// is in it so that a peer cannot replay a request it received to a third
// node and read that node's feed as the sender.
func requestString(node, method, host, uri, date, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte(strings.Join([]string{
		requestVersion,
		node,
		strings.ToUpper(method),
		strings.ToLower(host),
		uri,
		date,
		nonce,
		hex.EncodeToString(sum[:]),
	}, "\n"))
}

// Verifier checks signed requests from peers. The zero value of each
// optional field picks the default; a Verifier must not be copied after
// first use.
//
// Replay protection: a nonce is remembered from first use until 2×Skew
// later (a request is accepted only while its date is within Skew, so a
// later replay fails the date check). Without Seen, the set lives in this
// process's memory, bounded by MaxNonces; when full of live nonces new
// requests are refused (ErrReplay) rather than forgetting one. Several
// server processes each keep their own set, so a request replayed to
// another process within the skew would pass unless Seen is backed by a
// store they share (a database table with a unique key on node and nonce).
type Verifier struct {
	// Keys returns the public key of a peer by node id; false rejects the
	// request with ErrUnknownPeer.
	Keys func(nodeID string) (ed25519.PublicKey, bool)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Skew is how far a request's date may be from Now; 0 means DefaultSkew.
	Skew time.Duration
	// Seen, when set, replaces the in-memory replay set: it records the
	// nonce of nodeID until the given time and reports whether it was new.
	Seen func(nodeID, nonce string, until time.Time) (fresh bool)
	// MaxNonces bounds the in-memory replay set; 0 means DefaultMaxNonces.
	MaxNonces int

	mu     sync.Mutex
	nonces map[string]time.Time
	queue  []nonceEntry // insertion order, for expiring the oldest first
}

type nonceEntry struct {
	key   string
	until time.Time
}

// VerifyRequest checks r's signature headers and returns the sender's node
// id. body is the request body, already read by the caller under a size
// limit. Errors wrap ErrBadRequest (missing or malformed header),
// ErrUnknownPeer, ErrSkew, ErrBadSignature or ErrReplay. The nonce is
// recorded only after the signature checks out, so strangers cannot fill
// the replay set.
func (v *Verifier) VerifyRequest(r *http.Request, body []byte) (nodeID string, err error) {
	node := r.Header.Get(HeaderNode)
	date := r.Header.Get(HeaderDate)
	nonce := r.Header.Get(HeaderNonce)
	sigText := r.Header.Get(HeaderSignature)
	switch {
	case node == "" || date == "" || nonce == "" || sigText == "":
		return "", fmt.Errorf("federation: verify request: missing %s, %s, %s or %s header: %w", HeaderNode, HeaderDate, HeaderNonce, HeaderSignature, ErrBadRequest)
	case !ValidNodeID(node):
		return "", fmt.Errorf("federation: verify request: node %.100q is not a node id: %w", node, ErrBadRequest)
	case !validNonce(nonce):
		return "", fmt.Errorf("federation: verify request from %s: nonce is not 16 bytes of base64url: %w", node, ErrBadRequest)
	}
	sent, err := time.Parse(http.TimeFormat, date)
	if err != nil || len(date) > 64 {
		return "", fmt.Errorf("federation: verify request from %s: date %.64q is not in %q form: %w", node, date, http.TimeFormat, ErrBadRequest)
	}
	sig, err := decodeSignature(sigText)
	if err != nil {
		return "", fmt.Errorf("federation: verify request from %s: %w", node, err)
	}
	if v.Keys == nil {
		return "", fmt.Errorf("federation: verify request from %s: verifier has no key directory: %w", node, ErrUnknownPeer)
	}
	key, ok := v.Keys(node)
	if !ok {
		return "", fmt.Errorf("federation: verify request from %s: %w", node, ErrUnknownPeer)
	}
	if len(key) != ed25519.PublicKeySize || NodeIDOf(key) != node {
		// The directory holds a key that is not this node's: treat it as a
		// wrong key rather than trusting the mapping.
		return "", fmt.Errorf("federation: verify request from %s: directory key does not belong to this node: %w", node, ErrBadSignature)
	}
	now := v.now()
	skew := v.skew()
	if d := now.Sub(sent); d > skew || d < -skew {
		return "", fmt.Errorf("federation: verify request from %s: date %s is %s from now (allowed %s): %w", node, date, d.Round(time.Second), skew, ErrSkew)
	}
	if !ed25519.Verify(key, requestString(node, r.Method, r.Host, requestURI(r), date, nonce, body), sig) {
		return "", fmt.Errorf("federation: verify request %s %s from %s: %w", r.Method, requestURI(r), node, ErrBadSignature)
	}
	until := now.Add(2 * skew)
	if v.Seen != nil {
		if !v.Seen(node, nonce, until) {
			return "", fmt.Errorf("federation: verify request from %s: nonce %s: %w", node, nonce, ErrReplay)
		}
		return node, nil
	}
	if err := v.remember(node+" "+nonce, now, until); err != nil {
		return "", fmt.Errorf("federation: verify request from %s: nonce %s: %w", node, nonce, err)
	}
	return node, nil
}

// remember records key in the in-memory replay set, dropping expired
// entries first.
func (v *Verifier) remember(key string, now, until time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.nonces == nil {
		v.nonces = make(map[string]time.Time)
	}
	// Expire from the front. An injected clock may step backwards, so an
	// entry behind the front can outlive its time a little; that only
	// errs on the side of rejecting.
	i := 0
	for ; i < len(v.queue) && !now.Before(v.queue[i].until); i++ {
		if v.nonces[v.queue[i].key].Equal(v.queue[i].until) {
			delete(v.nonces, v.queue[i].key)
		}
	}
	// Re-slicing is enough: append copies only live entries when it
	// outgrows the array.
	v.queue = v.queue[i:]
	if exp, ok := v.nonces[key]; ok && now.Before(exp) {
		return ErrReplay
	}
	max := v.MaxNonces
	if max <= 0 {
		max = DefaultMaxNonces
	}
	if len(v.nonces) >= max {
		return fmt.Errorf("replay set full (%d nonces): %w", max, ErrReplay)
	}
	v.nonces[key] = until
	v.queue = append(v.queue, nonceEntry{key: key, until: until})
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration {
	if v.Skew > 0 {
		return v.Skew
	}
	return DefaultSkew
}

// requestURI is the path and query as sent on the wire. r.RequestURI is
// preferred because handlers such as http.StripPrefix rewrite r.URL but
// not it; requests built in tests without a server have only r.URL.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// validNonce accepts exactly 16 bytes in base64url without padding.
func validNonce(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(nonceBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == nonceBytes
}
