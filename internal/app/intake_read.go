package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"alliance"
	"alliance/internal/store"
)

// Who sees what. A report belongs to the organisation that received it: its
// users with PermViewReports see the report, its items and the reporter's
// e-mail. An item routed to another organisation (a forward, or a national
// route of a report received by the police) is visible to that organisation
// too, through Item and Items, but the report is not: the rest of it is not
// theirs. Anything not visible is ENOTFOUND, so ids reveal nothing.

// canSeeItem reports whether the actor may see the item.
func canSeeItem(actor alliance.Actor, it alliance.Item) bool {
	return actor.System || it.OrgID == actor.OrgID ||
		it.Route != nil && actor.OrgCode != "" && it.Route.OrgCode == actor.OrgCode ||
		actor.OrgCode != "" && it.Takedown.Police == actor.OrgCode
}

// Report returns a report with its items, if the actor may see it (an audited read).
func (a *App) Report(ctx context.Context, id int64) (alliance.Report, error) {
	actor, err := require(ctx, alliance.PermViewReports)
	if err != nil {
		return alliance.Report{}, err
	}
	notFound := alliance.Errorf(alliance.ENOTFOUND, "Report not found.")
	var r alliance.Report
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if r, err = tx.ReportByID(ctx, id); alliance.ErrorCode(err) == alliance.ENOTFOUND {
			return notFound
		} else if err != nil {
			return err
		}
		if !actor.System && r.OrgID != actor.OrgID {
			return notFound
		}
		// Contact data: only the receiving organisation, only PermViewReports (required above).
		if r.ReporterEmail, err = tx.ReportContact(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, auditFor(ctx, r.OrgCode, "report.read", "report", strconv.FormatInt(id, 10)))
	})
	if err != nil {
		return alliance.Report{}, fmt.Errorf("app: report %d: %w", id, err)
	}
	return r, nil
}

// Item returns an item with its trace, route and route history, if the actor
// may see it: items belong to the receiving organisation and are visible to
// the organisation they are routed to (an audited read).
func (a *App) Item(ctx context.Context, id int64) (alliance.Item, error) {
	actor, err := require(ctx, alliance.PermViewReports)
	if err != nil {
		return alliance.Item{}, err
	}
	var it alliance.Item
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if it, err = visibleItem(ctx, tx, actor, id); err != nil {
			return err
		}
		if it.RouteHistory, err = tx.RouteHistory(ctx, id); err != nil {
			return err
		}
		if it.Media, err = tx.ItemMedia(ctx, id); err != nil {
			return err
		}
		if it.Assessments, err = tx.ItemAssessments(ctx, id); err != nil {
			return err
		}
		if it.TakedownHistory, err = tx.TakedownHistory(ctx, id); err != nil {
			return err
		}
		if it.Federated, err = tx.ItemFederation(ctx, id); err != nil {
			return err
		}
		if it.Series, err = tx.ItemSeries(ctx, id); err != nil {
			return err
		}
		if !actor.Can(alliance.PermViewSeries) {
			for i, l := range it.Series {
				it.Series[i] = alliance.SeriesLink{Owner: l.Owner, Status: l.Status, DoNotDup: l.DoNotDup}
			}
		}
		notices, err := tx.ItemNotices(ctx, id)
		if err != nil {
			return err
		}
		for _, n := range notices {
			it.Notices = append(it.Notices, alliance.Notice{ID: n.ID, Kind: string(n.Kind), Channel: n.Channel,
				Recipient: n.Recipient, Subject: n.Subject, Status: n.Status, Attempts: n.Attempts,
				LastError: n.LastError, CreatedAt: n.CreatedAt, SentAt: n.SentAt, NextAt: n.NextAt,
				Unconfirmed: n.Unconfirmed})
		}
		return tx.AppendAudit(ctx, auditFor(ctx, it.OrgCode, "item.read", "item", strconv.FormatInt(id, 10)))
	})
	if err != nil {
		return alliance.Item{}, fmt.Errorf("app: item %d: %w", id, err)
	}
	return it, nil
}

