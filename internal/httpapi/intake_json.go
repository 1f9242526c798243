package httpapi

import (
	"encoding/hex"
	"time"

	"alliance"
)

// reporterJSON is the reporter's contact, shown only when the app returns it
// (to the receiving organisation, before the purge).
type reporterJSON struct {
	Email string `json:"email"`
}

// reportJSON is a report as the API shows it.
type reportJSON struct {
	ID           int64         `json:"id"`
	Reference    string        `json:"reference"`
	Organisation string        `json:"organisation"`
	Source       string        `json:"source"`
	Category     string        `json:"category"`
	Description  string        `json:"description"`
	ReceivedAt   time.Time     `json:"received_at"`
	Reporter     *reporterJSON `json:"reporter,omitempty"`
	Items        []itemJSON    `json:"items"`
}

func newReportJSON(rep *alliance.Report) reportJSON {
	out := reportJSON{
		ID:           rep.ID,
		Reference:    rep.Reference,
		Organisation: rep.OrgCode,
		Source:       string(rep.Source),
		Category:     string(rep.Category),
		Description:  rep.Description,
		ReceivedAt:   rep.ReceivedAt.UTC(),
		Items:        make([]itemJSON, len(rep.Items)),
	}
	if rep.ReporterEmail != "" {
		out.Reporter = &reporterJSON{Email: rep.ReporterEmail}
	}
	for i := range rep.Items {
		out.Items[i] = newItemJSON(&rep.Items[i])
	}
	return out
}

// itemJSON is an item as the API shows it. Trace and route appear once
// known.
type itemJSON struct {
	ID                int64      `json:"id"`
	ReportID          int64      `json:"report_id"`
	URL               string     `json:"url"`
	CanonicalURL      string     `json:"canonical_url"`
	Host              string     `json:"host"`
	RegistrableDomain string     `json:"registrable_domain"`
	DuplicateOf       *int64     `json:"duplicate_of"`
	Status            string     `json:"status"`
	CreatedAt         time.Time  `json:"created_at"`
	Organisation      string     `json:"organisation"`
	Trace             *traceJSON `json:"trace,omitempty"`
	Route             *routeJSON `json:"route,omitempty"`
	Fetch             *fetchJSON `json:"fetch,omitempty"`
	// Known and KnownClassification appear once the item is fetched.
	Known               string              `json:"known,omitempty"`
	KnownClassification *classificationJSON `json:"known_classification,omitempty"`
	Takedown            *takedownJSON       `json:"takedown,omitempty"`
}

// itemDetailJSON is a single item read: the item with every route decided
// for it, oldest first.
type itemDetailJSON struct {
	itemJSON
	RouteHistory    []routeJSON         `json:"route_history"`
	Media           []mediumJSON        `json:"media"`
	Assessments     []assessmentJSON    `json:"assessments"`
	TakedownHistory []takedownEventJSON `json:"takedown_history"`
	Notices         []noticeJSON        `json:"notices"`
	Deconfliction   *deconflictionJSON  `json:"deconfliction"`
	Federation      *federatedJSON      `json:"federation,omitempty"`
}

// federatedJSON is an item's exchange with a peer node.
type federatedJSON struct {
	ForwardedTo  string     `json:"forwarded_to,omitempty"`
	ReceivedFrom string     `json:"received_from,omitempty"`
	RemoteStatus string     `json:"remote_status,omitempty"`
	RemoteOrg    string     `json:"remote_organisation,omitempty"`
	RemoteAt     *time.Time `json:"remote_at,omitempty"`
}

func newItemJSON(it *alliance.Item) itemJSON {
	out := itemJSON{
		ID:                it.ID,
		ReportID:          it.ReportID,
		URL:               it.URL,
		CanonicalURL:      it.CanonicalURL,
		Host:              it.Host,
		RegistrableDomain: it.RegistrableDomain,
		DuplicateOf:       it.DuplicateOf,
		Status:            string(it.Status),
		CreatedAt:         it.CreatedAt.UTC(),
		Organisation:      it.OrgCode,
	}
	if it.Trace != nil {
		t := newTraceJSON(it.Trace)
		out.Trace = &t
	}
	if it.Route != nil {
		rt := newRouteJSON(it.Route)
		out.Route = &rt
	}
	if f := it.Fetch; f != nil {
		out.Fetch = &fetchJSON{Status: string(f.Status), Reason: f.Reason, HTTPStatus: f.HTTPStatus,
			ContentType: f.ContentType, Page: f.Page, Truncated: f.Truncated, Attempts: f.Attempts,
			FetchedAt: f.FetchedAt.UTC()}
	}
	out.Takedown = newTakedownJSON(&it.Takedown)
	out.Known = string(it.Known)
	if c := it.KnownClassification; c != nil {
		out.KnownClassification = &classificationJSON{Scheme: c.Scheme, Category: c.Category}
	}
	return out
}

