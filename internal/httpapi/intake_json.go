package httpapi

import (
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
}

// itemDetailJSON is a single item read: the item with every route decided
// for it, oldest first.
type itemDetailJSON struct {
	itemJSON
	RouteHistory []routeJSON `json:"route_history"`
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
