package app

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"alliance"
	"alliance/internal/notify"
	"alliance/internal/recheck"
	"alliance/internal/store"
	"golang.org/x/net/publicsuffix"
)

// Takedown policy defaults, as Project Arachnid works: re-check every six
// hours, remind the host every day while the content is up, escalate after
// three days.
const (
	DefaultRecheckInterval  = 6 * time.Hour
	DefaultRenoticeInterval = 24 * time.Hour
	DefaultEscalateAfter    = 72 * time.Hour
	// refusedRemoved is how many re-checks in a row must find the
	// connection refused before the content counts as removed.
	refusedRemoved = 3
	// unreachableRetry is the wait after a check that could not decide.
	unreachableRetry = time.Hour
	takedownLease    = 10 * time.Minute
	noticeLease      = 5 * time.Minute
	// MaxNoticeAttempts bounds the deliveries tried for one notice.
	MaxNoticeAttempts    = 8
	noticeBackoffBase    = time.Minute
	noticeBackoffMax     = 6 * time.Hour
	DefaultTakedownBatch = 100
	// recheckConcurrency bounds the re-checks one batch runs at once; the
	// fetcher's per-host limits keep each host's share polite.
	recheckConcurrency = 32
)

// Checker decides whether noticed content is still online; *recheck.Checker
// is the node's.
type Checker interface {
	Check(ctx context.Context, t recheck.Target) recheck.Result
}

// TakedownOptions are the takedown settings of Options.
type TakedownOptions struct {
	// Sender delivers notices; nil leaves them in the outbox (pending).
	Sender notify.Sender
	// Checker re-checks noticed URLs; nil leaves them unchecked.
	Checker Checker
	// From is the e-mail sender of notices, e.g. "Hotline <notices@example.org>".
	From string
	// Contact is where hosts can reply, quoted in notices.
	Contact          string
	RecheckInterval  time.Duration // DefaultRecheckInterval when zero
	RenoticeInterval time.Duration // DefaultRenoticeInterval when zero
	EscalateAfter    time.Duration // DefaultEscalateAfter when zero
}

func (o *TakedownOptions) defaults() {
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = DefaultRecheckInterval
	}
	if o.RenoticeInterval <= 0 {
		o.RenoticeInterval = DefaultRenoticeInterval
	}
	if o.EscalateAfter <= 0 {
		o.EscalateAfter = DefaultEscalateAfter
	}
	if o.From == "" {
		o.From = "notices@alliance.invalid"
	}
}

// TakedownBatch moves up to limit items whose takedown is due one step on,
// as the node itself, and returns how many it handled:
//   - notified items whose police grace passed with no hold, and held
//     items whose hold ended, are cleared;
//   - cleared items get their first notice (in the outbox, in the same
//     transaction: a crash neither loses nor repeats it);
//   - noticed and escalated items are re-checked: removed ones are closed
//     with their time, moved ones traced again, and those still up are
//     reminded every RenoticeInterval and escalated after EscalateAfter.
func (a *App) TakedownBatch(ctx context.Context, limit int) (int, error) {
	if alliance.ActorFromContext(ctx).UserID != 0 {
		return 0, alliance.Errorf(alliance.EFORBIDDEN, "Takedown steps are done by the node itself.")
	}
	if limit <= 0 {
		limit = DefaultTakedownBatch
	}
	ctx = alliance.NewContextWithActor(ctx, alliance.SystemActor)
	var claims []store.TakedownClaim
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		claims, err = tx.ClaimTakedowns(ctx, limit, takedownLease)
		return err
	})
	if err != nil || len(claims) == 0 {
		return 0, wrapNonNil("app: takedown batch", err)
	}
	checks, err := a.recheckClaims(ctx, claims)
	if err != nil {
		return 0, fmt.Errorf("app: takedown batch: %w", err)
	}
	n := 0
	for _, c := range claims {
		// One transaction per item: one item's conflict (a user acted on
		// it meanwhile) does not undo the others.
		var moved alliance.Item
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			it, err := tx.ItemByID(ctx, c.ItemID)
			if err != nil {
				return err
			}
			if it.Takedown.Status != c.Status || it.Takedown.NextAction == nil || !it.Takedown.NextAction.Equal(c.Lease) {
				return nil // changed since the claim: the change decides
			}
			if err := a.takedownStep(ctx, tx, it, checks[c.ItemID]); err != nil {
				return err
			}
			if r := checks[c.ItemID]; r != nil && r.Outcome == recheck.Changed {
				moved = it
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return n, fmt.Errorf("app: takedown batch: %w", err)
			}
			a.log.ErrorContext(ctx, "takedown step failed", "item", c.ItemID, "status", c.Status, "err", err)
			continue
		}
		if moved.ID != 0 {
			a.reportMove(ctx, moved, checks[c.ItemID].FinalURL)
		}
		n++
	}
	return n, nil
}

