package app

import (
	"context"
	"errors"

	"alliance"
)

// This file is the intake API the edges code against; the bodies are being
// written (issue 3). Keep the signatures.

var errNotImplemented = errors.New("app: not implemented")

// ReportInput is a report as submitted through the form or the API.
type ReportInput struct {
	URLs          []string
	Description   string
	Category      string // empty means "other"
	ReporterEmail string // optional
	Source        string // public, industry or hotline; empty means public for the anonymous, industry otherwise
	// IdempotencyKey makes a retry safe: the same key with the same input
	// returns the first report and creates nothing; with other input it is
	// an ECONFLICT error. Optional.
	IdempotencyKey string
	// Client identifies the sender for rate limiting (the edge sets it from
	// the connection, e.g. the IP address).
	Client string
}

// SubmitResult is the outcome of SubmitReport.
type SubmitResult struct {
	Report   alliance.Report // with its items
	Replayed bool            // an idempotent retry: nothing was created
}

// SubmitReport validates, canonicalises and stores a report and its items in
// one transaction with its audit row. The report belongs to the actor's
// organisation, or to the node's home organisation for the anonymous public.
// A URL whose canonical form is already open in that organisation becomes a
// duplicate item linked to the open one. Nothing is stored when any input is
// invalid: the error names the field, e.g. "urls[3]". Over the rate limit it
// returns ERATELIMIT with RetryAfter set.
func (a *App) SubmitReport(ctx context.Context, in ReportInput) (SubmitResult, error) {
	return SubmitResult{}, errNotImplemented
}

// Report returns a report with its items, if the actor may see it (an audited read).
func (a *App) Report(ctx context.Context, id int64) (alliance.Report, error) {
	return alliance.Report{}, errNotImplemented
}

// Item returns an item with its trace and route, if the actor may see it:
// items belong to the receiving organisation and are visible to the
// organisation they are routed to (an audited read).
func (a *App) Item(ctx context.Context, id int64) (alliance.Item, error) {
	return alliance.Item{}, errNotImplemented
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

// Items lists the items visible to the actor (an audited read).
func (a *App) Items(ctx context.Context, f ItemFilter) (ItemPage, error) {
	return ItemPage{}, errNotImplemented
}

// TraceBatch traces and routes up to limit items that wait for a trace (new
// items, and failed traces whose backoff has passed), and returns how many
// it processed. Background jobs call it as the system actor.
func (a *App) TraceBatch(ctx context.Context, limit int) (int, error) {
	return 0, errNotImplemented
}

// Retrace queues an item for a new trace; its route may change, and the
// earlier traces and routes stay in its history.
func (a *App) Retrace(ctx context.Context, itemID int64) error {
	return errNotImplemented
}
