package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/trace"
)

// Tracing policy. A failed trace (nxdomain, timeout, no data, a DNS error)
// is recorded on the item and retried with exponential backoff: names of
// abused hosts come and go, and DNS fails for a while. After
// MaxTraceAttempts tries, or at once for a host no lookup can resolve (an
// invalid name), the item is routed no-hotline as untraceable, so it is
// never stuck and never lost; Retrace starts a new round.
const (
	MaxTraceAttempts = 5
	traceBackoffBase = 30 * time.Second // after the first failure; doubles after each
	traceBackoffMax  = 6 * time.Hour
	// traceLease is how long a claimed item waits for its trace to be
	// recorded before another batch may claim it (the process died).
	traceLease        = 10 * time.Minute
	DefaultTraceBatch = 500
	MaxTraceBatch     = 5000
)

// TraceBatch traces and routes up to limit items that wait for a trace (new
// items, failed traces whose backoff has passed, re-traces), and returns how
// many it recorded. limit 0 means DefaultTraceBatch; at most MaxTraceBatch.
//
// It is the node's own work: it acts as the system actor (jobs call it with
// the system actor or none); a user is refused. The items are claimed in
// one short transaction, traced outside any transaction (DNS may take
// seconds), and their traces and routes recorded in a second one, with an
// "item.route" audit row per routed item. Without a Tracer (Options) it
// does nothing. Duplicates are never traced: they follow their original.
func (a *App) TraceBatch(ctx context.Context, limit int) (int, error) {
	if alliance.ActorFromContext(ctx).UserID != 0 {
		return 0, alliance.Errorf(alliance.EFORBIDDEN, "Tracing is done by the node itself.")
	}
	if a.tracer == nil {
		a.noTracerOnce.Do(func() { a.log.WarnContext(ctx, "trace: no tracer configured; items stay untraced") })
		return 0, nil
	}
	switch {
	case limit <= 0:
		limit = DefaultTraceBatch
	case limit > MaxTraceBatch:
		limit = MaxTraceBatch
	}
	ctx = alliance.NewContextWithActor(ctx, alliance.SystemActor)
	var claims []store.TraceClaim
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		claims, err = tx.ClaimTraces(ctx, limit, traceLease)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("app: trace batch: %w", err)
	}
	if len(claims) == 0 {
		return 0, nil
	}
	hosts := make([]string, len(claims))
	for i, c := range claims {
		hosts[i] = c.Host
	}
	results := a.tracer.TraceBatch(ctx, hosts, a.traceConcurrency)
	if err := ctx.Err(); err != nil {
		// Shutting down: the claims lapse and the items are traced again later.
		return 0, fmt.Errorf("app: trace batch: %w", err)
	}
	var n int
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		outs, orgs, err := a.decideRoutes(ctx, tx, claims, results)
		if err != nil {
			return err
		}
		applied, err := tx.RecordTraces(ctx, outs)
		if err != nil {
			return err
		}
		var events []*alliance.AuditEvent
		for _, o := range applied {
			if o.Route != nil {
				events = append(events, auditFor(ctx, orgs[o.Claim.OrgID].Code, "item.route", "item",
					strconv.FormatInt(o.Claim.ItemID, 10)))
			}
		}
		n = len(applied)
		if err := tx.AppendAudits(ctx, events); err != nil {
			return err
		}
		if err := a.forwardRouted(ctx, tx, applied); err != nil {
			return err
		}
		for _, o := range applied {
			if o.Route != nil && o.Claim.Takedown == alliance.TakedownMoved {
				if err := a.renotifyMoved(ctx, tx, o.Claim.ItemID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("app: trace batch: %w", err)
	}
	return n, nil
}

// decideRoutes turns trace results into outcomes: a route, or a retry time.
func (a *App) decideRoutes(ctx context.Context, tx *store.Tx, claims []store.TraceClaim, results []trace.Result) (
	[]store.TraceOutcome, map[int64]alliance.Organisation, error) {
	list, err := tx.Organisations(ctx)
	if err != nil {
		return nil, nil, err
	}
	orgs := make(map[int64]alliance.Organisation, len(list))
	for _, o := range list {
		orgs[o.ID] = o
	}
	hotlines, err := tx.MemberHotlines(ctx)
	if err != nil {
		return nil, nil, err
	}
	hotline := func(cc string) (string, bool) {
		code, ok := hotlines[cc]
		return code, ok
	}
	outs := make([]store.TraceOutcome, len(claims))
	for i, c := range claims {
		res := results[i]
		tr := alliance.Trace{Status: alliance.TraceStatus(res.Status), Country: res.Country, ASN: res.ASN,
			ASOrg: res.ASOrg, DataDate: res.DataDate, Attempts: c.Attempts + 1}
		if res.IP.IsValid() {
			tr.IP = res.IP.String()
		}
		o := store.TraceOutcome{Claim: c, Trace: tr}
		unresolvable := res.Status == trace.StatusError && !res.Transient
		if res.Status == trace.StatusOK || unresolvable || tr.Attempts >= MaxTraceAttempts {
			r := alliance.DecideRoute(orgs[c.OrgID], tr, hotline)
			o.Route = &r
		} else {
			o.RetryAt = tx.Now().Add(backoff(traceBackoffBase, traceBackoffMax, tr.Attempts))
			a.log.DebugContext(ctx, "trace failed; will retry", "item", c.ItemID, "status", res.Status,
				"attempts", tr.Attempts, "err", res.Err)
		}
		outs[i] = o
	}
	return outs, orgs, nil
}

// Retrace queues an item for a new trace; its route may change, and the
// earlier traces and routes stay in its history. It needs PermViewReports
// and an item the actor may see (see Item); a duplicate is not traced
// (its original is), which is EINVALID.
func (a *App) Retrace(ctx context.Context, itemID int64) error {
	actor, err := require(ctx, alliance.PermViewReports)
	if err != nil {
		return err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		it, err := visibleItem(ctx, tx, actor, itemID)
		if err != nil {
			return err
		}
		if it.DuplicateOf != nil {
			return alliance.Errorf(alliance.EINVALID,
				"This item is a duplicate of item %d, which is traced in its place.", *it.DuplicateOf)
		}
		if err := tx.Retrace(ctx, itemID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, it.OrgCode, "item.retrace", "item", strconv.FormatInt(itemID, 10)))
	})
	if err != nil {
		return fmt.Errorf("app: retrace item %d: %w", itemID, err)
	}
	return nil
}

// renotifyMoved starts the takedown of an item whose content moved to a
// new host once the new host is traced and routed: the verdict stands (the
// content is the same), and the police of the new route's country are
// notified, as for a new assessment.
func (a *App) renotifyMoved(ctx context.Context, tx *store.Tx, itemID int64) error {
	it, err := tx.ItemByID(ctx, itemID)
	if err != nil || it.Takedown.Status != alliance.TakedownMoved || it.Route == nil {
		return err
	}
	where := it.Route.OrgCode
	if it.Trace != nil && it.Trace.Country != "" {
		where = alliance.CountryName(it.Trace.Country) + ", " + it.Route.OrgCode
	}
	if err := tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: alliance.TakedownMoved, To: alliance.TakedownAssessed,
		Actor: "system", OrgCode: it.Route.OrgCode, Reason: "Traced again after the move: now " + where + "."}); err != nil {
		return err
	}
	return a.notifyPolice(ctx, tx, it, alliance.TakedownAssessed)
}
