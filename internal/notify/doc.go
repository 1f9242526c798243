// Package notify delivers takedown notices to the abuse contacts of hosts:
// e-mail over SMTP ([SMTPSender], a real client on net/smtp) and signed JSON
// webhooks ([WebhookSender], posted through the SSRF-guarded fetch client),
// and renders the notice text from per-organisation templates ([Template]).
//
// A [Notice] is fully rendered before it reaches a sender, so a sender only
// validates and transmits. Its ID is the stable id of the notice (the
// outbox row): it becomes the e-mail's Message-ID and the webhook's
// Idempotency-Key and notice_id, so a notice sent again after a crash is
// recognisable as the same notice by the receiver.
//
// Errors: every Send error is either permanent ([Permanent] reports true:
// the SMTP server rejected the message with a 5xx reply, the webhook
// answered 4xx other than 408 and 429, the address or URL is invalid or
// refused by the SSRF guard) or transient, which the caller retries with
// backoff. Configuration problems of the sender itself (no relay, AUTH
// refused, STARTTLS required but not offered) are transient: they concern
// the node, not the notice, and clear once an operator fixes them.
//
// Header injection: subjects and addresses with CR or LF are refused, and
// template values are flattened to one line before rendering, so nothing
// from a report can add a header to a mail.
//
// Webhook signatures: the body is signed with HMAC-SHA256 under the
// contact's secret over "<timestamp>.<body>", sent as X-Alliance-Timestamp
// (unix seconds) and X-Alliance-Signature ("sha256=<hex>"). Receivers check
// them with [Verify], which also bounds the clock skew against replays.
package notify
