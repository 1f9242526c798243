package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FeedPath is the path of a node's feed, below its base URL.
const FeedPath = "/federation/v1/feed"

// DefaultMaxPage bounds a feed response when Client.MaxPage is zero.
const DefaultMaxPage = 16 << 20

// MaxCursorLen bounds the opaque cursor a peer returns in Page.Next.
const MaxCursorLen = 1024

// Page is one page of a feed: objects after the requested cursor, the
// cursor to ask for next, and whether more objects are waiting.
type Page struct {
	Objects []Object `json:"objects"`
	Next    string   `json:"next"`
	More    bool     `json:"more"`
}

// defaultHTTP is used when Client.HTTP is nil: a whole-request timeout
// so that a stalled peer cannot hold a pull loop forever.
var defaultHTTP = &http.Client{Timeout: 2 * time.Minute}

// Client pulls peers' feeds as Identity.
type Client struct {
	// HTTP sends the requests; nil means a client with a 2-minute timeout.
	HTTP *http.Client
	// Identity signs the requests.
	Identity Identity
	// Now is the clock for request dates; nil means time.Now.
	Now func() time.Time
	// MaxPage bounds a response body in bytes; 0 means DefaultMaxPage.
	MaxPage int64
	// KeyOf returns the key of an origin other than the peer itself, for
	// objects the peer relays unchanged from other nodes. Nil, or false,
	// rejects such objects (and so their page) with ErrUnknownPeer.
	KeyOf func(nodeID string) (ed25519.PublicKey, bool)
}

// Pull fetches one page of the feed at baseURL after cursor after (""
// for the start), asking for at most limit objects (0 lets the peer
// choose). peerKey is the peer's public key. Every object is checked
// before Pull returns: its fields against the limits, its signature
// against its origin (peerKey when the origin is the peer, KeyOf
// otherwise), and its addressee (To must be empty or this node). One bad
// object fails the whole page, with the object's id in the error, so the
// caller applies all of a page or none of it.
//
// Cursors are not signed: use HTTPS between nodes so that nobody in the
// middle can skip objects by changing Next.
func (c *Client) Pull(ctx context.Context, baseURL, after string, limit int, peerKey ed25519.PublicKey) (Page, error) {
	if len(peerKey) != ed25519.PublicKeySize {
		return Page{}, fmt.Errorf("federation: pull %s: peer key is %d bytes, want %d", baseURL, len(peerKey), ed25519.PublicKeySize)
	}
	if limit < 0 {
		return Page{}, fmt.Errorf("federation: pull %s: negative limit %d", baseURL, limit)
	}
	if len(after) > MaxCursorLen {
		return Page{}, fmt.Errorf("federation: pull %s: cursor of %d bytes is over %d", baseURL, len(after), MaxCursorLen)
	}
	base, err := url.Parse(baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return Page{}, fmt.Errorf("federation: pull: base URL %q must be an absolute http(s) URL", baseURL)
	}
	q := url.Values{}
	q.Set("after", after)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	u := *base
	u.Path = strings.TrimRight(base.Path, "/") + FeedPath
	u.RawPath = ""
	u.RawQuery = q.Encode()
	u.Fragment = ""

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Page{}, fmt.Errorf("federation: pull %s: %w", baseURL, err)
	}
	req.Header.Set("Accept", "application/json")
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if err := SignRequest(req, nil, c.Identity, now()); err != nil {
		return Page{}, fmt.Errorf("federation: pull %s: %w", baseURL, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Page{}, fmt.Errorf("federation: pull %s: %w", baseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused; the peer's
		// error text is not echoed, it is the peer's to log.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return Page{}, fmt.Errorf("federation: pull %s: peer answered %s: %w", baseURL, resp.Status, ErrBadResponse)
	}
	max := c.MaxPage
	if max <= 0 {
		max = DefaultMaxPage
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return Page{}, fmt.Errorf("federation: pull %s: read: %w", baseURL, err)
	}
	if int64(len(raw)) > max {
		return Page{}, fmt.Errorf("federation: pull %s: page is over %d bytes: %w", baseURL, max, ErrBadResponse)
	}
	page, err := DecodePage(raw)
	if err != nil {
		return Page{}, fmt.Errorf("federation: pull %s: %w", baseURL, err)
	}
	if limit > 0 && len(page.Objects) > limit {
		return Page{}, fmt.Errorf("federation: pull %s: %d objects, asked for at most %d: %w", baseURL, len(page.Objects), limit, ErrBadResponse)
	}
	peerID := NodeIDOf(peerKey)
	for i, o := range page.Objects {
		key := peerKey
		if o.Origin != peerID {
			var ok bool
			if c.KeyOf != nil {
				key, ok = c.KeyOf(o.Origin)
			}
			if !ok {
				return Page{}, fmt.Errorf("federation: pull %s: object %d %.200q relayed from %.100q: %w", baseURL, i, o.ID, o.Origin, ErrUnknownPeer)
			}
		}
		if err := Verify(o, key); err != nil {
			return Page{}, fmt.Errorf("federation: pull %s: object %d %.200q: %w", baseURL, i, o.ID, err)
		}
		if o.To != "" && o.To != c.Identity.NodeID {
			return Page{}, fmt.Errorf("federation: pull %s: object %d %q is addressed to %s, not this node: %w", baseURL, i, o.ID, o.To, ErrBadResponse)
		}
	}
	return page, nil
}

// DecodePage decodes a feed response. Unknown fields are ignored so that
// a newer peer can add some; trailing data, a cursor over [MaxCursorLen]
// or "more" without "next" are errors wrapping [ErrBadResponse]. It does
// not verify the objects; [Client.Pull] does.
func DecodePage(raw []byte) (Page, error) {
	var p Page
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p); err != nil {
		return Page{}, fmt.Errorf("decode page: %w: %w", ErrBadResponse, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Page{}, fmt.Errorf("decode page: data after the page: %w", ErrBadResponse)
	}
	if len(p.Next) > MaxCursorLen || !validText(p.Next) {
		return Page{}, fmt.Errorf("decode page: next cursor is not up to %d bytes of printable text: %w", MaxCursorLen, ErrBadResponse)
	}
	if p.More && p.Next == "" {
		return Page{}, fmt.Errorf("decode page: more without a next cursor: %w", ErrBadResponse)
	}
	return p, nil
}
