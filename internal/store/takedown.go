package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"alliance"
)

// InsertAssessment records an assessment of an item by organisation orgID
// and returns its id; CreatedAt becomes the transaction's time.
func (tx *Tx) InsertAssessment(ctx context.Context, a *alliance.Assessment, orgID int64) (int64, error) {
	op := fmt.Sprintf("insert assessment of item %d", a.ItemID)
	labels, err := json.Marshal(a.Labels)
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", op, err)
	}
	if a.Labels == nil {
		labels = []byte("{}")
	}
	var id int64
	err = tx.queryRow(ctx, `INSERT INTO assessments (item_id, org_id, analyst_id, analyst_label, verdict, content_type,
		scheme, labels, note, agreement, inherited, source, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		a.ItemID, orgID, a.AnalystID, a.Analyst, string(a.Verdict), string(a.ContentType), a.Scheme, string(labels),
		a.Note, string(a.Agreement), a.Inherited, a.Source, tx.timeArg(tx.now)).Scan(&id)
	if err != nil {
		return 0, wrapErr(err, op, errMsgs{})
	}
	a.ID, a.CreatedAt = id, tx.now
	return id, nil
}

// ItemAssessments returns the assessments of an item, oldest first.
func (tx *Tx) ItemAssessments(ctx context.Context, itemID int64) ([]alliance.Assessment, error) {
	op := fmt.Sprintf("assessments of item %d", itemID)
	rows, err := tx.query(ctx, `SELECT a.id, a.item_id, o.code, a.analyst_id, a.analyst_label, a.verdict, a.content_type,
		a.scheme, a.labels, a.note, a.agreement, a.inherited, a.source, a.created_at
		FROM assessments a JOIN organisations o ON o.id = a.org_id WHERE a.item_id = $1 ORDER BY a.id`, itemID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Assessment
	for rows.Next() {
		var (
			a                                alliance.Assessment
			verdict, ctype, labels, agreemnt string
		)
		if err := rows.Scan(&a.ID, &a.ItemID, &a.OrgCode, &a.AnalystID, &a.Analyst, &verdict, &ctype, &a.Scheme,
			&labels, &a.Note, &agreemnt, &a.Inherited, &a.Source, scanTime(&a.CreatedAt)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		a.Verdict, a.ContentType, a.Agreement = alliance.Verdict(verdict), alliance.ContentType(ctype), alliance.Agreement(agreemnt)
		if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
			return nil, fmt.Errorf("store: %s: labels of assessment %d: %w", op, a.ID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}

// TakedownHistory returns every takedown transition of an item, oldest first.
func (tx *Tx) TakedownHistory(ctx context.Context, itemID int64) ([]alliance.TakedownEvent, error) {
	op := fmt.Sprintf("takedown history of item %d", itemID)
	rows, err := tx.query(ctx, `SELECT item_id, from_status, to_status, actor_label, org_code, reason, at
		FROM takedown_events WHERE item_id = $1 ORDER BY id`, itemID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.TakedownEvent
	for rows.Next() {
		var (
			e        alliance.TakedownEvent
			from, to string
		)
		if err := rows.Scan(&e.ItemID, &from, &to, &e.Actor, &e.OrgCode, &e.Reason, scanTime(&e.At)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		e.From, e.To = alliance.TakedownStatus(from), alliance.TakedownStatus(to)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}

// Stamp names the time column a takedown transition sets to the
// transaction's time.
type Stamp string

// The stamps. The first notice's time is set once; later notices move
// only last_notice_at.
const (
	StampNone     Stamp = ""
	StampAssessed Stamp = "assessed_at"
	StampNotified Stamp = "police_notified_at"
	StampNotice   Stamp = "first_notice_at"
	StampRemoved  Stamp = "removed_at"
)

// TakedownMove is one transition of an item's takedown, with what changes
// along with the state. Nil pointers leave their column as it is.
type TakedownMove struct {
	ItemID   int64
	From, To alliance.TakedownStatus
	ActorID  int64
	Actor    string // label
	OrgCode  string
	Reason   string

	Verdict  *alliance.Verdict
	Disputed *bool
	Police   *string
	// SetHold sets hold_until and hold_reason (a zero HoldUntil clears them).
	SetHold    bool
	HoldUntil  time.Time
	HoldReason string
	Stamp      Stamp
	// SetNext sets next_takedown_at (a zero Next clears it).
	SetNext bool
	Next    time.Time
}

// MoveTakedown applies a transition if the item is still in state From and
// records it in takedown_events. An item in another state is ECONFLICT
// naming its state, so a concurrent change is never overwritten.
func (tx *Tx) MoveTakedown(ctx context.Context, m TakedownMove) error {
	op := fmt.Sprintf("move takedown of item %d to %s", m.ItemID, m.To)
	if err := m.From.CheckMove(m.To); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	now := tx.timeArg(tx.now)
	args := []any{string(m.To), now, m.ItemID, string(m.From)}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	q := `UPDATE items SET takedown_status = $1, takedown_updated_at = $2`
	if m.Verdict != nil {
		q += `, verdict = ` + arg(string(*m.Verdict))
	}
	if m.Disputed != nil {
		q += `, disputed = ` + arg(*m.Disputed)
	}
	if m.Police != nil {
		q += `, takedown_police = ` + arg(*m.Police)
	}
	if m.SetHold {
		if m.HoldUntil.IsZero() {
			q += `, hold_until = NULL, hold_reason = ''`
		} else {
			q += `, hold_until = ` + arg(tx.timeArg(m.HoldUntil)) + `, hold_reason = ` + arg(m.HoldReason)
		}
	}
	switch m.Stamp {
	case StampNone:
	case StampNotice:
		q += `, first_notice_at = COALESCE(first_notice_at, $2), last_notice_at = $2, notices_sent = notices_sent + 1`
	case StampAssessed, StampNotified, StampRemoved:
		q += `, ` + string(m.Stamp) + ` = $2`
	default:
		return fmt.Errorf("store: %s: unknown stamp %q", op, m.Stamp)
	}
	if m.SetNext {
		if m.Next.IsZero() {
			q += `, next_takedown_at = NULL`
		} else {
			q += `, next_takedown_at = ` + arg(tx.timeArg(m.Next))
		}
	}
	res, err := tx.exec(ctx, q+` WHERE id = $3 AND takedown_status = $4`, args...)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		var cur string
		err := tx.queryRow(ctx, `SELECT takedown_status FROM items WHERE id = $1`, m.ItemID).Scan(&cur)
		if err != nil {
			return wrapErr(err, op, errMsgs{notFound: "Item not found."})
		}
		return fmt.Errorf("store: %s: %w", op, alliance.TakedownStatus(cur).CheckMove(m.To))
	}
	_, err = tx.exec(ctx, `INSERT INTO takedown_events (item_id, from_status, to_status, actor_id, actor_label, org_code, reason, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.ItemID, string(m.From), string(m.To), m.ActorID, m.Actor, m.OrgCode, m.Reason, now)
	if err != nil {
		return wrapErr(err, op+": event", errMsgs{})
	}
	return tx.reportStatusBack(ctx, m)
}

