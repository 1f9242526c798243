package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Channel is how a notice travels.
type Channel string

// Channels.
const (
	ChannelEmail   Channel = "email"
	ChannelWebhook Channel = "webhook"
)

// Limits on what a notice may carry.
const (
	// MaxIDLen caps Notice.ID, which must consist of ASCII letters, digits,
	// '.', '_' and '-' so it fits in a Message-ID and an HTTP header as is.
	MaxIDLen = 64
	// MaxSubjectBytes caps Notice.Subject.
	MaxSubjectBytes = 900
	// MaxBodyBytes caps Notice.Body, for e-mail and webhook alike.
	MaxBodyBytes = 32 << 10
	// MaxAddressLen caps e-mail addresses (RFC 5321 path limit).
	MaxAddressLen = 254
	// MaxURLLen caps webhook URLs.
	MaxURLLen = 2048
)

// Notice is one rendered notice, ready to send.
type Notice struct {
	// ID is the stable id of the notice (the outbox row id as text). It is
	// the e-mail's Message-ID and the webhook's Idempotency-Key, so a
	// redelivery after a crash is recognisable as the same notice.
	ID      string
	Channel Channel
	// To is the e-mail address, or the https URL of the webhook.
	To string
	// From is the e-mail sender address (email only); a display name is
	// allowed ("Hotline <notices@example.org>").
	From    string
	Subject string
	// Body is the plain text, already rendered.
	Body string
	// Payload is the structured form, sent as the webhook's JSON body; email
	// ignores it. An empty Payload.NoticeID is filled in from ID.
	Payload Payload
	// Secret is the webhook HMAC key of the contact; nil for email.
	Secret []byte
	// Handover, when set, is called just before the step after which the
	// notice may have been delivered: the end of the message over SMTP
	// (nothing before it is delivered), the request of a webhook. Its
	// error abandons the delivery, and Send returns it. It lets the caller
	// record that the outcome is about to become uncertain.
	Handover func() error
}

// handover calls n.Handover, if any, and wraps its error.
func (n Notice) handover() error {
	if n.Handover == nil {
		return nil
	}
	if err := n.Handover(); err != nil {
		return fmt.Errorf("notify: notice %s: before handing it over: %w", n.ID, err)
	}
	return nil
}

// Payload is the JSON body of a webhook notice.
type Payload struct {
	NoticeID  string    `json:"notice_id"`
	Node      string    `json:"node"` // sender organisation code
	ItemID    int64     `json:"item_id"`
	URL       string    `json:"url"`
	Reference string    `json:"reference"`
	Hashes    []Hash    `json:"hashes"`
	IssuedAt  time.Time `json:"issued_at"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
}

// Hash is one hash of the reported item.
type Hash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// Sender delivers a notice. Errors for which retrying cannot help satisfy
// [Permanent]; all others are transient.
type Sender interface {
	Send(ctx context.Context, n Notice) error
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// MarkPermanent wraps err so that [Permanent] reports true for it; nil stays
// nil. For callers that find a notice undeliverable before sending it (no
// contact, for example).
func MarkPermanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// Permanent reports whether err says retrying cannot help: an SMTP 5xx
// reply to the message, a webhook 4xx other than 408 and 429, an invalid or
// refused address. Everything else is transient.
func Permanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// unconfirmedError marks an error after which the notice may have been
// delivered: the message was handed over and no answer came.
type unconfirmedError struct{ err error }

func (e *unconfirmedError) Error() string { return e.err.Error() }
func (e *unconfirmedError) Unwrap() error { return e.err }

// Unconfirmed reports whether err leaves the delivery's outcome unknown:
// an SMTP relay gave no reply to the end of the message, or a webhook gave
// no response to a request it received in full. Sending again could deliver
// the notice twice.
func Unconfirmed(err error) bool {
	var ue *unconfirmedError
	return errors.As(err, &ue)
}

// permanentf formats a permanent error.
func permanentf(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

// checkID validates a notice id.
func checkID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return permanentf("notify: notice id must be 1 to %d characters, got %d", MaxIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return permanentf("notify: notice id %q: only letters, digits, '.', '_' and '-' are allowed", id)
		}
	}
	return nil
}

// Multi dispatches a notice to the sender of its channel.
type Multi map[Channel]Sender

// Send sends n with the sender registered for n.Channel; a channel without
// a sender is a permanent error.
func (m Multi) Send(ctx context.Context, n Notice) error {
	s := m[n.Channel]
	if s == nil {
		return permanentf("notify: no sender for channel %q", n.Channel)
	}
	return s.Send(ctx, n)
}