// reportMove reports the new address of moved content as a new item,
// received by the organisation the old one was routed to, so it is
// traced, fetched (and known, when its hashes are in a bank) and assessed
// like any report. A failure is logged: the old item shows the new address.
func (a *App) reportMove(ctx context.Context, it alliance.Item, newURL string) {
	if it.Route == nil || newURL == "" {
		return
	}
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		org, err := tx.OrganisationByCode(ctx, it.Route.OrgCode)
		if err != nil {
			return err
		}
		ctx = alliance.NewContextWithActor(ctx, alliance.Actor{System: true, OrgID: org.ID, OrgCode: org.Code})
		return nil
	})
	if err == nil {
		_, err = a.SubmitReport(ctx, ReportInput{Source: string(alliance.SourceHotline), Category: string(alliance.CategoryCSAM),
			Description: fmt.Sprintf("Found by the node's re-check: the content of item %d moved here.", it.ID),
			URLs:        []string{newURL}, IdempotencyKey: fmt.Sprintf("moved-%d-%d", it.ID, it.Takedown.Rechecks), Client: "recheck"})
	}
	if err != nil {
		a.log.ErrorContext(ctx, "report moved content", "item", it.ID, "url", newURL, "err", err)
	}
}

func wrapNonNil(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// recheckClaims re-checks the claimed items that are noticed or escalated,
// outside any transaction, recheckConcurrency at a time.
func (a *App) recheckClaims(ctx context.Context, claims []store.TakedownClaim) (map[int64]*recheck.Result, error) {
	out := map[int64]*recheck.Result{}
	if a.takedown.Checker == nil {
		return out, nil
	}
	var targets []struct {
		id int64
		t  recheck.Target
	}
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		for _, c := range claims {
			if c.Status != alliance.TakedownNoticeSent && c.Status != alliance.TakedownEscalated {
				continue
			}
			it, err := tx.ItemByID(ctx, c.ItemID)
			if err != nil {
				return err
			}
			media, err := tx.ItemMedia(ctx, c.ItemID)
			if err != nil {
				return err
			}
			t := recheck.Target{URL: it.CanonicalURL, Page: it.Fetch != nil && it.Fetch.Page}
			for _, m := range media {
				if m.Status == alliance.MediumHashed {
					t.Media = append(t.Media, recheck.Medium{URL: m.URL, SHA256: hexOf(m.SHA256), PDQ: hexOf(m.PDQ)})
				}
			}
			targets = append(targets, struct {
				id int64
				t  recheck.Target
			}{c.ItemID, t})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	results := make([]recheck.Result, len(targets))
	sem := make(chan struct{}, recheckConcurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = a.takedown.Checker.Check(ctx, t.t)
		})
	}
	wg.Wait()
	for i, t := range targets {
		if !results[i].Canceled {
			out[t.id] = &results[i]
		}
	}
	return out, ctx.Err()
}

func hexOf(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return fmt.Sprintf("%x", b)
}

