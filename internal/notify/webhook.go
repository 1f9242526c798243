package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"alliance/internal/fetch"
)

// Webhook headers and limits.
const (
	HeaderTimestamp      = "X-Alliance-Timestamp"
	HeaderSignature      = "X-Alliance-Signature"
	HeaderIdempotencyKey = "Idempotency-Key"
	// SignaturePrefix starts the value of HeaderSignature.
	SignaturePrefix = "sha256="
	// MaxWebhookBytes caps the JSON body of a webhook.
	MaxWebhookBytes = 64 << 10
	// DefaultUserAgent is sent with webhooks when WebhookSender.UserAgent is
	// empty.
	DefaultUserAgent = "Alliance-Notice-Sender/1"
	// DefaultSkew is the clock skew Verify allows when given none.
	DefaultSkew = 5 * time.Minute
)

// Errors wrapped by Verify.
var (
	ErrBadSignature = errors.New("notify: webhook signature does not match")
	ErrTimestamp    = errors.New("notify: webhook timestamp missing or outside the allowed skew")
)

// WebhookSender posts notices as signed JSON.
type WebhookSender struct {
	// Post sends the request; normally fetch.Fetcher.Post, the SSRF-guarded
	// client. It returns the response status, and an error only when no
	// final response arrived (or a redirect did). It must call the hook
	// that fetch.WithBeforeSend puts in its context just before sending, as
	// fetch.Fetcher.Post does: that is where the notice's Handover runs.
	Post func(ctx context.Context, url string, body []byte, header http.Header) (status int, err error)
	// Now gives the signature timestamp; nil means time.Now.
	Now func() time.Time
	// UserAgent is sent with every webhook; DefaultUserAgent when empty.
	UserAgent string
	// AllowHTTP lets plain http URLs through, for local test sites and
	// labs; production webhooks must be https.
	AllowHTTP bool
}

// Send posts n.Payload as JSON to n.To, signed with n.Secret. A 2xx answer
// is delivery; 408, 429, 5xx and network failures are transient; other
// 4xx, redirects, invalid URLs and addresses the SSRF guard refuses are
// permanent.
func (w *WebhookSender) Send(ctx context.Context, n Notice) error {
	if err := checkID(n.ID); err != nil {
		return err
	}
	if w.Post == nil {
		return errors.New("notify: webhook sender has no Post function")
	}
	u, err := w.checkURL(n.To)
	if err != nil {
		return err
	}
	target := u.Scheme + "://" + u.Host // paths and queries may hold tokens: kept out of errors
	if len(n.Secret) == 0 {
		return permanentf("notify: webhook %s: contact has no signing secret", target)
	}
	if err := checkSubject(n.Subject); err != nil {
		return err
	}
	if err := checkBody(n.Body); err != nil {
		return err
	}
	p := n.Payload
	switch p.NoticeID {
	case "":
		p.NoticeID = n.ID
	case n.ID:
	default:
		return permanentf("notify: webhook payload notice_id %q differs from notice id %q", p.NoticeID, n.ID)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return permanentf("notify: webhook encode payload: %w", err)
	}
	if len(body) > MaxWebhookBytes {
		return permanentf("notify: webhook payload of %d bytes exceeds %d", len(body), MaxWebhookBytes)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	ua := w.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", ua)
	h.Set(HeaderIdempotencyKey, n.ID)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, SignaturePrefix+Sign(n.Secret, ts, body))

	// The handover is marked when the request's turn at the host has come,
	// not before a wait behind other notices to the same host.
	status, err := w.Post(fetch.WithBeforeSend(ctx, n.handover), u.String(), body, h)
	if err != nil {
		err = fmt.Errorf("notify: webhook %s: %w", target, err)
		if errors.Is(err, fetch.ErrBlocked) || errors.Is(err, fetch.ErrRedirect) {
			return &permanentError{err}
		}
		if errors.Is(err, fetch.ErrNoAnswer) {
			return &unconfirmedError{err}
		}
		return err
	}
	switch {
	case status >= 200 && status <= 299:
		return nil
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return fmt.Errorf("notify: webhook %s: HTTP %d", target, status)
	case status >= 400 && status <= 499:
		return permanentf("notify: webhook %s: HTTP %d", target, status)
	case status >= 300 && status <= 399:
		return permanentf("notify: webhook %s: HTTP %d (redirects are not followed)", target, status)
	}
	return fmt.Errorf("notify: webhook %s: HTTP %d", target, status)
}

// checkURL validates a webhook URL.
func (w *WebhookSender) checkURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, permanentf("notify: webhook url too long (%d bytes)", len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, permanentf("notify: webhook url: %w", err)
	}
	switch {
	case u.Scheme == "https", u.Scheme == "http" && w.AllowHTTP:
	default:
		return nil, permanentf("notify: webhook url scheme %q: https required", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, permanentf("notify: webhook url has no host")
	}
	if u.User != nil {
		return nil, permanentf("notify: webhook url must not carry credentials")
	}
	u.Fragment = ""
	return u, nil
}

// Sign returns the hex HMAC-SHA256 of timestamp + "." + body under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook's signature (with or without the "sha256="
// prefix) and that its timestamp (unix seconds) is within skew of now; skew
// <= 0 means DefaultSkew. Receivers should also remember the
// Idempotency-Key to drop replays within the window.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, skew time.Duration) error {
	if skew <= 0 {
		skew = DefaultSkew
	}
	if len(timestamp) == 0 || len(timestamp) > 20 {
		return ErrTimestamp
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrTimestamp, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > skew || d < -skew {
		return fmt.Errorf("%w: off by %v", ErrTimestamp, d.Round(time.Second))
	}
	got, err := hex.DecodeString(strings.TrimPrefix(signature, SignaturePrefix))
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: malformed", ErrBadSignature)
	}
	want, _ := hex.DecodeString(Sign(secret, timestamp, body))
	if !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	return nil
}