// reportStatusBack queues, for an item a peer forwarded here, the new
// takedown status in the peer's feed, in the transaction of the change:
// every path that moves a takedown reports it, and none twice.
func (tx *Tx) reportStatusBack(ctx context.Context, m TakedownMove) error {
	op := fmt.Sprintf("report status of item %d back", m.ItemID)
	var from, remote string
	if err := tx.queryRow(ctx, `SELECT received_from, remote_item FROM items WHERE id = $1`, m.ItemID).Scan(&from, &remote); err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if from == "" {
		return nil
	}
	p, err := tx.PeerByNodeID(ctx, from)
	if alliance.ErrorCode(err) == alliance.ENOTFOUND {
		return nil // no longer a peer: nothing to report to
	} else if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		Item   string    `json:"item"`
		Status string    `json:"status"`
		Org    string    `json:"org"`
		At     time.Time `json:"at"`
	}{remote, string(m.To), m.OrgCode, tx.now})
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return tx.QueueOutbox(ctx, p.ID, "item_status", fmt.Sprintf("item_status:%s:%s:%d", remote, m.To, tx.now.UnixMicro()), body)
}

// SetDisputed flags or clears an item's dispute without a transition.
func (tx *Tx) SetDisputed(ctx context.Context, itemID int64, disputed bool) error {
	_, err := tx.exec(ctx, `UPDATE items SET disputed = $1 WHERE id = $2`, disputed, itemID)
	return wrapErr(err, fmt.Sprintf("set disputed of item %d", itemID), errMsgs{})
}

// QueueQuery selects an organisation's queue. Empty fields do not filter.
type QueueQuery struct {
	OrgCode  string // the organisation the items are routed to
	Police   bool   // the police queue: items whose takedown police is OrgCode
	Country  string
	Route    alliance.RouteKind
	Status   alliance.TakedownStatus // police queue only; default: notified and held
	Disputed bool                    // only disputed items (a supervisor's queue)
	Limit    int
}

// priority orders a queue for victim identification: new material first
// (no match, no series), then material of series not yet identified, then
// partially known material, then material of identified series.
const priority = `CASE
	WHEN EXISTS (SELECT 1 FROM item_series l JOIN series s ON s.id = l.series_id
		WHERE l.item_id = i.id AND s.status IN ('identified', 'safeguarded')) THEN 3
	WHEN EXISTS (SELECT 1 FROM item_series l WHERE l.item_id = i.id) THEN 1
	WHEN i.known = 'partial' THEN 2
	ELSE 0 END`

