package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/trace"
)

// testHosts maps reserved names to the example addresses of package trace,
// so that tracing never touches real DNS (the resolver has no fallback).
const testHosts = "" +
	trace.ExampleSE + " se.example.test\n" +
	trace.ExampleNL + " nl.example.test\n" +
	trace.ExampleRU + " ru.example.test\n"

// intake is an API with the intake use cases over a fresh database, tracing
// through a hosts file, with a token for an analyst of each of SE-HOTLINE
// (the home organisation) and NL-HOTLINE.
type intake struct {
	db     *store.DB
	app    *app.App
	h      http.Handler
	tokens map[string]string // organisation code → "Bearer …" of an analyst there
}

func newIntake(t testing.TB, db *store.DB, hosts string, opts httpapi.Options, tweak ...func(*app.Options)) *intake {
	t.Helper()
	a := newIntakeApp(t, db, hosts, tweak...)
	in := &intake{db: db, app: a, h: httpapi.New(a, opts), tokens: map[string]string{}}
	ctx := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
	for _, org := range []string{"SE-HOTLINE", "NL-HOTLINE"} {
		email := strings.ToLower(org) + "@example.org"
		if _, err := a.AddUser(ctx, app.NewUser{Email: email, Name: org + " analyst", OrgCode: org, Role: "analyst"}); err != nil {
			t.Fatalf("AddUser %s: %v", org, err)
		}
		tok, err := a.CreateToken(ctx, email, "test")
		if err != nil {
			t.Fatalf("CreateToken %s: %v", org, err)
		}
		in.tokens[org] = "Bearer " + tok.Secret
	}
	return in
}

// newIntakeApp returns an app over db whose home organisation is SE-HOTLINE
// and whose tracer answers from hosts with the bundled IP data; tweak may
// change its options further.
func newIntakeApp(t testing.TB, db *store.DB, hosts string, tweak ...func(*app.Options)) *app.App {
	t.Helper()
	res, err := trace.NewHostsResolver(strings.NewReader(hosts), nil)
	if err != nil {
		t.Fatal(err)
	}
	ipdb, err := trace.Default()
	if err != nil {
		t.Fatal(err)
	}
	opts := app.Options{DB: db, HomeOrg: "SE-HOTLINE", Tracer: trace.NewTracer(res, ipdb)}
	for _, f := range tweak {
		f(&opts)
	}
	return app.New(opts)
}

// request is one API request for intake.do.
type request struct {
	method, path string
	auth         string // whole Authorization header; "" for none
	body         string // sent as application/json when not ""
	header       http.Header
	remote       string // RemoteAddr; httptest's default when ""
}

func (in *intake) do(t testing.TB, req request) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r := httptest.NewRequestWithContext(t.Context(), req.method, req.path, body)
	if req.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.auth != "" {
		r.Header.Set("Authorization", req.auth)
	}
	for k, v := range req.header {
		r.Header[k] = v
	}
	if req.remote != "" {
		r.RemoteAddr = req.remote
	}
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, r)
	return w
}

// get reads path as org's analyst into v, failing unless the answer is 200.
func (in *intake) get(t *testing.T, org, path string, v any) {
	t.Helper()
	w := in.do(t, request{method: http.MethodGet, path: path, auth: in.tokens[org]})
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s as %s: status %d; body %s", path, org, w.Code, w.Body)
	}
	decodeBody(t, w, v)
}

// submit posts a report, failing unless it is created, and returns the answer.
func (in *intake) submit(t *testing.T, auth, body string) submitted {
	t.Helper()
	w := in.do(t, request{method: http.MethodPost, path: "/api/v1/reports", auth: auth, body: body})
	if w.Code != http.StatusCreated {
		t.Fatalf("POST report: status %d; body %s", w.Code, w.Body)
	}
	var s submitted
	decodeBody(t, w, &s)
	return s
}

// itemCount is the number of items SE-HOTLINE, the home organisation, sees.
func (in *intake) itemCount(t *testing.T) int {
	t.Helper()
	n := 0
	path := "/api/v1/items?limit=500"
	for {
		var page itemPage
		in.get(t, "SE-HOTLINE", path, &page)
		n += len(page.Items)
		if page.Next == nil {
			return n
		}
		path = "/api/v1/items?limit=500&cursor=" + *page.Next
	}
}

func itemPath(id int64) string   { return "/api/v1/items/" + strconv.FormatInt(id, 10) }
func reportPath(id int64) string { return "/api/v1/reports/" + strconv.FormatInt(id, 10) }

// The API's JSON as a client reads it; decodeBody rejects unknown fields, so
// these also pin the shapes.
type (
	submitted struct {
		ID        int64  `json:"id"`
		Reference string `json:"reference"`
		Items     []struct {
			ID           int64  `json:"id"`
			URL          string `json:"url"`
			CanonicalURL string `json:"canonical_url"`
			DuplicateOf  *int64 `json:"duplicate_of"`
		} `json:"items"`
	}
	traceOut struct {
		Status   string    `json:"status"`
		IP       *string   `json:"ip"`
		Country  *string   `json:"country"`
		ASN      *uint32   `json:"asn"`
		ASOrg    *string   `json:"as_org"`
		DataDate string    `json:"data_date"`
		TracedAt time.Time `json:"traced_at"`
	}
	routeOut struct {
		Kind         string    `json:"kind"`
		Organisation string    `json:"organisation"`
		Police       string    `json:"police"`
		Reason       string    `json:"reason"`
		DecidedAt    time.Time `json:"decided_at"`
	}
	itemOut struct {
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
		Trace             *traceOut  `json:"trace"`
		Route             *routeOut  `json:"route"`
		RouteHistory      []routeOut `json:"route_history"`
		// What the fetch adds (tested end to end in cmd/alliance).
		Fetch               map[string]any   `json:"fetch"`
		Known               string           `json:"known"`
		KnownClassification map[string]any   `json:"known_classification"`
		Media               []map[string]any `json:"media"`
		Takedown            map[string]any   `json:"takedown"`
		Assessments         []map[string]any `json:"assessments"`
		TakedownHistory     []map[string]any `json:"takedown_history"`
		Notices             []map[string]any `json:"notices"`
		Deconfliction       map[string]any   `json:"deconfliction"`
		Federation          map[string]any   `json:"federation"`
	}
	reportOut struct {
		ID           int64     `json:"id"`
		Reference    string    `json:"reference"`
		Organisation string    `json:"organisation"`
		Source       string    `json:"source"`
		Category     string    `json:"category"`
		Description  string    `json:"description"`
		ReceivedAt   time.Time `json:"received_at"`
		Reporter     *struct {
			Email string `json:"email"`
		} `json:"reporter"`
		Items []itemOut `json:"items"`
	}
	itemPage struct {
		Items []itemOut `json:"items"`
		Next  *string   `json:"next"`
	}
)
