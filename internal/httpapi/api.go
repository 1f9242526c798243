package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"

	"alliance"
	"alliance/internal/app"
)

// Options configure the API handler.
type Options struct {
	// Logger receives internal errors with their request id; slog.Default()
	// when nil.
	Logger *slog.Logger
	// TrustedProxies are the networks of the reverse proxies in front of
	// the node. A request whose peer is in one of them is attributed to the
	// address its X-Forwarded-For names (see clientAddr); empty, the
	// default, the header is ignored, as any client can forge it.
	TrustedProxies []netip.Prefix
}

// handlerFunc is an API handler. It writes a response and returns nil, or
// writes nothing and returns an error, which becomes the error envelope.
type handlerFunc func(a *api, w http.ResponseWriter, r *http.Request) error

// route is one entry of the routes table.
type route struct {
	pattern string // net/http ServeMux pattern with method and full path
	handle  handlerFunc
}

// routes is the table of every API route. Adding a route is one line here plus
// its operation in openapi.json (TestOpenAPICoversRoutes checks both ways).
// Every route runs behind bearer authentication; whether the actor may do what
// the route does is decided by internal/app.
var routes = []route{
	{"GET /api/v1/openapi.json", (*api).openAPI},
	{"GET /api/v1/me", (*api).me},
	{"GET /api/v1/countries", (*api).countries},
	{"GET /api/v1/organisations", (*api).organisations},
	{"POST /api/v1/reports", (*api).postReport},
	{"GET /api/v1/reports/{id}", (*api).getReport},
	{"GET /api/v1/items", (*api).listItems},
	{"GET /api/v1/items/{id}", (*api).getItem},
	{"POST /api/v1/items/{id}/retrace", (*api).retraceItem},
	{"POST /api/v1/items/{id}/refetch", (*api).refetchItem},
	{"POST /api/v1/items/{id}/assessments", (*api).assessItem},
	{"POST /api/v1/items/{id}/hold", (*api).holdItem},
	{"POST /api/v1/items/{id}/clear", (*api).clearItem},
	{"GET /api/v1/queue", (*api).getQueue},
	{"GET /api/v1/label-scheme", (*api).getLabelScheme},
	{"GET /api/v1/stats/takedown", (*api).getTakedownStats},
	{"GET /api/v1/notice-template", (*api).getNoticeTemplate},
	{"PUT /api/v1/notice-template", (*api).putNoticeTemplate},
	{"GET /api/v1/series", (*api).listSeries},
	{"POST /api/v1/series", (*api).createSeries},
	{"GET /api/v1/series/{code}", (*api).getSeries},
	{"PUT /api/v1/series/{code}", (*api).updateSeries},
	{"POST /api/v1/series/{code}/status", (*api).setSeriesStatus},
	{"POST /api/v1/items/{id}/series", (*api).linkItemSeries},
	{"POST /api/v1/items/{id}/series/unlink", (*api).unlinkItemSeries},
	{"GET /api/v1/deconflict", (*api).deconflict},
	{"GET /api/v1/alerts", (*api).listAlerts},
	{"POST /api/v1/alerts/{id}/read", (*api).readAlert},
	{"GET /api/v1/stats/series", (*api).getSeriesStats},
	{"GET /api/v1/targets", (*api).getTargets},
	{"PUT /api/v1/targets", (*api).putTargets},
	{"GET /api/v1/targets/versions", (*api).getTargetVersions},
	{"GET /api/v1/indicators", (*api).getIndicators},
	{"GET /api/v1/countries/{cc}/commitments", (*api).getCommitments},
	{"PUT /api/v1/countries/{cc}/commitments", (*api).putCommitment},
	{"POST /api/v1/countries/{cc}/progress", (*api).addProgress},
	{"POST /api/v1/countries/{cc}/update-requests", (*api).requestUpdate},
	{"GET /api/v1/countries/{cc}/report", (*api).getCountryReport},
	{"GET /api/v1/capabilities", (*api).getCapabilities},
	{"GET /api/v1/countries/{cc}/capabilities", (*api).getCapabilityAssessments},
	{"PUT /api/v1/countries/{cc}/capabilities", (*api).putCapabilityAssessments},
	{"POST /api/v1/match", (*api).match},
	{"GET /api/v1/banks", (*api).listBanks},
	{"POST /api/v1/banks", (*api).createBank},
	{"POST /api/v1/banks/{name}/shares", (*api).shareBank},
	{"POST /api/v1/banks/{name}/import", (*api).importBank},
	{"GET /api/v1/bank-imports/{id}", (*api).getBankImport},
	{"GET /api/v1/banks/{name}/export", (*api).exportBank},
	{"POST /api/v1/banks/{name}/entries/{id}/disable", (*api).disableEntry},
	{"POST /api/v1/banks/{name}/entries/{id}/enable", (*api).enableEntry},
}