// Queue returns the items waiting for an organisation.
//
// The analyst queue holds the routed items routed to the organisation that
// nobody has assessed and that are not known (known items inherit their
// classification and never reach an analyst), in priority order, oldest
// first within each.
// The police queue holds the items whose takedown notifies the organisation,
// waiting for its decision (notified, or on hold), oldest first.
func (tx *Tx) Queue(ctx context.Context, q QueueQuery) ([]alliance.Item, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("store: queue: limit %d", q.Limit)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var cond, order string
	switch {
	case q.Police:
		cond = `i.takedown_police = ` + arg(q.OrgCode)
		if q.Status != "" {
			cond += ` AND i.takedown_status = ` + arg(string(q.Status))
		} else {
			cond += ` AND i.takedown_status IN ('police_notified', 'police_hold')`
		}
		order = ` ORDER BY ` + priority + `, i.police_notified_at, i.id`
	case q.Disputed:
		cond = `i.route_org = ` + arg(q.OrgCode) + ` AND i.disputed`
		order = ` ORDER BY i.assessed_at, i.id`
	default:
		cond = `i.route_org = ` + arg(q.OrgCode) + ` AND ` + analystQueued
	}
	if q.Country != "" {
		cond += ` AND i.country = ` + arg(q.Country)
	}
	if q.Route != "" {
		cond += ` AND i.route_kind = ` + arg(string(q.Route))
	}
	if order != "" {
		return tx.itemsWhere(ctx, "queue", cond+order+` LIMIT `+arg(q.Limit), args...)
	}
	// The analyst queue is read one priority class at a time, each oldest
	// first through items_analyst_queue, until the page is full: a read
	// costs the page, not the backlog. One ORDER BY over the priority
	// expression sorted every waiting item on every read, and at a backlog
	// of 100,000 reports a read took 40 ms of CPU.
	var out []alliance.Item
	for _, class := range analystClasses {
		page, err := tx.itemsWhere(ctx, "queue", cond+` AND `+class+` ORDER BY i.created_at, i.id LIMIT `+
			"$"+strconv.Itoa(len(args)+1), append(args, q.Limit-len(out))...)
		if err != nil {
			return nil, err
		}
		if out = append(out, page...); len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// analystQueued is the condition of an item waiting for an analyst: routed,
// not assessed, not known. items_analyst_queue indexes exactly these rows.
const analystQueued = `i.status = 'routed' AND i.takedown_status = '' AND (i.known IS NULL OR i.known <> 'known')`

// analystClasses are the analyst queue's priority classes in order (see
// priority): new material, unidentified series, partially known material,
// identified series.
var analystClasses = []string{
	`NOT EXISTS (SELECT 1 FROM item_series l WHERE l.item_id = i.id) AND (i.known IS NULL OR i.known <> 'partial')`,
	`EXISTS (SELECT 1 FROM item_series l WHERE l.item_id = i.id) AND NOT ` + identifiedSeriesLink,
	`NOT EXISTS (SELECT 1 FROM item_series l WHERE l.item_id = i.id) AND i.known = 'partial'`,
	identifiedSeriesLink,
}

const identifiedSeriesLink = `EXISTS (SELECT 1 FROM item_series l JOIN series s ON s.id = l.series_id
	WHERE l.item_id = i.id AND s.status IN ('identified', 'safeguarded'))`

// StatsQuery selects the items the takedown figures are computed from:
// illegal items (verdict baseline or national) reported in [From, To).
type StatsQuery struct {
	// Visibility: the items received by OrgID or routed to OrgCode; All
	// counts every item of the node.
	OrgID   int64
	OrgCode string
	All     bool
	From    time.Time
	To      time.Time
	Country string
	ASN     uint32
}

// TakedownSamples returns the hosting and the times of the items q selects.
func (tx *Tx) TakedownSamples(ctx context.Context, q StatsQuery) ([]alliance.TakedownSample, error) {
	const op = "takedown samples"
	args := []any{tx.timeArg(q.From), tx.timeArg(q.To)}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	cond := `verdict IN ('baseline', 'national') AND created_at >= $1 AND created_at < $2`
	if !q.All {
		cond += ` AND (org_id = ` + arg(q.OrgID) + ` OR route_org = ` + arg(q.OrgCode) + `)`
	}
	if q.Country != "" {
		cond += ` AND country = ` + arg(q.Country)
	}
	if q.ASN != 0 {
		cond += ` AND asn = ` + arg(int64(q.ASN))
	}
	rows, err := tx.query(ctx, `SELECT COALESCE(country, ''), COALESCE(asn, 0), COALESCE(as_org, ''), created_at,
		first_notice_at, removed_at FROM items WHERE `+cond, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.TakedownSample
	for rows.Next() {
		var (
			s   alliance.TakedownSample
			asn int64
		)
		if err := rows.Scan(&s.Country, &asn, &s.ASOrg, scanTime(&s.ReportedAt), scanNullTime(&s.NoticeAt), scanNullTime(&s.RemovedAt)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		s.ASN = uint32(asn)
		out = append(out, s)
	}
	return out, wrapErr(rows.Err(), op, errMsgs{})
}
