package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"alliance"
	"alliance/internal/store"
	"alliance/internal/urlnorm"
)

// ReportInput is a report as submitted through the form or the API.
type ReportInput struct {
	URLs          []string
	Description   string
	Category      string // empty means "other"
	ReporterEmail string // optional
	// Source is public, industry or hotline. The public may only send
	// public reports; API token holders send industry (the default) or
	// hotline reports; logged-in users and the node itself may send any,
	// hotline by default (an analyst recording a report).
	Source string
	// IdempotencyKey makes a retry safe: the same key with the same input
	// returns the first report and creates nothing; with other input it is
	// an ECONFLICT error. Optional; at most 255 bytes of printable ASCII.
	// Keys are kept for a day (see Housekeeping).
	IdempotencyKey string
	// Client identifies the sender for rate limiting (the edge sets it from
	// the connection, e.g. the IP address).
	Client string
}

// SubmitResult is the outcome of SubmitReport.
type SubmitResult struct {
	// Report is the report with its items as intake left them: ids,
	// canonical URLs, duplicate links and status new or duplicate. It never
	// carries the reporter's e-mail, nor, on a replay, anything learned since
	// (trace, route): a reporter sees nothing of the outcome.
	Report   alliance.Report
	Replayed bool // an idempotent retry: nothing was created
}

// idempotencyTTL is how long an Idempotency-Key is remembered.
const idempotencyTTL = 24 * time.Hour

// SubmitReport validates, canonicalises and stores a report and its items in
// one transaction with its audit row. The report belongs to the actor's
// organisation, or to the node's home organisation for the anonymous public.
// A URL whose canonical form is already open in that organisation becomes a
// duplicate item linked to the open one. Nothing is stored when any input is
// invalid: the error names the field, e.g. "urls[3]". Over the rate limit it
// returns ERATELIMIT with RetryAfter set.
//
// Concurrent submissions are group-committed: they queue for one writer
// that stores a batch of them in one transaction, each with its own audit
// row (see intakeWriter).
func (a *App) SubmitReport(ctx context.Context, in ReportInput) (SubmitResult, error) {
	actor := alliance.ActorFromContext(ctx)
	if !actor.Anonymous() && !actor.Can(alliance.PermSubmitReports) {
		return SubmitResult{}, alliance.Errorf(alliance.EFORBIDDEN, "You do not have permission to submit reports.")
	}
	sub, err := prepareReport(actor, in)
	if err != nil {
		return SubmitResult{}, err
	}
	// Only valid reports count against the limit: a person fixing a typo
	// in the form does not use up their reports.
	scope := clientScope(actor, in.Client)
	if err := a.limitReports(actor, scope); err != nil {
		return SubmitResult{}, err
	}
	if sub.key != "" {
		sub.scope = scope
	}
	sub.ctx = ctx
	sub.report.OrgID, sub.report.OrgCode = actor.OrgID, actor.OrgCode
	if sub.report.OrgID == 0 {
		if sub.report.OrgID, err = a.homeOrgIDOf(ctx); err != nil {
			return SubmitResult{}, fmt.Errorf("app: submit report: %w", err)
		}
		sub.report.OrgCode = a.homeOrg
	}
	return a.intake.submit(ctx, sub)
}

// clientScope names who is sending, for rate limits and idempotency keys:
// the API token, else the logged-in user, else the anonymous client.
func clientScope(actor alliance.Actor, client string) string {
	switch {
	case actor.TokenID != 0:
		return "token:" + strconv.FormatInt(actor.TokenID, 10)
	case actor.UserID != 0:
		return "user:" + strconv.FormatInt(actor.UserID, 10)
	case actor.System:
		return "system"
	default:
		return "anon:" + client
	}
}

// limitReports takes one report from the sender's rate limit.
func (a *App) limitReports(actor alliance.Actor, scope string) error {
	var ok bool
	var wait time.Duration
	switch {
	case actor.System:
		return nil
	case actor.Anonymous():
		ok, wait = a.anonReports.take(scope)
	default:
		ok, wait = a.userReports.take(scope)
	}
	if ok {
		return nil
	}
	secs := int(wait.Seconds()) + 1
	return &alliance.Error{Code: alliance.ERATELIMIT, RetryAfter: wait,
		Message: fmt.Sprintf("Too many reports; try again in %d s.", secs)}
}

