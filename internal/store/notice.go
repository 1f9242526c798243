package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"alliance"
)

// TakedownClaim is an item whose takedown needs the job's attention,
// claimed by ClaimTakedowns.
type TakedownClaim struct {
	ItemID int64
	Status alliance.TakedownStatus
	Lease  time.Time
}

// ClaimTakedowns claims up to limit items whose next takedown action is
// due, most overdue first, by moving next_takedown_at to now + lease (as
// ClaimTraces does): an item whose action is not recorded by then is due
// again, and on PostgreSQL rows locked by another claimer are skipped.
func (tx *Tx) ClaimTakedowns(ctx context.Context, limit int, lease time.Duration) ([]TakedownClaim, error) {
	out, err := claimDue(ctx, tx, "claim takedowns", "items", "next_takedown_at", limit, lease,
		`id, takedown_status`, func(rows *sql.Rows, until time.Time) (TakedownClaim, error) {
			c := TakedownClaim{Lease: until}
			var st string
			err := rows.Scan(&c.ItemID, &st)
			c.Status = alliance.TakedownStatus(st)
			return c, err
		})
	slices.SortFunc(out, func(a, b TakedownClaim) int { return cmp.Compare(a.ItemID, b.ItemID) })
	return out, err
}

// SetNextTakedown sets when the takedown job next looks at an item (zero:
// never, until something else sets it).
func (tx *Tx) SetNextTakedown(ctx context.Context, itemID int64, next time.Time) error {
	var v any
	if !next.IsZero() {
		v = tx.timeArg(next)
	}
	_, err := tx.exec(ctx, `UPDATE items SET next_takedown_at = $1 WHERE id = $2`, v, itemID)
	return wrapErr(err, fmt.Sprintf("set next takedown of item %d", itemID), errMsgs{})
}

// RecordRecheck records a re-check that did not change the item's state:
// its outcome, the count of consecutive unreachable checks (reset by any
// other outcome), and the next check.
func (tx *Tx) RecordRecheck(ctx context.Context, itemID int64, outcome string, unreachable bool, next time.Time) (failures int, err error) {
	op := fmt.Sprintf("record re-check of item %d", itemID)
	failExpr := `0`
	if unreachable {
		failExpr = `recheck_failures + 1`
	}
	var nextArg any
	if !next.IsZero() {
		nextArg = tx.timeArg(next)
	}
	err = tx.queryRow(ctx, `UPDATE items SET rechecks = rechecks + 1, last_check = $1, last_check_at = $2,
		recheck_failures = `+failExpr+`, next_takedown_at = $3 WHERE id = $4 RETURNING recheck_failures`,
		outcome, tx.timeArg(tx.now), nextArg, itemID).Scan(&failures)
	if err != nil {
		return 0, wrapErr(err, op, errMsgs{notFound: "Item not found."})
	}
	return failures, nil
}

// NoticeKind says whether a notice is the first to a host or a reminder.
type NoticeKind string

// The notice kinds.
const (
	NoticeFirst    NoticeKind = "notice"
	NoticeRenotice NoticeKind = "renotice"
)

// Notice is one row of the notice outbox.
type Notice struct {
	ID        int64
	ItemID    int64
	OrgID     int64 // the sending organisation
	Kind      NoticeKind
	Channel   string // email, webhook
	Recipient string
	Subject   string
	Body      string
	Status    string // pending, sent, failed
	Attempts  int
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
	NextAt    *time.Time
	Lease     time.Time // set by ClaimNotices
	// SendingAt is set from the handover until the outcome is recorded
	// (StartNoticeSend). A
	// claimed notice that has it was cut off by a crash: its outcome is
	// unknown and it is not sent again.
	SendingAt *time.Time
	// Unconfirmed marks a sent notice whose delivery was never confirmed:
	// the node stopped, or the relay or webhook stopped answering, after
	// the notice may have gone out.
	Unconfirmed bool
}

// InsertNotice adds a notice to the outbox, due at once unless status is
// failed (a notice that cannot be addressed is recorded, not sent).
func (tx *Tx) InsertNotice(ctx context.Context, n *Notice) error {
	op := fmt.Sprintf("insert notice for item %d", n.ItemID)
	var next any
	if n.Status == "" {
		n.Status = "pending"
	}
	if n.Status == "pending" {
		next = tx.timeArg(tx.now)
	}
	err := tx.queryRow(ctx, `INSERT INTO notices (item_id, org_id, kind, channel, recipient, subject, body, status,
		next_attempt_at, last_error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		n.ItemID, n.OrgID, string(n.Kind), n.Channel, n.Recipient, n.Subject, n.Body, n.Status, next, n.LastError,
		tx.timeArg(tx.now)).Scan(&n.ID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	n.CreatedAt = tx.now
	return nil
}

// PendingNotices counts the notices of an item still waiting for delivery.
func (tx *Tx) PendingNotices(ctx context.Context, itemID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM notices WHERE item_id = $1 AND status = 'pending'`, itemID).Scan(&n)
	return n, wrapErr(err, fmt.Sprintf("pending notices of item %d", itemID), errMsgs{})
}

