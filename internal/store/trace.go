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

// TraceClaim is an item claimed for tracing by ClaimTraces.
type TraceClaim struct {
	ItemID   int64
	OrgID    int64 // the receiving organisation
	Host     string
	Attempts int       // traces tried so far in this round
	Lease    time.Time // the claim: recording the trace requires it unchanged
	// Takedown is the item's takedown state: a moved item is notified
	// afresh once its new route is decided.
	Takedown alliance.TakedownStatus
}

// ClaimTraces claims up to limit items whose trace is due (next_trace_at at
// or before the transaction's time), most overdue first, by moving their
// next_trace_at to now + lease. The tracer then resolves them outside any
// transaction; an item whose trace is not recorded by then (a crashed
// process) is due again when the lease ends, so none is lost. On PostgreSQL
// rows locked by another claimer are skipped, so several processes never
// claim the same item.
func (tx *Tx) ClaimTraces(ctx context.Context, limit int, lease time.Duration) ([]TraceClaim, error) {
	out, err := claimDue(ctx, tx, "claim traces", "items", "next_trace_at", limit, lease,
		`id, org_id, host, trace_attempts, takedown_status`, func(rows *sql.Rows, until time.Time) (TraceClaim, error) {
			c := TraceClaim{Lease: until}
			var td string
			err := rows.Scan(&c.ItemID, &c.OrgID, &c.Host, &c.Attempts, &td)
			c.Takedown = alliance.TakedownStatus(td)
			return c, err
		})
	slices.SortFunc(out, func(a, b TraceClaim) int { return cmp.Compare(a.ItemID, b.ItemID) })
	return out, err
}

// TraceOutcome is the trace of a claimed item, and the route decided from it.
type TraceOutcome struct {
	Claim TraceClaim
	Trace alliance.Trace // TracedAt becomes the transaction's time
	// Route, when set, routes the item (status routed, no trace due) and is
	// appended to its route history. Nil keeps the item's status and route
	// and makes its trace due again at RetryAt.
	Route   *alliance.Route
	RetryAt time.Time
}

// RecordTraces records the traces of claimed items and returns the
// outcomes it applied. An outcome whose claim has lapsed (the item was
// claimed again, or queued for a re-trace, since) is skipped: the newer
// claim records its own trace.
func (tx *Tx) RecordTraces(ctx context.Context, outs []TraceOutcome) ([]TraceOutcome, error) {
	const op = "record traces"
	now := tx.timeArg(tx.now)
	var (
		applied []TraceOutcome
		history []any
	)
	for _, o := range outs {
		tr := o.Trace
		args := []any{string(tr.Status), nullString(tr.IP), nullString(tr.Country), nullASN(tr.ASN), nullString(tr.ASOrg),
			nullString(tr.DataDate), now, tr.Attempts, o.Claim.ItemID, tx.timeArg(o.Claim.Lease)}
		q := `UPDATE items SET trace_status = $1, ip = $2, country = $3, asn = $4, as_org = $5, data_date = $6,
			traced_at = $7, trace_attempts = $8, `
		if r := o.Route; r != nil {
			// A routed item is fetched next (again, after a re-trace: the
			// content may have moved).
			q += `next_trace_at = NULL, status = 'routed', route_kind = $11, route_org = $12, route_police = $13,
				route_reason = $14, routed_at = $7, next_fetch_at = $7, fetch_attempts = 0`
			args = append(args, string(r.Kind), r.OrgCode, r.Police, r.Reason)
		} else {
			q += `next_trace_at = $11`
			args = append(args, tx.timeArg(o.RetryAt))
		}
		res, err := tx.exec(ctx, q+` WHERE id = $9 AND next_trace_at = $10`, args...)
		if err != nil {
			return nil, wrapErr(err, fmt.Sprintf("%s: item %d", op, o.Claim.ItemID), errMsgs{})
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		} else if n == 0 {
			continue
		}
		o.Trace.TracedAt = tx.now
		if r := o.Route; r != nil {
			r.DecidedAt = tx.now
			history = append(history, o.Claim.ItemID, string(r.Kind), r.OrgCode, r.Police, r.Reason,
				string(tr.Status), tr.IP, tr.Country, int64(tr.ASN), tr.ASOrg, tr.DataDate, now, now)
		}
		applied = append(applied, o)
	}
	const cols = 13
	for chunk := range slices.Chunk(history, maxParams/cols*cols) {
		_, err := tx.execBulk(ctx, `INSERT INTO item_routes (item_id, kind, org, police, reason,
			trace_status, ip, country, asn, as_org, data_date, traced_at, decided_at)
			VALUES `+valuesList(len(chunk)/cols, cols), chunk...)
		if err != nil {
			return nil, wrapErr(err, op+": route history", errMsgs{})
		}
	}
	return applied, nil
}

func nullASN(asn uint32) any {
	if asn == 0 {
		return nil
	}
	return int64(asn)
}

// Retrace makes the item's trace due now, as a new round (no attempts yet);
// its status and current route stay until the new trace decides a route.
// Duplicates are not traced: ENOTFOUND if there is no such item that is
// not a duplicate.
func (tx *Tx) Retrace(ctx context.Context, itemID int64) error {
	op := fmt.Sprintf("retrace item %d", itemID)
	res, err := tx.exec(ctx, `UPDATE items SET trace_status = 'pending', trace_attempts = 0, next_trace_at = $1
		WHERE id = $2 AND status <> 'duplicate'`, tx.timeArg(tx.now), itemID)
	if err != nil {
		return wrapErr(err, op, errMsgs{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapErr(err, op, errMsgs{})
	} else if n == 0 {
		return notFound(op, "Item not found.")
	}
	return nil
}

// MemberHotlines returns the hotline organisation of each member country,
// by ISO country code: where a route may forward an item.
func (tx *Tx) MemberHotlines(ctx context.Context) (map[string]string, error) {
	const op = "member hotlines"
	rows, err := tx.query(ctx, `SELECT o.country_code, o.code FROM organisations o
		JOIN countries c ON c.code = o.country_code
		WHERE o.kind = $1 AND c.member ORDER BY o.code`, string(alliance.OrgHotline))
	if err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var cc, code string
		if err := rows.Scan(&cc, &code); err != nil {
			return nil, wrapErr(err, op, errMsgs{})
		}
		if _, ok := out[cc]; !ok {
			out[cc] = code
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(err, op, errMsgs{})
	}
	return out, nil
}