// homeOrgIDOf returns the id of the node's home organisation, looked up once.
func (a *App) homeOrgIDOf(ctx context.Context) (int64, error) {
	if id := a.homeOrgID.Load(); id != 0 {
		return id, nil
	}
	var org alliance.Organisation
	err := a.db.InReadTx(ctx, func(tx *store.Tx) error {
		var err error
		org, err = tx.OrganisationByCode(ctx, a.homeOrg)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("home organisation %q: %w", a.homeOrg, err)
	}
	a.homeOrgID.Store(org.ID)
	return org.ID, nil
}

// prepareReport validates and canonicalises everything before anything is
// written, so a rejected request stores nothing.
func prepareReport(actor alliance.Actor, in ReportInput) (*submission, error) {
	switch n := len(in.URLs); {
	case n == 0:
		return nil, alliance.FieldErrorf("urls", "Enter at least one URL.")
	case n > alliance.MaxReportURLs:
		return nil, alliance.FieldErrorf("urls", "A report may hold at most %d URLs; this one has %d.", alliance.MaxReportURLs, n)
	}
	r := alliance.Report{Items: make([]alliance.Item, len(in.URLs)), SubmittedBy: actor.UserID}
	for i, raw := range in.URLs {
		u, err := urlnorm.Canonicalize(raw)
		if err != nil {
			return nil, &alliance.Error{Code: alliance.ErrorCode(err), Field: fmt.Sprintf("urls[%d]", i),
				Message: alliance.ErrorMessage(err)}
		}
		r.Items[i] = alliance.Item{URL: u.Original, CanonicalURL: u.Canonical, Host: u.Host,
			RegistrableDomain: u.RegistrableDomain, DedupeKey: append([]byte(nil), u.DedupeKey[:]...)}
	}
	desc := strings.TrimSpace(in.Description)
	switch {
	case !utf8.ValidString(desc):
		return nil, alliance.FieldErrorf("description", "The description is not valid UTF-8 text.")
	case strings.ContainsRune(desc, 0):
		return nil, alliance.FieldErrorf("description", "The description must not contain NUL characters.")
	case utf8.RuneCountInString(desc) > alliance.MaxDescriptionLength:
		return nil, alliance.FieldErrorf("description", "The description is longer than %d characters.", alliance.MaxDescriptionLength)
	}
	r.Description = desc
	var err error
	if r.Category, err = alliance.ParseCategory(in.Category); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.ReporterEmail) != "" {
		if r.ReporterEmail, err = alliance.NormalizeEmail("reporter.email", in.ReporterEmail); err != nil {
			return nil, err
		}
	}
	if r.Source, err = reportSource(actor, in.Source); err != nil {
		return nil, err
	}
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return nil, err
	}
	sub := &submission{report: r, key: in.IdempotencyKey}
	if sub.key != "" {
		sub.hash = requestHash(r, in.URLs)
	}
	return sub, nil
}

// reportSource applies the source rules of ReportInput.Source.
func reportSource(actor alliance.Actor, s string) (alliance.Source, error) {
	def := alliance.SourceHotline
	switch {
	case actor.Anonymous():
		def = alliance.SourcePublic
	case actor.TokenID != 0:
		def = alliance.SourceIndustry
	}
	if s == "" {
		return def, nil
	}
	src, err := alliance.ParseSource(s)
	if err != nil {
		return "", err
	}
	switch {
	case actor.Anonymous() && src != alliance.SourcePublic:
		return "", alliance.FieldErrorf("source", "Reports without an API token come from the public; the source %q needs a token.", s)
	case actor.TokenID != 0 && src == alliance.SourcePublic:
		return "", alliance.FieldErrorf("source", "Reports sent with an API token have the source \"industry\" or \"hotline\".")
	}
	return src, nil
}

// idempotencyField is the input field named by errors about the key.
const idempotencyField = "Idempotency-Key"

func checkIdempotencyKey(k string) error {
	if len(k) > alliance.MaxIdempotencyKeyBytes {
		return alliance.FieldErrorf(idempotencyField, "The Idempotency-Key is longer than %d bytes.", alliance.MaxIdempotencyKeyBytes)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return alliance.FieldErrorf(idempotencyField, "The Idempotency-Key may hold printable ASCII characters only.")
		}
	}
	return nil
}

// requestHash is the SHA-256 of a canonical encoding of a validated report:
// each field length-prefixed, in a fixed order, so that two requests hash
// alike exactly when they ask for the same report. The URLs are hashed as
// sent (a retry sends the same bytes); the other fields after validation.
func requestHash(r alliance.Report, urls []string) []byte {
	h := sha256.New()
	var buf [8]byte
	str := func(s string) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	str("alliance-report-v1")
	str(string(r.Source))
	str(string(r.Category))
	str(r.ReporterEmail)
	str(r.Description)
	binary.BigEndian.PutUint64(buf[:], uint64(len(urls)))
	h.Write(buf[:])
	for _, u := range urls {
		str(u)
	}
	return h.Sum(nil)
}

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a reference
// read over the phone is not mistaken.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newReference returns a report reference: "R-" and 10 random Crockford
// base32 characters (50 bits), short enough to read out, too many to guess,
// and saying nothing about how many reports a node receives.
func newReference() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	out := make([]byte, 2, 12)
	copy(out, "R-")
	for _, c := range b {
		out = append(out, crockford[c&31])
	}
	return string(out)
}

// auditFor returns the audit row of the actor in ctx acting on an object of
// organisation org. An actor without an organisation of its own (the public,
// the node) is recorded under org, so that org's auditors see the row.
func auditFor(ctx context.Context, org, action, objectType, objectID string) *alliance.AuditEvent {
	actor := alliance.ActorFromContext(ctx)
	if actor.OrgCode != "" {
		org = actor.OrgCode
	}
	return &alliance.AuditEvent{
		ActorID:    actor.UserID,
		ActorLabel: actor.Label(),
		OrgCode:    org,
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		RequestID:  alliance.RequestIDFromContext(ctx),
	}
}
