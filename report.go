package alliance

import (
	"fmt"
	"slices"
	"time"
)

// Source tells who sent a report.
type Source string

// The sources of reports.
const (
	SourcePublic   Source = "public"   // a member of the public, through the form or anonymous API
	SourceIndustry Source = "industry" // a platform or service provider, with a token
	SourceHotline  Source = "hotline"  // a partner hotline, with a token
)

// ParseSource validates a report source.
func ParseSource(s string) (Source, error) {
	switch src := Source(s); src {
	case SourcePublic, SourceIndustry, SourceHotline:
		return src, nil
	}
	return "", FieldErrorf("source", "Unknown source %q; valid sources: public, industry, hotline.", s)
}

// Category is the reporter's short choice of what the report is about. The
// names follow the report types hotlines share in the INHOPE network; they
// label a report, they never describe content.
type Category string

// The report categories offered to reporters.
const (
	CategoryCSAM       Category = "csam"       // child sexual abuse material
	CategoryGrooming   Category = "grooming"   // grooming or solicitation of a child
	CategorySextortion Category = "sextortion" // sexual extortion of a child
	CategoryOther      Category = "other"      // something else the reporter wants a hotline to see
)

// Categories lists the report categories in the order forms show them.
var Categories = []Category{CategoryCSAM, CategoryGrooming, CategorySextortion, CategoryOther}

// ParseCategory validates a report category; empty means CategoryOther.
func ParseCategory(s string) (Category, error) {
	if s == "" {
		return CategoryOther, nil
	}
	if c := Category(s); slices.Contains(Categories, c) {
		return c, nil
	}
	return "", FieldErrorf("category", "Unknown category %q; valid categories: csam, grooming, sextortion, other.", s)
}

// Limits on report input. They bound what one request can make the node store.
const (
	MaxReportURLs          = 1000
	MaxURLLength           = 8192
	MaxDescriptionLength   = 4000 // characters
	MaxIdempotencyKeyBytes = 255
)

// ContactRetention is how long a reporter's contact e-mail is kept before
// housekeeping purges it: long enough to ask a follow-up question.
const ContactRetention = 90 * 24 * time.Hour

// Report is one submission: one or more URLs with what the reporter said.
// It belongs to the organisation that received it.
type Report struct {
	ID          int64
	Reference   string // shown to the reporter; says nothing about volume or outcome
	OrgID       int64  // the receiving organisation
	OrgCode     string
	Source      Source
	Category    Category
	Description string
	// ReporterEmail is personal data: optional, shown only to the receiving
	// organisation, purged after ContactRetention.
	ReporterEmail string
	SubmittedBy   int64 // user id of the token's or session's user; 0 for the public
	ReceivedAt    time.Time
	Items         []Item
}

// ItemStatus is where an item is in intake.
type ItemStatus string

// The intake statuses of an item.
const (
	ItemNew       ItemStatus = "new"       // waiting for its trace
	ItemRouted    ItemStatus = "routed"    // traced (or found untraceable) and routed
	ItemDuplicate ItemStatus = "duplicate" // the same canonical URL is already open in the organisation
)

// ValidItemStatus reports whether s names an item status.
func ValidItemStatus(s string) bool {
	switch ItemStatus(s) {
	case ItemNew, ItemRouted, ItemDuplicate:
		return true
	}
	return false
}

// Item is one reported URL.
type Item struct {
	ID                int64
	ReportID          int64
	OrgID             int64 // the receiving organisation, as its report's
	OrgCode           string
	URL               string // as reported
	CanonicalURL      string
	Host              string // punycode host or IP literal of the canonical URL
	RegistrableDomain string
	DedupeKey         []byte // SHA-256 of CanonicalURL
	DuplicateOf       *int64
	Status            ItemStatus
	CreatedAt         time.Time
	Trace             *Trace // nil until traced
	Route             *Route // nil until routed
	// RouteHistory holds every route decided for the item, oldest first,
	// so a re-trace that moves it keeps the earlier decisions. Filled by
	// single-item reads only.
	RouteHistory []Route
	// Fetch is the node's fetch of the URL; nil until one is recorded.
	Fetch *Fetch
	// Known says how much of the item's media matched classified bank
	// entries; empty until fetched. KnownClassification is inherited from
	// the closest match when Known is KnownAll.
	Known               Known
	KnownClassification *Classification
	// Media are the images, videos and files the URL is or points to, with
	// their hashes and matches. Filled by single-item reads only.
	Media []Medium
	// Takedown is the item's way to removal; its Status is TakedownNone
	// until it is assessed. Assessments and TakedownHistory are filled by
	// single-item reads only.
	Takedown        Takedown
	Assessments     []Assessment
	TakedownHistory []TakedownEvent
	Notices         []Notice
	// Series are the victim-identification series the item is linked to;
	// for actors who may not see series, only their owners and statuses.
	Series []SeriesLink
	// Federated says where the item went to or came from between nodes;
	// filled by single-item reads.
	Federated Federated
}