// takedownStep does what is due for one claimed item in tx.
func (a *App) takedownStep(ctx context.Context, tx *store.Tx, it alliance.Item, check *recheck.Result) error {
	now := tx.Now()
	td := it.Takedown
	org := ""
	if it.Route != nil {
		org = it.Route.OrgCode
	}
	switch td.Status {
	case alliance.TakedownPoliceNotified, alliance.TakedownPoliceHold:
		reason := "No hold within the police's grace period."
		if td.Status == alliance.TakedownPoliceHold {
			reason = "The police hold ended."
		}
		if err := tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: td.Status, To: alliance.TakedownPoliceCleared,
			Actor: "system", OrgCode: org, Reason: reason, SetHold: true, SetNext: true, Next: now}); err != nil {
			return err
		}
		it.Takedown.Status = alliance.TakedownPoliceCleared
		return a.queueNotice(ctx, tx, it, store.NoticeFirst)
	case alliance.TakedownPoliceCleared:
		if n, err := tx.PendingNotices(ctx, it.ID); err != nil || n > 0 {
			if err == nil {
				err = tx.SetNextTakedown(ctx, it.ID, time.Time{}) // the delivery moves it on
			}
			return err
		}
		return a.queueNotice(ctx, tx, it, store.NoticeFirst)
	case alliance.TakedownNoticeSent, alliance.TakedownEscalated:
		if check == nil {
			// No checker, or the check was cut short: try again later.
			return tx.SetNextTakedown(ctx, it.ID, now.Add(a.takedown.RecheckInterval))
		}
		return a.recordCheck(ctx, tx, it, *check)
	}
	// Nothing is due in other states.
	return tx.SetNextTakedown(ctx, it.ID, time.Time{})
}

// recordCheck applies a re-check's result to a noticed item.
func (a *App) recordCheck(ctx context.Context, tx *store.Tx, it alliance.Item, r recheck.Result) error {
	now := tx.Now()
	td := it.Takedown
	org := ""
	if it.Route != nil {
		org = it.Route.OrgCode
	}
	outcome := string(r.Outcome) + " (" + r.Reason + ")"
	switch r.Outcome {
	case recheck.Removed:
		if _, err := tx.RecordRecheck(ctx, it.ID, outcome, false, time.Time{}); err != nil {
			return err
		}
		return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: td.Status, To: alliance.TakedownRemoved,
			Actor: "system", OrgCode: org, Reason: "Re-check: " + outcome + ".", Stamp: store.StampRemoved,
			SetNext: true})
	case recheck.Changed:
		if _, err := tx.RecordRecheck(ctx, it.ID, outcome, false, time.Time{}); err != nil {
			return err
		}
		// The new address is reported as a new item by TakedownBatch once
		// this transaction commits. A re-trace of this item (by an analyst)
		// starts its takedown again on its new route.
		return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: td.Status, To: alliance.TakedownMoved,
			Actor: "system", OrgCode: org, Reason: "Re-check: now served from " + r.FinalURL + "; reported there as a new item.",
			SetNext: true})
	case recheck.Unreachable:
		failures, err := tx.RecordRecheck(ctx, it.ID, outcome, true, now.Add(min(unreachableRetry, a.takedown.RecheckInterval)))
		if err != nil {
			return err
		}
		if r.Reason == "refused" && failures >= refusedRemoved {
			return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: td.Status, To: alliance.TakedownRemoved,
				Actor: "system", OrgCode: org, Stamp: store.StampRemoved, SetNext: true,
				Reason: fmt.Sprintf("Re-check: connection refused %d times in a row.", failures)})
		}
		return nil
	}
	// Still up: check again, remind, escalate.
	if _, err := tx.RecordRecheck(ctx, it.ID, outcome, false, now.Add(a.takedown.RecheckInterval)); err != nil {
		return err
	}
	if td.Status == alliance.TakedownNoticeSent && td.NoticeAt != nil && now.Sub(*td.NoticeAt) >= a.takedown.EscalateAfter {
		if err := tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: td.Status, To: alliance.TakedownEscalated,
			Actor: "system", OrgCode: org, SetNext: true, Next: now.Add(a.takedown.RecheckInterval),
			Reason: fmt.Sprintf("Still online %s after the first notice.", now.Sub(*td.NoticeAt).Round(time.Hour))}); err != nil {
			return err
		}
	}
	last := td.NoticeAt
	if n, err := tx.ItemNotices(ctx, it.ID); err == nil {
		for _, x := range n {
			if x.SentAt != nil && (last == nil || x.SentAt.After(*last)) {
				last = x.SentAt
			}
		}
	} else {
		return err
	}
	if last != nil && now.Sub(*last) >= a.takedown.RenoticeInterval {
		if n, err := tx.PendingNotices(ctx, it.ID); err != nil || n > 0 {
			return err
		}
		return a.queueNotice(ctx, tx, it, store.NoticeRenotice)
	}
	return nil
}