// fetchJSON is the node's fetch of an item's URL.
type fetchJSON struct {
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	HTTPStatus  int       `json:"http_status,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Page        bool      `json:"page"`
	Truncated   bool      `json:"truncated"`
	Attempts    int       `json:"attempts"`
	FetchedAt   time.Time `json:"fetched_at"`
}

type classificationJSON struct {
	Scheme   string `json:"scheme"`
	Category string `json:"category"`
}

// mediumJSON is one medium of an item: where it was found and its hashes
// (hex; absent when not computed). Content is never part of the API.
type mediumJSON struct {
	URL          string            `json:"url"`
	Source       string            `json:"source"`
	Kind         string            `json:"kind"`
	Status       string            `json:"status"`
	Failure      string            `json:"failure,omitempty"`
	HTTPStatus   int               `json:"http_status,omitempty"`
	ContentType  string            `json:"content_type,omitempty"`
	DeclaredType string            `json:"declared_type,omitempty"`
	Size         int64             `json:"size"`
	MD5          string            `json:"md5,omitempty"`
	SHA1         string            `json:"sha1,omitempty"`
	SHA256       string            `json:"sha256,omitempty"`
	PDQ          string            `json:"pdq,omitempty"`
	PDQQuality   *int              `json:"pdq_quality,omitempty"`
	Profile      string            `json:"profile,omitempty"`
	FetchedAt    *time.Time        `json:"fetched_at,omitempty"`
	Matches      []mediumMatchJSON `json:"matches"`
}

type mediumMatchJSON struct {
	EntryID        int64              `json:"entry_id"`
	Bank           string             `json:"bank"`
	BankOwner      string             `json:"bank_owner"`
	Algorithm      string             `json:"algorithm"`
	Value          string             `json:"value"`
	Distance       int                `json:"distance"`
	Classification classificationJSON `json:"classification"`
	Series         string             `json:"series,omitempty"`
	Source         string             `json:"source,omitempty"`
}

func newMediaJSON(ms []alliance.Medium) []mediumJSON {
	out := make([]mediumJSON, len(ms))
	for i, m := range ms {
		j := mediumJSON{URL: m.URL, Source: m.Source, Kind: string(m.Kind), Status: string(m.Status),
			Failure: m.Failure, HTTPStatus: m.HTTPStatus, ContentType: m.ContentType, DeclaredType: m.DeclaredType,
			Size: m.Size, MD5: hex.EncodeToString(m.MD5), SHA1: hex.EncodeToString(m.SHA1),
			SHA256: hex.EncodeToString(m.SHA256), PDQ: hex.EncodeToString(m.PDQ), Profile: m.Profile,
			Matches: make([]mediumMatchJSON, len(m.Matches))}
		if m.PDQ != nil {
			q := m.PDQQuality
			j.PDQQuality = &q
		}
		if !m.FetchedAt.IsZero() {
			t := m.FetchedAt.UTC()
			j.FetchedAt = &t
		}
		for k, mm := range m.Matches {
			j.Matches[k] = mediumMatchJSON{EntryID: mm.EntryID, Bank: mm.Bank, BankOwner: mm.BankOrg,
				Algorithm: string(mm.Algorithm), Value: hex.EncodeToString(mm.Value), Distance: mm.Distance,
				Classification: classificationJSON{Scheme: mm.Scheme, Category: mm.Category},
				Series:         mm.Series, Source: mm.Source}
		}
		out[i] = j
	}
	return out
}

// traceJSON is a trace as the API shows it. What is unknown is null; the
// data date is always there, since every trace is read against it.
type traceJSON struct {
	Status   string    `json:"status"`
	IP       *string   `json:"ip"`
	Country  *string   `json:"country"`
	ASN      *uint32   `json:"asn"`
	ASOrg    *string   `json:"as_org"`
	DataDate string    `json:"data_date"`
	TracedAt time.Time `json:"traced_at"`
}

func newTraceJSON(tr *alliance.Trace) traceJSON {
	out := traceJSON{
		Status:   string(tr.Status),
		IP:       nonEmpty(tr.IP),
		Country:  nonEmpty(tr.Country),
		ASOrg:    nonEmpty(tr.ASOrg),
		DataDate: tr.DataDate,
		TracedAt: tr.TracedAt.UTC(),
	}
	if tr.ASN != 0 {
		asn := tr.ASN
		out.ASN = &asn
	}
	return out
}

// routeJSON is a routing decision as the API shows it.
type routeJSON struct {
	Kind         string    `json:"kind"`
	Organisation string    `json:"organisation"`
	Police       string    `json:"police,omitempty"`
	Reason       string    `json:"reason"`
	DecidedAt    time.Time `json:"decided_at"`
}

func newRouteJSON(rt *alliance.Route) routeJSON {
	return routeJSON{
		Kind:         string(rt.Kind),
		Organisation: rt.OrgCode,
		Police:       rt.Police,
		Reason:       rt.Reason,
		DecidedAt:    rt.DecidedAt.UTC(),
	}
}

// nonEmpty returns a pointer to s, or nil for "" (JSON null).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