// Federated is an item's exchange with peer nodes: forwarded to a node,
// which reports the status back, or received from one.
type Federated struct {
	ForwardedTo  string // node id
	ReceivedFrom string // node id
	RemoteItem   string // the origin's item id, on the receiving node
	RemoteStatus string // takedown status the destination reports
	RemoteOrg    string // the organisation there that reported it
	RemoteAt     *time.Time
}

// TraceStatus is the outcome of tracing an item's host.
type TraceStatus string

// The trace outcomes. Failures are retried with backoff; "pending" waits.
const (
	TracePending  TraceStatus = "pending"
	TraceOK       TraceStatus = "ok"
	TraceNXDomain TraceStatus = "nxdomain"
	TraceTimeout  TraceStatus = "timeout"
	TraceNoData   TraceStatus = "no data"
	TraceError    TraceStatus = "error"
)

// Trace is where an item's host resolved and which network announces it.
type Trace struct {
	Status   TraceStatus
	IP       string // the address traced; "" when resolution failed
	Country  string // ISO 3166-1 alpha-2 of IP; "" when unknown
	ASN      uint32
	ASOrg    string
	DataDate string // build date of the IP data, shown with every trace
	TracedAt time.Time
	Attempts int
}

// RouteKind says whose job an item is.
type RouteKind string

// The route kinds.
const (
	RouteNational  RouteKind = "national"   // hosted in the receiving organisation's country
	RouteForward   RouteKind = "forward"    // hosted in another member country: its hotline
	RouteNoHotline RouteKind = "no-hotline" // no member hotline (or untraceable): the receiver keeps it
)

// ValidRouteKind reports whether s names a route kind.
func ValidRouteKind(s string) bool {
	switch RouteKind(s) {
	case RouteNational, RouteForward, RouteNoHotline:
		return true
	}
	return false
}

// Route is the decision of whose job an item is, with the reason.
type Route struct {
	Kind      RouteKind
	OrgCode   string // the organisation responsible for the item
	Police    string // the police organisation to notify, for national routes
	Reason    string
	DecidedAt time.Time
}

// DecideRoute decides whose job an item is, relative to the organisation
// that received it, from the item's trace. hotline returns the code of the
// member hotline of a country, if it has one.
func DecideRoute(receiver Organisation, tr Trace, hotline func(cc string) (string, bool)) Route {
	if tr.Status != TraceOK || tr.Country == "" {
		reason := fmt.Sprintf("Untraceable (%s): kept by %s for police referral and a direct notice to the host.", tr.Status, receiver.Code)
		if tr.Status == TraceOK {
			reason = fmt.Sprintf("No country is known for %s: kept by %s for police referral and a direct notice to the host.", tr.IP, receiver.Code)
		}
		return Route{Kind: RouteNoHotline, OrgCode: receiver.Code, Reason: reason}
	}
	cc := tr.Country
	if code, ok := hotline(cc); ok {
		if cc == receiver.CountryCode {
			return Route{Kind: RouteNational, OrgCode: code, Police: PoliceCode(cc),
				Reason: fmt.Sprintf("Hosted in %s (%s), the receiving organisation's country.", CountryName(cc), cc)}
		}
		return Route{Kind: RouteForward, OrgCode: code,
			Reason: fmt.Sprintf("Hosted in %s (%s), a member country: forwarded to its hotline.", CountryName(cc), cc)}
	}
	return Route{Kind: RouteNoHotline, OrgCode: receiver.Code,
		Reason: fmt.Sprintf("Hosted in %s (%s), which has no member hotline: kept by %s for police referral and a direct notice to the host.", CountryName(cc), cc, receiver.Code)}
}