// queueNotice renders a notice to the host's abuse contact with the
// routed organisation's template and puts it in the outbox. A host with no
// known contact gets a failed notice saying so (visible on the item), and
// the item is looked at again after the re-check interval.
func (a *App) queueNotice(ctx context.Context, tx *store.Tx, it alliance.Item, kind store.NoticeKind) error {
	if it.Route == nil {
		return fmt.Errorf("queue notice for item %d: not routed", it.ID)
	}
	org, err := tx.OrganisationByCode(ctx, it.Route.OrgCode)
	if err != nil {
		return err
	}
	tmpl := notify.DefaultTemplate()
	if s, b, err := tx.NoticeTemplate(ctx, org.ID); err == nil {
		tmpl = notify.Template{Subject: s, Body: b}
	} else if alliance.ErrorCode(err) != alliance.ENOTFOUND {
		return err
	}
	data := notify.TemplateData{Node: org.Code, NodeName: org.Name, ItemURL: it.URL, ItemID: it.ID,
		Reference: noticeReference(org.Code, it.ID), Host: it.Host, IssuedAt: tx.Now(), Contact: a.takedown.Contact}
	var asn uint32
	if it.Trace != nil {
		data.Country, asn = it.Trace.Country, it.Trace.ASN
	}
	media, err := tx.ItemMedia(ctx, it.ID)
	if err != nil {
		return err
	}
	for _, m := range media {
		if len(m.SHA256) > 0 {
			data.Hashes = append(data.Hashes, notify.Hash{Algorithm: "sha256", Value: hexOf(m.SHA256)})
		}
	}
	subject, body, err := tmpl.Render(data)
	if err != nil {
		return fmt.Errorf("render notice of %s: %w", org.Code, err)
	}
	n := &store.Notice{ItemID: it.ID, OrgID: org.ID, Kind: kind, Subject: subject, Body: body}
	c, err := tx.FindAbuseContact(ctx, contactDomains(it.Host), asn, data.Country)
	switch {
	case err == nil:
		n.Channel, n.Recipient = c.Channel, c.Address
	case alliance.ErrorCode(err) == alliance.ENOTFOUND:
		if d, derr := publicsuffix.EffectiveTLDPlusOne(it.Host); derr == nil {
			// RFC 2142: abuse@ the domain is where abuse reports go.
			n.Channel, n.Recipient = "email", "abuse@"+d
		} else {
			n.Channel, n.Status = "email", "failed"
			n.LastError = fmt.Sprintf("No abuse contact is known for %s; add one for its network (AS%d) or country.", it.Host, asn)
		}
	default:
		return err
	}
	if err := tx.InsertNotice(ctx, n); err != nil {
		return err
	}
	var nextErr error
	switch {
	case n.Status == "failed":
		nextErr = tx.SetNextTakedown(ctx, it.ID, tx.Now().Add(a.takedown.RecheckInterval))
	case kind == store.NoticeFirst:
		nextErr = tx.SetNextTakedown(ctx, it.ID, time.Time{}) // the delivery moves the item on
	}
	if nextErr != nil {
		return nextErr
	}
	return tx.AppendAudit(ctx, auditFor(ctx, org.Code, "notice.queue", "item", strconv.FormatInt(it.ID, 10)))
}

// noticeReference is how a notice names the item to the host.
func noticeReference(org string, itemID int64) string {
	return fmt.Sprintf("%s-%d", org, itemID)
}

