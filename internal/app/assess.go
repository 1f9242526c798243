package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"alliance"
	"alliance/internal/store"
)

// DefaultPoliceGrace is how long the police have after being notified of an
// illegal item to place a hold before notices go to the host. Short, since
// every hour online counts; long enough for a duty officer to look.
const DefaultPoliceGrace = time.Hour

// Queue page sizes.
const (
	DefaultQueuePage = 50
	MaxQueuePage     = 500
)

// QueueKind names a queue.
type QueueKind string

// The queues: analysts assess, police decide on holds, supervisors decide
// disputes.
const (
	QueueAssess   QueueKind = "assess"
	QueuePolice   QueueKind = "police"
	QueueDisputed QueueKind = "disputed"
)

// QueueFilter selects a queue and filters it.
type QueueFilter struct {
	Kind    QueueKind // "" picks the actor's natural one: police for police, assess otherwise
	Country string
	Route   string
	Limit   int
}

// Queue returns the items waiting for the actor's organisation: for an
// analyst, routed items nobody has assessed (known items never appear: they
// inherit their classification), new material first and oldest first; for
// the police, illegal items their decision is waiting for; for a
// supervisor, disputed items.
func (a *App) Queue(ctx context.Context, f QueueFilter) ([]alliance.Item, error) {
	actor := alliance.ActorFromContext(ctx)
	kind := f.Kind
	if kind == "" {
		kind = QueueAssess
		if actor.Role == alliance.RolePolice {
			kind = QueuePolice
		}
	}
	perm := map[QueueKind]alliance.Permission{QueueAssess: alliance.PermAssess, QueuePolice: alliance.PermHold,
		QueueDisputed: alliance.PermSupervise}[kind]
	if perm == "" {
		return nil, alliance.FieldErrorf("queue", "Unknown queue %q; valid queues: assess, police, disputed.", kind)
	}
	if _, err := require(ctx, perm); err != nil {
		return nil, err
	}
	q := store.QueueQuery{OrgCode: actor.OrgCode, Police: kind == QueuePolice, Disputed: kind == QueueDisputed,
		Country: strings.ToUpper(f.Country), Limit: f.Limit}
	if f.Route != "" {
		if !alliance.ValidRouteKind(f.Route) {
			return nil, alliance.FieldErrorf("route", "Unknown route %q; valid routes: national, forward, no-hotline.", f.Route)
		}
		q.Route = alliance.RouteKind(f.Route)
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultQueuePage
	case q.Limit < 0 || q.Limit > MaxQueuePage:
		return nil, alliance.FieldErrorf("limit", "The limit must be 1 to %d.", MaxQueuePage)
	}
	var items []alliance.Item
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		items, err = tx.Queue(ctx, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("app: queue: %w", err)
	}
	return items, nil
}

// AssessInput is an analyst's assessment of an item.
type AssessInput struct {
	Verdict     string
	ContentType string
	Labels      map[string]string
	Note        string
}

// Assess records the actor's assessment of an item routed to its
// organisation. The first assessment decides: an illegal verdict starts the
// takedown (the police of the organisation's country are notified at once
// and have the police grace to place a hold); any other closes the item. A
// later assessment confirms or disputes the item's verdict; a dispute flags
// the item to a supervisor and changes nothing else. Items of other
// organisations are not found; an item received here but routed elsewhere
// is forbidden (its destination assesses it).
func (a *App) Assess(ctx context.Context, itemID int64, in AssessInput) (alliance.Assessment, error) {
	actor, err := require(ctx, alliance.PermAssess)
	if err != nil {
		return alliance.Assessment{}, err
	}
	as := alliance.Assessment{ItemID: itemID, OrgCode: actor.OrgCode, AnalystID: actor.UserID, Analyst: actor.Label(),
		Verdict: alliance.Verdict(in.Verdict), ContentType: alliance.ContentType(in.ContentType),
		Scheme: a.labels.Name, Labels: in.Labels, Note: strings.TrimSpace(in.Note)}
	if err := alliance.ValidateAssessment(&as, a.labels); err != nil {
		return alliance.Assessment{}, err
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		it, err := visibleItem(ctx, tx, actor, itemID)
		if err != nil {
			return err
		}
		if err := assessable(it, actor.OrgCode); err != nil {
			return err
		}
		return a.recordAssessment(ctx, tx, it, &as, actor.OrgID)
	})
	if err != nil {
		return alliance.Assessment{}, fmt.Errorf("app: assess item %d: %w", itemID, err)
	}
	return as, nil
}

// assessable says whether org may assess the item.
func assessable(it alliance.Item, org string) error {
	switch {
	case it.DuplicateOf != nil:
		return alliance.Errorf(alliance.EINVALID, "This item is a duplicate of item %d; assess that one.", *it.DuplicateOf)
	case it.Route == nil:
		return alliance.Errorf(alliance.ECONFLICT, "The item is not routed yet; it can be assessed once traced.")
	case it.Route.OrgCode != org:
		return alliance.Errorf(alliance.EFORBIDDEN, "The item is routed to %s, which assesses it.", it.Route.OrgCode)
	}
	return nil
}

