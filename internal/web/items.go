package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"alliance"
	"alliance/internal/app"
)

// dbipURL is where the attribution of the IP data links to: DB-IP's licence
// (CC BY 4.0) asks for "IP Geolocation by DB-IP" with this link wherever its
// data is shown.
const dbipURL = "https://db-ip.com"

// option is one choice of a filter's select.
type option struct {
	Value    string
	Label    string // message id; "" shows Value
	Selected bool
}

// itemsData is the content of the item list.
type itemsData struct {
	Items     []alliance.Item
	Status    []option
	Route     []option
	Country   string
	Filtered  bool
	Next      string   // URL of the next page; "" on the last
	DataDates []string // build dates of the IP data behind the page's traces
	DBIP      string
}

// items lists the items the actor may see, newest first, filtered by the
// GET form and paged with the app's opaque cursor.
func (h *handler) items(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := app.ItemFilter{
		Status:  q.Get("status"),
		Country: strings.ToUpper(strings.TrimSpace(q.Get("country"))),
		Route:   q.Get("route"),
		Cursor:  q.Get("cursor"),
	}
	pg, err := h.app.Items(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := itemsData{
		Items:     pg.Items,
		Country:   f.Country,
		Filtered:  f.Status != "" || f.Country != "" || f.Route != "",
		DataDates: dataDates(pg.Items),
		DBIP:      dbipURL,
	}
	d.Status = options(f.Status, "ItemStatus", alliance.ItemNew, alliance.ItemRouted, alliance.ItemDuplicate)
	d.Route = options(f.Route, "RouteKind", alliance.RouteNational, alliance.RouteForward, alliance.RouteNoHotline)
	if pg.Next != "" {
		next := url.Values{}
		for k, v := range map[string]string{"status": f.Status, "country": f.Country, "route": f.Route, "cursor": pg.Next} {
			if v != "" {
				next.Set(k, v)
			}
		}
		d.Next = "/items?" + next.Encode()
	}
	h.render(w, r, http.StatusOK, "items", "ItemsTitle", d)
}

// options returns the choices of a filter, with selected marked.
func options[T ~string](selected, prefix string, values ...T) []option {
	out := make([]option, 0, len(values))
	for _, v := range values {
		out = append(out, option{Value: string(v), Label: prefix + camel(string(v)), Selected: string(v) == selected})
	}
	return out
}

// dataDates returns the distinct build dates of the IP data of the items' traces.
func dataDates(items []alliance.Item) []string {
	var out []string
	for _, it := range items {
		if it.Trace != nil && it.Trace.DataDate != "" && !slices.Contains(out, it.Trace.DataDate) {
			out = append(out, it.Trace.DataDate)
		}
	}
	slices.Sort(out)
	return out
}

// itemData is the content of an item's page.
type itemData struct {
	Item      alliance.Item
	Reference string // of the item's report; "" when the actor may not see the report
	CSRF      string
	Retraced  bool
	Refetched bool
	Assessed  bool
	Held      bool
	Cleared   bool
	Alert     string      // a safe message of a refused form that is not about one field
	Assess    *assessForm // nil unless the actor's organisation assesses the item
	Police    *policeForm // nil unless the item waits for the actor's police decision
	DBIP      string
	// Deconflict answers "has this been found or identified elsewhere?"
	// from the item's series links, with the police's link forms.
	Deconflict *deconflictPanel
	Linked     bool
	Unlinked   bool
}

// pathID returns the positive id in the path's {id}, or false.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// item shows one item with its trace, route, takedown and assessments, and
// the forms the actor may use on it.
func (h *handler) item(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	d, err := h.loadItem(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "item", "ItemTitle", d)
}

// itemAction returns the handler of an item page's button: it runs do
// (app.App.Retrace or Refetch) and goes back to the item's page with
// ?done=1, which shows what was queued.
func (h *handler) itemAction(done string, do func(*app.App, context.Context, int64) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			h.renderError(w, r, http.StatusBadRequest, "ErrorBadForm", "")
			return
		}
		id, ok := pathID(r)
		if !ok {
			h.notFound(w, r)
			return
		}
		if alliance.ActorFromContext(r.Context()).Anonymous() {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if !checkSessionCSRF(r, purposeRetrace) {
			h.renderError(w, r, http.StatusForbidden, "ErrorCSRF", "")
			return
		}
		if err := do(h.app, r.Context(), id); err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/items/"+strconv.FormatInt(id, 10)+"?"+done+"=1", http.StatusSeeOther)
	}
}

// reportPageData is the content of a report's page.
type reportPageData struct {
	Report    alliance.Report
	DataDates []string
	DBIP      string
}

// reportPage shows one report with its items. The reporter's e-mail address
// is shown only when the app returned it.
func (h *handler) reportPage(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	rep, err := h.app.Report(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "reportview", "ReportViewTitle", reportPageData{
		Report: rep, DataDates: dataDates(rep.Items), DBIP: dbipURL,
	})
}