// contactDomains lists host and its parent domains, most specific first,
// down to the registrable domain.
func contactDomains(host string) []string {
	out := []string{host}
	reg, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return out
	}
	for h := host; h != reg; {
		_, rest, ok := strings.Cut(h, ".")
		if !ok {
			break
		}
		h = rest
		out = append(out, h)
	}
	return out
}

// NoticeBatch delivers up to limit notices due in the outbox and returns
// how many it handled. A delivered first notice moves its item to
// notice_sent (the clock of the takedown figures starts) and schedules its
// first re-check; a reminder is counted. Transient failures are retried with
// backoff up to MaxNoticeAttempts; permanent ones are given up at once. Both
// stay visible on the notice. Without a Sender it does nothing.
//
// Delivery is at most once (see deliverNotice): a notice that may have been
// delivered is never sent again; when its delivery is uncertain it is
// recorded as sent and unconfirmed.
func (a *App) NoticeBatch(ctx context.Context, limit int) (int, error) {
	if alliance.ActorFromContext(ctx).UserID != 0 {
		return 0, alliance.Errorf(alliance.EFORBIDDEN, "Notices are sent by the node itself.")
	}
	if a.takedown.Sender == nil {
		return 0, nil
	}
	if limit <= 0 {
		limit = DefaultTakedownBatch
	}
	ctx = alliance.NewContextWithActor(ctx, alliance.SystemActor)
	var claims []store.Notice
	contacts := map[int64]store.AbuseContact{}
	items := map[int64]alliance.Item{}
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if claims, err = tx.ClaimNotices(ctx, limit, noticeLease); err != nil {
			return err
		}
		for _, n := range claims {
			if _, ok := items[n.ItemID]; !ok {
				if items[n.ItemID], err = tx.ItemByID(ctx, n.ItemID); err != nil {
					return err
				}
			}
		}
		// Webhook secrets live with the contact, not the notice.
		all, err := tx.AbuseContacts(ctx)
		for _, c := range all {
			contacts[c.ID] = c
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("app: notice batch: %w", err)
	}
	// Series alerts to their owners' contact points go the same way.
	alerts, err := a.deliverAlertMails(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("app: notice batch: alerts: %w", err)
	}
	if len(claims) == 0 {
		return alerts, nil
	}
	// Notices go out at most once. Each is marked as sending (committed)
	// at its handover, the last moment before it may be delivered, and its
	// outcome recorded as soon as it is known, not after the whole batch.
	// A claimed notice still marked was
	// cut off by a crash: it may have gone out, so it is recorded as sent
	// and unconfirmed rather than sent again; the re-checks go on and the
	// reminder after the renotice interval repeats it if the content stays.
	var done atomic.Int64
	var wg sync.WaitGroup
	for _, n := range claims {
		wg.Go(func() {
			if a.deliverNotice(ctx, n, items[n.ItemID], contacts) {
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return int(done.Load()), fmt.Errorf("app: notice batch: %w", err)
	}
	return int(done.Load()) + alerts, nil
}

// deliverNotice sends one claimed notice and records the outcome; it
// reports whether an outcome was recorded.
func (a *App) deliverNotice(ctx context.Context, n store.Notice, it alliance.Item, contacts map[int64]store.AbuseContact) bool {
	// Outcomes are recorded even when shutting down: the notice may have
	// gone out.
	rctx := context.WithoutCancel(ctx)
	record := func(outcome store.NoticeOutcome, sendErr error) bool {
		err := a.db.InTx(rctx, func(tx *store.Tx) error {
			return a.recordDelivery(rctx, tx, n, outcome, sendErr)
		})
		if err != nil {
			a.log.ErrorContext(ctx, "record notice delivery failed", "notice", n.ID, "err", err)
			return false
		}
		return true
	}
	if n.SendingAt != nil {
		return record(store.NoticeUnconfirmed, errInterruptedSend)
	}
	// The mark is made at the last moment before the notice may be
	// delivered (notify.Notice.Handover): a kill before it is no delivery
	// and the notice is sent after the restart.
	var marked bool
	out := a.renderNotice(n, it, contacts)
	out.Handover = func() error {
		err := a.db.InTx(ctx, func(tx *store.Tx) error {
			ok, err := tx.StartNoticeSend(ctx, n)
			if err == nil && !ok {
				err = errClaimLapsed
			}
			return err
		})
		marked = err == nil
		return err
	}
	sendErr := a.takedown.Sender.Send(ctx, out)
	switch {
	case errors.Is(sendErr, errClaimLapsed):
		return false // another process has the notice now
	case sendErr == nil:
		return record(store.NoticeSent, nil)
	case notify.Unconfirmed(sendErr):
		return record(store.NoticeUnconfirmed, sendErr)
	case ctx.Err() != nil:
		// Cut off by the shutdown before anything was accepted: not an
		// attempt. The claim is released on stop and the notice sent later.
		if marked {
			if err := a.db.InTx(rctx, func(tx *store.Tx) error { return tx.AbandonNoticeSend(rctx, n) }); err != nil {
				a.log.ErrorContext(ctx, "abandon notice delivery failed", "notice", n.ID, "err", err)
			}
		}
		return false
	}
	return record(store.NoticeFailed, sendErr)
}

// errClaimLapsed abandons a delivery whose claim another process has taken.
var errClaimLapsed = errors.New("the claim on the notice lapsed before it was handed over")

// errInterruptedSend is why a notice claimed while still marked as sending
// is unconfirmed.
var errInterruptedSend = errors.New("the node stopped while sending this notice, so whether it was delivered is unknown; " +
	"it is not sent again, and the reminder repeats it if the content stays online")

// renderNotice turns an outbox row into what the sender sends.
func (a *App) renderNotice(n store.Notice, it alliance.Item, contacts map[int64]store.AbuseContact) notify.Notice {
	out := notify.Notice{ID: "notice-" + strconv.FormatInt(n.ID, 10), Channel: notify.Channel(n.Channel), To: n.Recipient,
		From: a.takedown.From, Subject: n.Subject, Body: n.Body}
	out.Payload = notify.Payload{NoticeID: out.ID, ItemID: n.ItemID, URL: it.URL, Subject: n.Subject, Text: n.Body,
		IssuedAt: n.CreatedAt}
	if it.Route != nil {
		out.Payload.Node = it.Route.OrgCode
		out.Payload.Reference = noticeReference(it.Route.OrgCode, it.ID)
	}
	for _, c := range contacts {
		if c.Channel == n.Channel && c.Address == n.Recipient {
			out.Secret = c.Secret
		}
	}
	return out
}

// recordDelivery records one delivery attempt and its effect on the item:
// an unconfirmed notice counts as sent.
func (a *App) recordDelivery(ctx context.Context, tx *store.Tx, n store.Notice, outcome store.NoticeOutcome, sendErr error) error {
	now := tx.Now()
	if outcome == store.NoticeFailed {
		var retry time.Time
		if !notify.Permanent(sendErr) && n.Attempts+1 < MaxNoticeAttempts {
			retry = now.Add(backoff(noticeBackoffBase, noticeBackoffMax, n.Attempts+1))
		}
		a.log.WarnContext(ctx, "notice delivery failed", "notice", n.ID, "item", n.ItemID, "attempts", n.Attempts+1,
			"permanent", notify.Permanent(sendErr), "err", sendErr)
		ok, err := tx.RecordNotice(ctx, n, store.NoticeFailed, deliveryError(sendErr), retry)
		if err != nil || !ok || !retry.IsZero() {
			return err
		}
		// Given up: the item is looked at again after the re-check interval.
		return tx.SetNextTakedown(ctx, n.ItemID, now.Add(a.takedown.RecheckInterval))
	}
	event, msg := "notice.sent", ""
	if outcome == store.NoticeUnconfirmed {
		event, msg = "notice.unconfirmed", deliveryError(sendErr)
		a.log.WarnContext(ctx, "notice delivery unconfirmed", "notice", n.ID, "item", n.ItemID, "err", sendErr)
	}
	ok, err := tx.RecordNotice(ctx, n, outcome, msg, time.Time{})
	if err != nil || !ok {
		return err
	}
	it, err := tx.ItemByID(ctx, n.ItemID)
	if err != nil {
		return err
	}
	org := ""
	if it.Route != nil {
		org = it.Route.OrgCode
	}
	if err := tx.AppendAudit(ctx, auditFor(ctx, org, event, "item", strconv.FormatInt(it.ID, 10))); err != nil {
		return err
	}
	if it.Takedown.Status == alliance.TakedownPoliceCleared {
		return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: it.Takedown.Status, To: alliance.TakedownNoticeSent,
			Actor: "system", OrgCode: org, Stamp: store.StampNotice, SetNext: true, Next: now.Add(a.takedown.RecheckInterval),
			Reason: fmt.Sprintf("Notice %d sent to %s by %s.", n.ID, n.Recipient, n.Channel)})
	}
	return tx.RecordRenotice(ctx, it.ID)
}

// deliveryError is the error kept on a notice: the sender's message, which
// names the relay's reply or the webhook's status and never holds content.
func deliveryError(err error) string {
	msg := err.Error()
	var ae *alliance.Error
	if errors.As(err, &ae) {
		msg = alliance.ErrorMessage(err)
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// AbuseContactInput is where notices about a host, a network or a country
// go.
type AbuseContactInput struct {
	Scope   string // domain, asn, country
	Key     string // a host name or domain, an AS number, an ISO country code
	Channel string // email, webhook
	Address string // e-mail address, or the webhook's URL
	Secret  []byte // the webhook's HMAC key (16 to 256 bytes); webhooks only
}

// PutAbuseContact adds or replaces an abuse contact of the node. It needs
// the system actor or an admin (PermManageUsers): contacts steer where
// notices go for every organisation of the node.
func (a *App) PutAbuseContact(ctx context.Context, in AbuseContactInput) error {
	actor, err := require(ctx, alliance.PermManageUsers)
	if err != nil {
		return err
	}
	c := store.AbuseContact{Scope: in.Scope, Key: strings.ToLower(strings.TrimSpace(in.Key)), Channel: in.Channel,
		Address: strings.TrimSpace(in.Address), Secret: in.Secret}
	switch c.Scope {
	case "domain":
		if c.Key == "" || len(c.Key) > 253 || strings.ContainsAny(c.Key, "/:@ ") {
			return alliance.FieldErrorf("key", "A host name or domain such as example.org.")
		}
	case "asn":
		if n, err := strconv.ParseUint(strings.TrimPrefix(c.Key, "as"), 10, 32); err != nil || n == 0 {
			return alliance.FieldErrorf("key", "An AS number such as 64500.")
		} else {
			c.Key = strconv.FormatUint(n, 10)
		}
	case "country":
		c.Key = strings.ToUpper(c.Key)
		if !alliance.ValidCountryCode(c.Key) {
			return alliance.FieldErrorf("key", "An ISO 3166-1 alpha-2 country code such as NL.")
		}
	default:
		return alliance.FieldErrorf("scope", "Scope must be domain, asn or country.")
	}
	switch c.Channel {
	case "email":
		if _, err := mail.ParseAddress(c.Address); err != nil || strings.ContainsAny(c.Address, "\r\n") {
			return alliance.FieldErrorf("address", "An e-mail address such as abuse@example.org.")
		}
		c.Secret = nil
	case "webhook":
		u, err := url.Parse(c.Address)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return alliance.FieldErrorf("address", "An https URL of the webhook.")
		}
		if len(c.Secret) < 16 || len(c.Secret) > 256 {
			return alliance.FieldErrorf("secret", "A webhook needs a secret of 16 to 256 bytes to sign notices with.")
		}
	default:
		return alliance.FieldErrorf("channel", "Channel must be email or webhook.")
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutAbuseContact(ctx, &c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "contact.put", "abuse_contact", c.Scope+":"+c.Key))
	})
	if err != nil {
		return fmt.Errorf("app: put abuse contact: %w", err)
	}
	return nil
}