const noticeColumns = `id, item_id, org_id, kind, channel, recipient, subject, body, status, attempts, last_error,
	created_at, sent_at, next_attempt_at, sending_at, unconfirmed`

func scanNotice(row interface{ Scan(...any) error }, n *Notice) error {
	var kind string
	err := row.Scan(&n.ID, &n.ItemID, &n.OrgID, &kind, &n.Channel, &n.Recipient, &n.Subject, &n.Body, &n.Status,
		&n.Attempts, &n.LastError, scanTime(&n.CreatedAt), scanNullTime(&n.SentAt), scanNullTime(&n.NextAt),
		scanNullTime(&n.SendingAt), &n.Unconfirmed)
	n.Kind = NoticeKind(kind)
	return err
}

// ClaimNotices claims up to limit notices due for delivery, oldest first,
// moving their next attempt to now + lease.
func (tx *Tx) ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]Notice, error) {
	out, err := claimDue(ctx, tx, "claim notices", "notices", "next_attempt_at", limit, lease,
		noticeColumns, func(rows *sql.Rows, until time.Time) (Notice, error) {
			n := Notice{Lease: until}
			return n, scanNotice(rows, &n)
		})
	slices.SortFunc(out, func(a, b Notice) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// StartNoticeSend marks a claimed notice as being sent, at the handover
// (notify.Notice.Handover): it must commit before the notice may be
// delivered. It reports false when the claim has lapsed, and then changes
// nothing.
func (tx *Tx) StartNoticeSend(ctx context.Context, n Notice) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE notices SET sending_at = $1 WHERE id = $2 AND next_attempt_at = $3 AND sending_at IS NULL`,
		tx.timeArg(tx.now), n.ID, tx.timeArg(n.Lease))
	return affectedOne(res, err, fmt.Sprintf("start sending notice %d", n.ID))
}

// AbandonNoticeSend clears the mark of a delivery that certainly did not
// happen (cut off by a shutdown before anything was accepted), so the
// notice is sent when it is next due.
func (tx *Tx) AbandonNoticeSend(ctx context.Context, n Notice) error {
	_, err := tx.exec(ctx, `UPDATE notices SET sending_at = NULL WHERE id = $1 AND next_attempt_at = $2`,
		n.ID, tx.timeArg(n.Lease))
	return wrapErr(err, fmt.Sprintf("abandon sending notice %d", n.ID), errMsgs{})
}

// NoticeOutcome is what became of a delivery attempt.
type NoticeOutcome int

const (
	// NoticeSent: the relay or webhook accepted the notice.
	NoticeSent NoticeOutcome = iota
	// NoticeUnconfirmed: the notice may have gone out and is not sent again.
	NoticeUnconfirmed
	// NoticeFailed: it certainly did not go out; retried at the given time,
	// or given up when there is none.
	NoticeFailed
)

// RecordNotice records the outcome of a delivery attempt of a claimed
// notice: sent; unconfirmed (counted as sent, with errMsg saying why it is
// unconfirmed); or failed with the error and, when retryAt is set, a next
// attempt (otherwise it is given up). It reports false when the claim has
// lapsed (another process claimed the notice since), and then changes
// nothing.
func (tx *Tx) RecordNotice(ctx context.Context, n Notice, outcome NoticeOutcome, errMsg string, retryAt time.Time) (bool, error) {
	op := fmt.Sprintf("record notice %d", n.ID)
	var (
		q    string
		args []any
	)
	switch {
	case outcome == NoticeSent || outcome == NoticeUnconfirmed:
		q = `UPDATE notices SET status = 'sent', attempts = attempts + 1, sent_at = $1, next_attempt_at = NULL,
			sending_at = NULL, unconfirmed = $2, last_error = $3
			WHERE id = $4 AND next_attempt_at = $5`
		sentAt := tx.now
		if n.SendingAt != nil {
			sentAt = *n.SendingAt // when it may have gone out
		}
		args = []any{tx.timeArg(sentAt), outcome == NoticeUnconfirmed, errMsg, n.ID, tx.timeArg(n.Lease)}
	case !retryAt.IsZero():
		q = `UPDATE notices SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, sending_at = NULL
			WHERE id = $3 AND next_attempt_at = $4`
		args = []any{errMsg, tx.timeArg(retryAt), n.ID, tx.timeArg(n.Lease)}
	default:
		q = `UPDATE notices SET status = 'failed', attempts = attempts + 1, last_error = $1, next_attempt_at = NULL,
			sending_at = NULL
			WHERE id = $2 AND next_attempt_at = $3`
		args = []any{errMsg, n.ID, tx.timeArg(n.Lease)}
	}
	res, err := tx.exec(ctx, q, args...)
	return affectedOne(res, err, op)
}

// affectedOne reports whether an update changed exactly one row.
func affectedOne(res sql.Result, err error, op string) (bool, error) {
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	k, err := res.RowsAffected()
	if err != nil {
		return false, wrapErr(err, op, errMsgs{})
	}
	return k == 1, nil
}

// RecordRenotice counts a reminder notice delivered for an item.
func (tx *Tx) RecordRenotice(ctx context.Context, itemID int64) error {
	_, err := tx.exec(ctx, `UPDATE items SET last_notice_at = $1, notices_sent = notices_sent + 1 WHERE id = $2`,
		tx.timeArg(tx.now), itemID)
	return wrapErr(err, fmt.Sprintf("record renotice of item %d", itemID), errMsgs{})
}

// ItemNotices returns the notices of an item, oldest first.
func (tx *Tx) ItemNotices(ctx context.Context, itemID int64) ([]Notice, error) {
	op := fmt.Sprintf("notices of item %d", itemID)
	rows, err := tx.query(ctx, `SELECT `+noticeColumns+` FROM notices WHERE item_id = $1 ORDER BY id`, itemID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		var n Notice
		if err := scanNotice(rows, &n); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, n)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}

// AbuseContact is where notices about a host, a network or a country go.
type AbuseContact struct {
	ID        int64
	Scope     string // domain, asn, country
	Key       string // a host name or registrable domain, an AS number, an ISO country code
	Channel   string // email, webhook
	Address   string
	Secret    []byte // webhook HMAC key
	CreatedAt time.Time
}

// PutAbuseContact adds or replaces the contact of a scope and key.
func (tx *Tx) PutAbuseContact(ctx context.Context, c *AbuseContact) error {
	op := fmt.Sprintf("put abuse contact %s %s", c.Scope, c.Key)
	err := tx.queryRow(ctx, `INSERT INTO abuse_contacts (scope, key, channel, address, secret, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (scope, key) DO UPDATE SET channel = excluded.channel, address = excluded.address,
			secret = excluded.secret, created_at = excluded.created_at
		RETURNING id`, c.Scope, c.Key, c.Channel, c.Address, nullBytes(c.Secret), tx.timeArg(tx.now)).Scan(&c.ID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	c.CreatedAt = tx.now
	return nil
}

// FindAbuseContact returns the most specific contact for a host: the first
// of domains (most specific first: the host, then its parents) that has
// one, then the network, then the country. ENOTFOUND when there is none.
func (tx *Tx) FindAbuseContact(ctx context.Context, domains []string, asn uint32, country string) (AbuseContact, error) {
	keys := []struct{ scope, key string }{}
	for _, d := range domains {
		keys = append(keys, struct{ scope, key string }{"domain", d})
	}
	if asn != 0 {
		keys = append(keys, struct{ scope, key string }{"asn", fmt.Sprint(asn)})
	}
	if country != "" {
		keys = append(keys, struct{ scope, key string }{"country", country})
	}
	for _, k := range keys {
		var c AbuseContact
		err := tx.queryRow(ctx, `SELECT id, scope, key, channel, address, secret, created_at FROM abuse_contacts
			WHERE scope = $1 AND key = $2`, k.scope, k.key).Scan(&c.ID, &c.Scope, &c.Key, &c.Channel, &c.Address,
			&c.Secret, scanTime(&c.CreatedAt))
		if err == nil {
			return c, nil
		}
		if e := wrapErr(err, "find abuse contact", errMsgs{notFound: "No abuse contact."}); alliance.ErrorCode(e) != alliance.ENOTFOUND {
			return AbuseContact{}, e
		}
	}
	return AbuseContact{}, notFound("find abuse contact", "No abuse contact.")
}

// AbuseContacts lists every contact, by scope and key.
func (tx *Tx) AbuseContacts(ctx context.Context) ([]AbuseContact, error) {
	rows, err := tx.query(ctx, `SELECT id, scope, key, channel, address, secret, created_at FROM abuse_contacts ORDER BY scope, key`)
	if err != nil {
		return nil, wrapErr(err, "abuse contacts", errMsgs{})
	}
	defer rows.Close()
	var out []AbuseContact
	for rows.Next() {
		var c AbuseContact
		if err := rows.Scan(&c.ID, &c.Scope, &c.Key, &c.Channel, &c.Address, &c.Secret, scanTime(&c.CreatedAt)); err != nil {
			return nil, wrapErr(err, "abuse contacts", errMsgs{})
		}
		out = append(out, c)
	}
	return out, wrapErr(rows.Err(), "abuse contacts", errMsgs{})
}

// NoticeTemplate returns an organisation's notice template; ENOTFOUND when
// it has none (the built-in one applies).
func (tx *Tx) NoticeTemplate(ctx context.Context, orgID int64) (subject, body string, err error) {
	err = tx.queryRow(ctx, `SELECT subject, body FROM notice_templates WHERE org_id = $1`, orgID).Scan(&subject, &body)
	return subject, body, wrapErr(err, fmt.Sprintf("notice template of organisation %d", orgID), errMsgs{notFound: "No notice template."})
}

// PutNoticeTemplate sets an organisation's notice template.
func (tx *Tx) PutNoticeTemplate(ctx context.Context, orgID int64, subject, body string) error {
	_, err := tx.exec(ctx, `INSERT INTO notice_templates (org_id, subject, body, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`,
		orgID, subject, body, tx.timeArg(tx.now))
	return wrapErr(err, fmt.Sprintf("put notice template of organisation %d", orgID), errMsgs{})
}
