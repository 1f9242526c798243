package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"alliance"
)

// itemColumns are the columns scanned by scanItem, from items i joined with
// organisations o (the receiving organisation).
const itemColumns = `i.id, i.report_id, i.org_id, o.code, i.url, i.canonical_url, i.host, i.registrable_domain,
	i.dedupe_key, i.duplicate_of, i.status, i.created_at,
	i.trace_status, i.ip, i.country, i.asn, i.as_org, i.data_date, i.traced_at, i.trace_attempts,
	i.route_kind, i.route_org, i.route_police, i.route_reason, i.routed_at,
	i.fetch_status, i.fetch_reason, i.fetch_http_status, i.fetch_content_type, i.fetch_page, i.fetch_truncated,
	i.fetch_attempts, i.fetched_at, i.known, i.known_scheme, i.known_category,
	i.takedown_status, i.verdict, i.disputed, i.takedown_police, i.hold_until, i.hold_reason, i.assessed_at,
	i.police_notified_at, i.first_notice_at, i.removed_at, i.takedown_updated_at, i.next_takedown_at,
	i.notices_sent, i.rechecks, i.last_check, i.last_check_at`

const itemFrom = ` FROM items i JOIN organisations o ON o.id = i.org_id`

func scanItem(row interface{ Scan(...any) error }) (alliance.Item, error) {
	var (
		it                             alliance.Item
		dup, asn                       sql.NullInt64
		status, traceStatus            string
		ip, country, asOrg, dataDate   sql.NullString
		kind, routeOrg, police, reason sql.NullString
		tracedAt, routedAt, fetchedAt  *time.Time
		attempts                       int
		f                              alliance.Fetch
		fetchStatus, known             sql.NullString
		knownScheme, knownCategory     string
		td                             alliance.Takedown
		tdStatus, verdict              string
		tdUpdated                      *time.Time
	)
	err := row.Scan(&it.ID, &it.ReportID, &it.OrgID, &it.OrgCode, &it.URL, &it.CanonicalURL, &it.Host,
		&it.RegistrableDomain, &it.DedupeKey, &dup, &status, scanTime(&it.CreatedAt),
		&traceStatus, &ip, &country, &asn, &asOrg, &dataDate, scanNullTime(&tracedAt), &attempts,
		&kind, &routeOrg, &police, &reason, scanNullTime(&routedAt),
		&fetchStatus, &f.Reason, &f.HTTPStatus, &f.ContentType, &f.Page, &f.Truncated,
		&f.Attempts, scanNullTime(&fetchedAt), &known, &knownScheme, &knownCategory,
		&tdStatus, &verdict, &td.Disputed, &td.Police, scanNullTime(&td.HoldUntil), &td.HoldReason,
		scanNullTime(&td.AssessedAt), scanNullTime(&td.NotifiedAt), scanNullTime(&td.NoticeAt),
		scanNullTime(&td.RemovedAt), scanNullTime(&tdUpdated), scanNullTime(&td.NextAction),
		&td.Notices, &td.Rechecks, &td.LastCheck, scanNullTime(&td.LastCheckAt))
	if err != nil {
		return alliance.Item{}, err
	}
	it.Status = alliance.ItemStatus(status)
	if dup.Valid {
		it.DuplicateOf = &dup.Int64
	}
	if tracedAt != nil {
		it.Trace = &alliance.Trace{
			Status: alliance.TraceStatus(traceStatus), IP: ip.String, Country: country.String,
			ASN: uint32(asn.Int64), ASOrg: asOrg.String, DataDate: dataDate.String,
			TracedAt: *tracedAt, Attempts: attempts,
		}
	}
	if kind.Valid {
		it.Route = &alliance.Route{Kind: alliance.RouteKind(kind.String), OrgCode: routeOrg.String,
			Police: police.String, Reason: reason.String}
		if routedAt != nil {
			it.Route.DecidedAt = *routedAt
		}
	}
	if fetchedAt != nil {
		f.Status, f.FetchedAt = alliance.FetchStatus(fetchStatus.String), *fetchedAt
		it.Fetch = &f
	}
	td.Status, td.Verdict = alliance.TakedownStatus(tdStatus), alliance.Verdict(verdict)
	if tdUpdated != nil {
		td.UpdatedAt = *tdUpdated
	}
	it.Takedown = td
	if known.Valid {
		it.Known = alliance.Known(known.String)
		if knownCategory != "" {
			it.KnownClassification = &alliance.Classification{Scheme: knownScheme, Category: knownCategory}
		}
	}
	return it, nil
}