// api is the handler returned by New.
type api struct {
	app     *app.App
	log     *slog.Logger
	mux     *http.ServeMux
	trusted []netip.Prefix
}

// New returns the handler of the /api/v1 JSON API over the use cases of a.
// It expects to see full paths (/api/v1/…), so mount it at /api/ without
// stripping the prefix.
func New(a *app.App, opts Options) http.Handler {
	h := &api{app: a, log: opts.Logger, mux: http.NewServeMux()}
	for _, p := range opts.TrustedProxies {
		h.trusted = append(h.trusted, p.Masked())
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, rt := range routes {
		h.mux.Handle(rt.pattern, h.wrap(rt.handle))
	}
	return h
}

// ServeHTTP routes the request. The request is handed to the mux unchanged
// (not copied), so r.Pattern, which the mux sets, is visible to the server's
// metrics and access log once the request is done.
func (h *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if fallback, pattern := h.mux.Handler(r); pattern == "" {
		r.Pattern = "" // as the mux would: no route matched
		h.noRoute(w, r, fallback)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// wrap turns an API handler into an http.Handler: it authenticates the bearer
// token, if any, runs the handler and writes any error as the envelope.
func (h *api) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := h.authenticate(w, r)
		if err == nil {
			err = fn(h, w, r)
		}
		if err != nil {
			h.error(w, r, err)
		}
	})
}

// noRoute answers a request that matches no route with the error envelope:
// 405 with Allow when the path exists with another method, 404 otherwise.
// fallback is the mux's own answer, run into a recorder to learn which.
func (h *api) noRoute(w http.ResponseWriter, r *http.Request, fallback http.Handler) {
	rec := &headerRecorder{header: make(http.Header)}
	fallback.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeEnvelope(w, http.StatusMethodNotAllowed, errorBody{Code: "method_not_allowed", Message: "Method not allowed."})
	case http.StatusNotFound, 0:
		WriteError(w, alliance.Errorf(alliance.ENOTFOUND, "No such API endpoint."))
	default:
		// A redirect to the cleaned path, for one: pass it on as it is.
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

// headerRecorder keeps the status and headers written to it and drops the body.
type headerRecorder struct {
	header http.Header
	status int
}

// Header returns the recorded headers.
func (r *headerRecorder) Header() http.Header { return r.header }

// Write drops the body, noting an implicit 200.

func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}

// WriteHeader records the first status written.
func (r *headerRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// error writes err as the error envelope. Internal errors (and outages) are
// logged with the request id; the client sees only their generic message.
func (h *api) error(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	level := slog.LevelError
	switch StatusCode(alliance.ErrorCode(err)) {
	case http.StatusInternalServerError:
	case http.StatusServiceUnavailable:
		level = slog.LevelWarn
	default:
		WriteError(w, err)
		return
	}
	h.log.Log(ctx, level, "api: request failed", "err", err,
		"request_id", alliance.RequestIDFromContext(ctx), "method", r.Method, "path", r.URL.Path)
	WriteError(w, err)
}