// visibleItem reads an item the actor may see; ENOTFOUND otherwise.
func visibleItem(ctx context.Context, tx *store.Tx, actor alliance.Actor, id int64) (alliance.Item, error) {
	notFound := alliance.Errorf(alliance.ENOTFOUND, "Item not found.")
	it, err := tx.ItemByID(ctx, id)
	if alliance.ErrorCode(err) == alliance.ENOTFOUND || err == nil && !canSeeItem(actor, it) {
		return alliance.Item{}, notFound
	}
	return it, err
}

// ItemFilter selects items for Items. Empty fields do not filter.
type ItemFilter struct {
	Status  string // an alliance.ItemStatus
	Country string // hosting country, ISO alpha-2
	Route   string // an alliance.RouteKind
	Cursor  string // opaque, from ItemPage.Next
	Limit   int    // 1..500; 0 means 50
}

// ItemPage is one page of items, newest first.
type ItemPage struct {
	Items []alliance.Item
	Next  string // cursor of the next page; "" on the last page
}

// Item page sizes.
const (
	DefaultItemPage = 50
	MaxItemPage     = 500
)

// Items lists the items visible to the actor, newest first: those its
// organisation received and those routed to it (an audited read).
func (a *App) Items(ctx context.Context, f ItemFilter) (ItemPage, error) {
	actor, err := require(ctx, alliance.PermViewReports)
	if err != nil {
		return ItemPage{}, err
	}
	q, err := itemQuery(f)
	if err != nil {
		return ItemPage{}, err
	}
	q.OrgID, q.OrgCode, q.All = actor.OrgID, actor.OrgCode, actor.System
	want := q.Limit
	q.Limit++ // one more tells whether there is a next page
	var page ItemPage
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		items, err := tx.ListItems(ctx, q)
		if err != nil {
			return err
		}
		if len(items) > want {
			items = items[:want]
			page.Next = encodeCursor(items[want-1].ID)
		}
		page.Items = items
		return tx.AppendAudit(ctx, auditFor(ctx, actor.OrgCode, "item.list", "item", ""))
	})
	if err != nil {
		return ItemPage{}, fmt.Errorf("app: items: %w", err)
	}
	return page, nil
}

// itemQuery validates a filter; errors name the field.
func itemQuery(f ItemFilter) (store.ItemQuery, error) {
	var q store.ItemQuery
	if f.Status != "" {
		if !alliance.ValidItemStatus(f.Status) {
			return q, alliance.FieldErrorf("status", "Unknown status %q; valid statuses: new, routed, duplicate.", f.Status)
		}
		q.Status = alliance.ItemStatus(f.Status)
	}
	if f.Country != "" {
		cc := strings.ToUpper(strings.TrimSpace(f.Country))
		if !alliance.ValidCountryCode(cc) {
			return q, alliance.FieldErrorf("country", "Unknown country %q; use an ISO 3166-1 alpha-2 code such as SE.", f.Country)
		}
		q.Country = cc
	}
	if f.Route != "" {
		if !alliance.ValidRouteKind(f.Route) {
			return q, alliance.FieldErrorf("route", "Unknown route %q; valid routes: national, forward, no-hotline.", f.Route)
		}
		q.Route = alliance.RouteKind(f.Route)
	}
	if f.Cursor != "" {
		id, ok := decodeCursor(f.Cursor)
		if !ok {
			return q, alliance.FieldErrorf("cursor", "The cursor is not valid; use the one the previous page returned.")
		}
		q.Before = id
	}
	switch {
	case f.Limit == 0:
		q.Limit = DefaultItemPage
	case f.Limit < 1 || f.Limit > MaxItemPage:
		return q, alliance.FieldErrorf("limit", "The limit must be from 1 to %d.", MaxItemPage)
	default:
		q.Limit = f.Limit
	}
	return q, nil
}

// A cursor is the base64url of the last id of a page: opaque to clients, so
// the paging scheme may change without breaking them.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt(nil, id, 10))
}

func decodeCursor(s string) (int64, bool) {
	if len(s) > 32 {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || id <= 0 || encodeCursor(id) != s {
		return 0, false
	}
	return id, true
}