// itemsWhere returns the items matching a condition on items i (and
// organisations o), which may end in ORDER BY and LIMIT.
func (tx *Tx) itemsWhere(ctx context.Context, op, cond string, args ...any) ([]alliance.Item, error) {
	rows, err := tx.query(ctx, `SELECT `+itemColumns+itemFrom+` WHERE `+cond, args...)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}

// ItemByID returns the item with the id and its current trace and route
// (RouteHistory is not filled: see RouteHistory); ENOTFOUND if none.
func (tx *Tx) ItemByID(ctx context.Context, id int64) (alliance.Item, error) {
	it, err := scanItem(tx.queryRow(ctx, `SELECT `+itemColumns+itemFrom+` WHERE i.id = $1`, id))
	if err != nil {
		return alliance.Item{}, wrapErr(err, fmt.Sprintf("item %d", id), errMsgs{notFound: "Item not found."})
	}
	return it, nil
}

// RouteHistory returns every route decided for the item, oldest first.
func (tx *Tx) RouteHistory(ctx context.Context, itemID int64) ([]alliance.Route, error) {
	op := fmt.Sprintf("route history of item %d", itemID)
	rows, err := tx.query(ctx, `SELECT kind, org, police, reason, decided_at FROM item_routes
		WHERE item_id = $1 ORDER BY id`, itemID)
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	var out []alliance.Route
	for rows.Next() {
		var (
			r    alliance.Route
			kind string
		)
		if err := rows.Scan(&kind, &r.OrgCode, &r.Police, &r.Reason, scanTime(&r.DecidedAt)); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		r.Kind = alliance.RouteKind(kind)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}

// ItemQuery selects items for ListItems. Empty fields do not filter.
type ItemQuery struct {
	// Visibility: the items received by OrgID or routed to OrgCode. All
	// lists every item instead (the system actor).
	OrgID   int64
	OrgCode string
	All     bool

	Status  alliance.ItemStatus
	Country string // hosting country
	Route   alliance.RouteKind
	Before  int64 // only ids below it (the cursor); 0: from the newest
	Limit   int   // required, > 0
}

// ListItems returns the items q selects, newest (highest id) first.
//
// Visible items are those an organisation received and those routed to it;
// each set is read from its own index in id order and the two are merged,
// so a page costs about Limit rows of each however many items there are.
func (tx *Tx) ListItems(ctx context.Context, q ItemQuery) ([]alliance.Item, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("store: list items: limit %d", q.Limit)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var filters string
	if q.Status != "" {
		filters += ` AND status = ` + arg(string(q.Status))
	}
	if q.Country != "" {
		filters += ` AND country = ` + arg(q.Country)
	}
	if q.Route != "" {
		filters += ` AND route_kind = ` + arg(string(q.Route))
	}
	if q.Before > 0 {
		filters += ` AND id < ` + arg(q.Before)
	}
	limit := arg(q.Limit)
	var cond string
	if q.All {
		cond = `i.id IN (SELECT id FROM items WHERE TRUE` + filters + ` ORDER BY id DESC LIMIT ` + limit + `)`
	} else {
		org, code := arg(q.OrgID), arg(q.OrgCode)
		cond = `i.id IN (
			SELECT id FROM (SELECT id FROM items WHERE org_id = ` + org + filters + `
				ORDER BY id DESC LIMIT ` + limit + `) AS received
			UNION ALL
			SELECT id FROM (SELECT id FROM items WHERE route_org = ` + code + ` AND org_id <> ` + org + filters + `
				ORDER BY id DESC LIMIT ` + limit + `) AS routed)`
	}
	return tx.itemsWhere(ctx, "list items", cond+` ORDER BY i.id DESC LIMIT `+limit, args...)
}