// StatsFilter selects the takedown figures: items reported in [From, To),
// optionally hosted in one country or network.
type StatsFilter struct {
	From, To time.Time // zero From: a year before To; zero To: now
	Country  string
	ASN      uint32
}

// TakedownStats are the takedown figures of a period, overall and per
// hosting country and network.
type TakedownStats struct {
	From, To  time.Time
	Overall   alliance.TakedownFigures
	ByCountry []alliance.TakedownGroup
	ByNetwork []alliance.TakedownGroup
}

// TakedownStats computes the takedown figures from the recorded times of
// the illegal items the actor's organisation received or was routed (every
// item of the node for the secretariat and the system). It needs
// PermViewReports or PermViewAllCountries.
func (a *App) TakedownStats(ctx context.Context, f StatsFilter) (TakedownStats, error) {
	actor := alliance.ActorFromContext(ctx)
	all := actor.System || actor.Can(alliance.PermViewAllCountries)
	if !all {
		if _, err := require(ctx, alliance.PermViewReports); err != nil {
			return TakedownStats{}, err
		}
	}
	if f.To.IsZero() {
		f.To = a.now()
	}
	if f.From.IsZero() {
		f.From = f.To.AddDate(-1, 0, 0)
	}
	if !f.From.Before(f.To) {
		return TakedownStats{}, alliance.FieldErrorf("from", "from must be before to.")
	}
	if f.To.Sub(f.From) > 20*366*24*time.Hour {
		return TakedownStats{}, alliance.FieldErrorf("from", "A period is at most 20 years.")
	}
	f.Country = strings.ToUpper(f.Country)
	if f.Country != "" && !alliance.ValidCountryCode(f.Country) {
		return TakedownStats{}, alliance.FieldErrorf("country", "An ISO 3166-1 alpha-2 country code such as SE.")
	}
	var samples []alliance.TakedownSample
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		samples, err = tx.TakedownSamples(ctx, store.StatsQuery{OrgID: actor.OrgID, OrgCode: actor.OrgCode, All: all,
			From: f.From, To: f.To, Country: f.Country, ASN: f.ASN})
		return err
	})
	if err != nil {
		return TakedownStats{}, fmt.Errorf("app: takedown stats: %w", err)
	}
	now := a.now()
	out := TakedownStats{From: f.From, To: f.To, Overall: alliance.ComputeTakedownFigures(samples, now)}
	out.ByCountry, out.ByNetwork = alliance.GroupTakedownFigures(samples, now)
	return out, nil
}