// recordAssessment inserts an assessment and moves the item as its place
// among the item's assessments decides, with an "item.assess" audit row.
func (a *App) recordAssessment(ctx context.Context, tx *store.Tx, it alliance.Item, as *alliance.Assessment, orgID int64) error {
	id := strconv.FormatInt(it.ID, 10)
	td := it.Takedown
	switch {
	case td.Verdict == "":
		as.Agreement = alliance.AgreementFirst
	case td.Verdict == as.Verdict:
		as.Agreement = alliance.AgreementConfirm
	default:
		as.Agreement = alliance.AgreementDispute
	}
	if _, err := tx.InsertAssessment(ctx, as, orgID); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, auditFor(ctx, it.Route.OrgCode, "item.assess", "item", id)); err != nil {
		return err
	}
	switch as.Agreement {
	case alliance.AgreementConfirm:
		return nil
	case alliance.AgreementDispute:
		return tx.SetDisputed(ctx, it.ID, true)
	}
	actor := alliance.ActorFromContext(ctx)
	to := alliance.StatusForVerdict(as.Verdict)
	v := as.Verdict
	reason := "Assessed " + string(v) + "."
	if as.Inherited {
		reason = "Known material: " + as.Source + "."
	}
	if err := tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: td.Status, To: to, ActorID: actor.UserID,
		Actor: actor.Label(), OrgCode: it.Route.OrgCode, Reason: reason, Verdict: &v, Stamp: store.StampAssessed}); err != nil {
		return err
	}
	if !v.Illegal() {
		return nil
	}
	return a.notifyPolice(ctx, tx, it, to)
}

// notifyPolice moves an assessed item on to its police: those of the
// assessing organisation's country, who are where the content is hosted
// (national and forwarded items) or where it was reported (no-hotline). The
// police see it in their queue and have the grace period to hold it; where
// the country has no police organisation on the alliance, the item is
// cleared for notices at once.
func (a *App) notifyPolice(ctx context.Context, tx *store.Tx, it alliance.Item, from alliance.TakedownStatus) error {
	assessor, err := tx.OrganisationByCode(ctx, it.Route.OrgCode)
	if err != nil {
		return err
	}
	police := alliance.PoliceCode(assessor.CountryCode)
	now := tx.Now()
	if _, err := tx.OrganisationByCode(ctx, police); alliance.ErrorCode(err) == alliance.ENOTFOUND {
		return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: from, To: alliance.TakedownPoliceCleared,
			Actor: "system", OrgCode: it.Route.OrgCode, Police: new(string),
			Reason:  fmt.Sprintf("No police organisation of %s on the alliance: notices go out at once.", assessor.CountryCode),
			SetNext: true, Next: now})
	} else if err != nil {
		return err
	}
	return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: from, To: alliance.TakedownPoliceNotified,
		Actor: "system", OrgCode: it.Route.OrgCode, Police: &police, Stamp: store.StampNotified,
		Reason:  fmt.Sprintf("%s notified; notices wait %s for a hold.", police, a.policeGrace),
		SetNext: true, Next: now.Add(a.policeGrace)})
}

// policeItem returns an item whose takedown notifies the actor's
// organisation; others are not found.
func policeItem(ctx context.Context, tx *store.Tx, actor alliance.Actor, itemID int64) (alliance.Item, error) {
	it, err := tx.ItemByID(ctx, itemID)
	if alliance.ErrorCode(err) == alliance.ENOTFOUND || err == nil && it.Takedown.Police != actor.OrgCode && !actor.System {
		return alliance.Item{}, alliance.Errorf(alliance.ENOTFOUND, "Item not found.")
	}
	return it, err
}

// Hold places (or renews) a police hold on an item the actor's organisation
// was notified of: no notice goes to the host until the hold ends or is
// cleared. reason and until are required; a hold lasts at most
// alliance.MaxHold.
func (a *App) Hold(ctx context.Context, itemID int64, reason string, until time.Time) error {
	actor, err := require(ctx, alliance.PermHold)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := alliance.ValidateHold(reason, until, tx.Now()); err != nil {
			return err
		}
		it, err := policeItem(ctx, tx, actor, itemID)
		if err != nil {
			return err
		}
		if err := tx.MoveTakedown(ctx, store.TakedownMove{ItemID: itemID, From: it.Takedown.Status,
			To: alliance.TakedownPoliceHold, ActorID: actor.UserID, Actor: actor.Label(), OrgCode: actor.OrgCode,
			Reason:  "Hold until " + until.UTC().Format(time.RFC3339) + ": " + reason,
			SetHold: true, HoldUntil: until, HoldReason: reason, SetNext: true, Next: until}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "item.hold", "item", strconv.FormatInt(itemID, 10)))
	})
	if err != nil {
		return fmt.Errorf("app: hold item %d: %w", itemID, err)
	}
	return nil
}

// ClearHold lets notices go out for an item the actor's organisation was
// notified of (held or not): the takedown job sends the first notice.
func (a *App) ClearHold(ctx context.Context, itemID int64, reason string) error {
	actor, err := require(ctx, alliance.PermHold)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > alliance.MaxHoldReason {
		return alliance.FieldErrorf("reason", "The reason must be at most %d characters.", alliance.MaxHoldReason)
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		it, err := policeItem(ctx, tx, actor, itemID)
		if err != nil {
			return err
		}
		if reason == "" {
			reason = "Cleared by the police."
		}
		if err := a.clear(ctx, tx, it, actor, reason); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "item.clear", "item", strconv.FormatInt(itemID, 10)))
	})
	if err != nil {
		return fmt.Errorf("app: clear item %d: %w", itemID, err)
	}
	return nil
}

// clear moves an item to police_cleared, due at once for its first notice.
func (a *App) clear(ctx context.Context, tx *store.Tx, it alliance.Item, actor alliance.Actor, reason string) error {
	return tx.MoveTakedown(ctx, store.TakedownMove{ItemID: it.ID, From: it.Takedown.Status,
		To: alliance.TakedownPoliceCleared, ActorID: actor.UserID, Actor: actor.Label(), OrgCode: actor.OrgCode,
		Reason: reason, SetHold: true, SetNext: true, Next: tx.Now()})
}

// LabelScheme returns the scheme of assessments' labels on this node.
func (a *App) LabelScheme() alliance.LabelScheme { return a.labels }