// NoticeTemplate returns the notice template of the actor's organisation,
// and whether it is the organisation's own (false: the built-in one).
func (a *App) NoticeTemplate(ctx context.Context) (notify.Template, bool, error) {
	actor, err := require(ctx, alliance.PermViewReports)
	if err != nil {
		return notify.Template{}, false, err
	}
	t, own := notify.DefaultTemplate(), false
	err = a.db.InReadTx(ctx, func(tx *store.Tx) error {
		s, b, err := tx.NoticeTemplate(ctx, actor.OrgID)
		switch {
		case err == nil:
			t, own = notify.Template{Subject: s, Body: b}, true
		case alliance.ErrorCode(err) != alliance.ENOTFOUND:
			return err
		}
		return nil
	})
	if err != nil {
		return notify.Template{}, false, fmt.Errorf("app: notice template: %w", err)
	}
	return t, own, nil
}

// SetNoticeTemplate sets the notice template of the actor's organisation
// (admins, PermManageUsers). It is validated by rendering it against sample
// data; errors name the subject or the body.
func (a *App) SetNoticeTemplate(ctx context.Context, t notify.Template) error {
	actor, err := require(ctx, alliance.PermManageUsers)
	if err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		// The message names the template ("subject:1: unclosed action").
		msg := strings.TrimPrefix(err.Error(), "notify: ")
		field := "body"
		if strings.Contains(msg, "subject") {
			field = "subject"
		}
		return alliance.FieldErrorf(field, "%s", msg)
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutNoticeTemplate(ctx, actor.OrgID, t.Subject, t.Body); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "notice_template.set", "organisation", actor.OrgCode))
	})
	if err != nil {
		return fmt.Errorf("app: set notice template: %w", err)
	}
	return nil
}
