package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
)

// who is a set of the actors of the access matrix: each role of two
// organisations in two countries, and the anonymous public.
type who uint16

// The actors. SE-HOTLINE is the node's home organisation; the objects of the
// matrix (report, item, series, bank, …) belong to Sweden.
const (
	anonymous   who = 1 << iota
	seAdmin         // admin of SE-HOTLINE
	seAnalyst       // analyst of SE-HOTLINE
	seAuditor       // auditor of SE-HOTLINE
	sePolice        // police of SE-POLICE
	nlAdmin         // admin of NL-HOTLINE
	nlAnalyst       // analyst of NL-HOTLINE
	nlAuditor       // auditor of NL-HOTLINE
	nlPolice        // police of NL-POLICE
	secretariat     // secretariat of INT-SECRETARIAT
	lastActor   = secretariat
)

// Groups of actors, to keep the rows short.
const (
	admins    = seAdmin | nlAdmin
	analysts  = seAnalyst | nlAnalyst
	police    = sePolice | nlPolice
	signedIn  = admins | analysts | seAuditor | nlAuditor | police | secretariat
	everyone  = anonymous | signedIn
	seHotline = seAdmin | seAnalyst  // SE-HOTLINE's users who see its reports
	seUsers   = seHotline | sePolice // Sweden's users who report for Sweden
	nlUsers   = nlAdmin | nlAnalyst | nlPolice
)

// actorNames name each actor in failure messages.
var actorNames = map[who]string{
	anonymous: "anonymous", seAdmin: "seAdmin", seAnalyst: "seAnalyst", seAuditor: "seAuditor", sePolice: "sePolice",
	nlAdmin: "nlAdmin", nlAnalyst: "nlAnalyst", nlAuditor: "nlAuditor", nlPolice: "nlPolice", secretariat: "secretariat",
}

// accessUsers are the signed-in actors' organisations and roles.
var accessUsers = map[who]struct{ org, role string }{
	seAdmin: {"SE-HOTLINE", "admin"}, seAnalyst: {"SE-HOTLINE", "analyst"}, seAuditor: {"SE-HOTLINE", "auditor"},
	sePolice: {"SE-POLICE", "police"}, nlAdmin: {"NL-HOTLINE", "admin"}, nlAnalyst: {"NL-HOTLINE", "analyst"},
	nlAuditor: {"NL-HOTLINE", "auditor"}, nlPolice: {"NL-POLICE", "police"}, secretariat: {alliance.SecretariatCode, "secretariat"},
}

// each returns the single actors of the set, in the order of the constants.
func (s who) each() []who {
	var out []who
	for a := who(1); a <= lastActor; a <<= 1 {
		if s&a != 0 {
			out = append(out, a)
		}
	}
	return out
}

func (s who) String() string {
	if s == 0 {
		return "nobody"
	}
	var names []string
	for _, a := range s.each() {
		names = append(names, actorNames[a])
	}
	return strings.Join(names, "|")
}

// apiAccess is one row of the API's access matrix: a route, the request
// that exercises it, and who gets past access control.
type apiAccess struct {
	route string // the pattern, exactly as in the routes table
	// path is the request's path and query; {item}, {report}, {series},
	// {bank}, {entry}, {import} and {alert} stand for Sweden's objects of
	// the fixture. "" is the pattern's own path.
	path string
	body string // sent as application/json when not ""
	// allow get past access control: 2xx, or a domain error (400, 409,
	// 413, 422) about the request itself.
	allow who
	// hidden get 404: the object exists but is not theirs to see.
	hidden who
	// Everyone else is refused: 401 when anonymous, 403 when signed in.
}

// want is the outcome a row expects for one actor.
func (row apiAccess) want(a who) string {
	switch {
	case row.allow&a != 0:
		return "allowed"
	case row.hidden&a != 0:
		return "404"
	case a == anonymous:
		return "401"
	}
	return "403"
}

// apiOutcome classifies a status as the matrix sees it.
func apiOutcome(status int) string {
	switch {
	case status >= 200 && status < 300, status == 400, status == 409, status == 413, status == 422:
		return "allowed"
	case status == 401, status == 403, status == 404:
		return strconv.Itoa(status)
	}
	return "unexpected " + strconv.Itoa(status)
}

// accessUntil is a hold's end in the matrix's bodies: three days ahead.
var accessUntil = time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)

// apiMatrix is the access matrix of the API: a row for every route of the
// routes table (TestAPIAccessMatrix fails when one is missing). Rows run
// in order, each actor in the order of the constants, against one
// database, so rows that change state come in a sensible order (hold
// before clear, link before unlink, disable before enable).
var apiMatrix = []apiAccess{
	// Public.
	{route: "GET /api/v1/openapi.json", allow: everyone},
	{route: "GET /api/v1/countries", allow: everyone},
	// The scheme of an assessment's labels is open to anyone, though
	// openapi.json documents the route as needing a token.
	{route: "GET /api/v1/label-scheme", allow: signedIn},
	// The public reports anonymously; auditors and the secretariat do not report.
	{route: "POST /api/v1/reports", body: `{"urls":["https://se.example.test/access"]}`,
		allow: anonymous | admins | analysts | police},

	// Every signed-in user.
	{route: "GET /api/v1/me", allow: signedIn},
	{route: "GET /api/v1/organisations", allow: signedIn},
	{route: "GET /api/v1/targets", allow: signedIn},
	{route: "GET /api/v1/targets/versions", allow: signedIn},
	{route: "GET /api/v1/capabilities", allow: signedIn},

	// Reports and items: the receiving organisation; the item also to the
	// police notified of it (SE-POLICE, after the illegal assessment).
	{route: "GET /api/v1/reports/{id}", path: "/api/v1/reports/{report}",
		allow: seHotline, hidden: sePolice | nlUsers},
	{route: "GET /api/v1/items", allow: admins | analysts | police},
	{route: "GET /api/v1/items/{id}", path: "/api/v1/items/{item}", allow: seUsers, hidden: nlUsers},
	{route: "POST /api/v1/items/{id}/retrace", path: "/api/v1/items/{item}/retrace", allow: seUsers, hidden: nlUsers},
	{route: "POST /api/v1/items/{id}/refetch", path: "/api/v1/items/{item}/refetch", allow: seUsers, hidden: nlUsers},
	{route: "POST /api/v1/items/{id}/assessments", path: "/api/v1/items/{item}/assessments",
		body:  `{"verdict":"baseline","content_type":"image","labels":{"age_band":"13_to_17","industry_class":"B1"}}`,
		allow: seAnalyst, hidden: nlAnalyst},
	{route: "POST /api/v1/items/{id}/hold", path: "/api/v1/items/{item}/hold",
		body: `{"reason":"access","until":"` + accessUntil + `"}`, allow: sePolice, hidden: nlPolice},
	{route: "POST /api/v1/items/{id}/clear", path: "/api/v1/items/{item}/clear",
		body: `{"reason":"access"}`, allow: sePolice, hidden: nlPolice},
	// The queue an actor gets by default: analysts' and police's own.
	{route: "GET /api/v1/queue", allow: analysts | police},
	{route: "GET /api/v1/queue", path: "/api/v1/queue?kind=disputed", allow: admins},
	{route: "GET /api/v1/queue", path: "/api/v1/queue?kind=police", allow: police},
	{route: "GET /api/v1/stats/takedown", allow: admins | analysts | police | secretariat},
	{route: "GET /api/v1/notice-template", allow: admins | analysts | police},
	{route: "PUT /api/v1/notice-template", body: `{"subject":"s","body":"b"}`, allow: admins},

	// Series: police and the secretariat see them; their owner changes them.
	{route: "GET /api/v1/series", allow: police | secretariat},
	{route: "POST /api/v1/series", body: `{"code":""}`, allow: police},
	{route: "GET /api/v1/series/{code}", path: "/api/v1/series/{series}", allow: police | secretariat},
	{route: "PUT /api/v1/series/{code}", path: "/api/v1/series/{series}",
		body: `{"contact":"SE-POLICE VID desk"}`, allow: sePolice},
	{route: "POST /api/v1/series/{code}/status", path: "/api/v1/series/{series}/status",
		body: `{"status":"unidentified"}`, allow: sePolice},
	{route: "POST /api/v1/items/{id}/series", path: "/api/v1/items/{item}/series",
		body: `{"code":"{series}","reason":"access"}`, allow: sePolice, hidden: nlPolice},
	{route: "POST /api/v1/items/{id}/series/unlink", path: "/api/v1/items/{item}/series/unlink",
		body: `{"code":"{series}","reason":"access"}`, allow: sePolice, hidden: nlPolice},
	{route: "GET /api/v1/deconflict", path: "/api/v1/deconflict?series={series}",
		allow: admins | analysts | police | secretariat},
	{route: "GET /api/v1/deconflict", path: "/api/v1/deconflict?item={item}",
		allow: seUsers, hidden: nlUsers | secretariat},
	{route: "GET /api/v1/alerts", allow: police | secretariat},
	{route: "POST /api/v1/alerts/{id}/read", path: "/api/v1/alerts/{alert}/read",
		allow: sePolice, hidden: nlPolice | secretariat},
	{route: "GET /api/v1/stats/series", allow: police | secretariat},

	// Alliance reporting: a country's own users edit and see it, the
	// secretariat sees every country and edits the targets.
	{route: "PUT /api/v1/targets", body: `{"targets":[],"note":"n"}`, allow: secretariat},
	// The period is checked before the country (without one, NL users get
	// 400, not 403), and so are the bodies of the two writes below: they
	// are valid, so that the country decides.
	{route: "GET /api/v1/indicators", path: "/api/v1/indicators?country=SE&period=2026", allow: seUsers | secretariat},
	{route: "GET /api/v1/countries/{cc}/commitments", path: "/api/v1/countries/SE/commitments",
		allow: seUsers | secretariat},
	{route: "PUT /api/v1/countries/{cc}/commitments", path: "/api/v1/countries/SE/commitments",
		body: `{"goal":"4.2","baseline":"access"}`, allow: seUsers},
	{route: "POST /api/v1/countries/{cc}/progress", path: "/api/v1/countries/SE/progress",
		body: `{"goal":"3.1","period":"2026","narrative":"access"}`, allow: seUsers},
	{route: "POST /api/v1/countries/{cc}/update-requests", path: "/api/v1/countries/SE/update-requests",
		body: `{}`, allow: secretariat},
	{route: "GET /api/v1/countries/{cc}/report", path: "/api/v1/countries/SE/report?period=2026", allow: seUsers | secretariat},
	{route: "GET /api/v1/countries/{cc}/capabilities", path: "/api/v1/countries/SE/capabilities",
		allow: seUsers | secretariat},
	{route: "PUT /api/v1/countries/{cc}/capabilities", path: "/api/v1/countries/SE/capabilities",
		body: `{"capabilities":[]}`, allow: seUsers},

	// Banks: hotline and police users match and manage their own
	// organisation's; another organisation's bank is not found.
	{route: "POST /api/v1/match", body: `{"hashes":[]}`, allow: admins | analysts | police},
	{route: "GET /api/v1/banks", allow: admins | analysts | police},
	{route: "POST /api/v1/banks", body: `{"name":""}`, allow: admins | analysts | police},
	{route: "POST /api/v1/banks/{name}/shares", path: "/api/v1/banks/{bank}/shares",
		body: `{"org":"XX-NONE"}`, allow: seHotline, hidden: nlAdmin | nlAnalyst | police},
	{route: "POST /api/v1/banks/{name}/import", path: "/api/v1/banks/{bank}/import?format=csv",
		body: "algorithm,value\n", allow: seHotline, hidden: nlAdmin | nlAnalyst | police},
	{route: "GET /api/v1/bank-imports/{id}", path: "/api/v1/bank-imports/{import}",
		allow: seHotline, hidden: nlAdmin | nlAnalyst | police},
	{route: "GET /api/v1/banks/{name}/export", path: "/api/v1/banks/{bank}/export",
		allow: seHotline, hidden: nlAdmin | nlAnalyst | police},
	{route: "POST /api/v1/banks/{name}/entries/{id}/disable", path: "/api/v1/banks/{bank}/entries/{entry}/disable",
		allow: seHotline, hidden: nlAdmin | nlAnalyst | police},
	{route: "POST /api/v1/banks/{name}/entries/{id}/enable", path: "/api/v1/banks/{bank}/entries/{entry}/enable",
		allow: seHotline, hidden: nlAdmin | nlAnalyst | police},
}

// validatesBeforeAuth are the routes that answer an anonymous request with
// an empty JSON object ({}) 400 rather than 401: they check the body (or
// part of it) before they ask who is sending it. TestAPIAccessBeforeValidation
// keeps the list exact.
var validatesBeforeAuth = map[string]string{
	"POST /api/v1/items/{id}/hold":           "the handler requires until before app.Hold checks the role",
	"PUT /api/v1/countries/{cc}/commitments": "app.PutCommitment checks the goal before countryAccess",
	"POST /api/v1/countries/{cc}/progress":   "app.AddProgress checks period and narrative before countryAccess",
}

// accessFixture is the API with a user and token for each actor and
// Sweden's objects.
type accessFixture struct {
	app    *app.App
	h      http.Handler
	tokens map[who]string // "Bearer …"
	ids    map[string]string
}

func newAccessFixture(t *testing.T, db *store.DB) *accessFixture {
	t.Helper()
	a := newIntakeApp(t, db, testHosts)
	f := &accessFixture{app: a, h: httpapi.New(a, httpapi.Options{}), tokens: map[who]string{}, ids: map[string]string{}}
	sys := alliance.NewContextWithActor(t.Context(), alliance.SystemActor)
	for _, ac := range signedIn.each() {
		u := accessUsers[ac]
		email := actorNames[ac] + "@example.org"
		if _, err := a.AddUser(sys, app.NewUser{Email: email, Name: actorNames[ac], OrgCode: u.org, Role: u.role}); err != nil {
			t.Fatalf("AddUser %s: %v", email, err)
		}
		tok, err := a.CreateToken(sys, email, "access")
		if err != nil {
			t.Fatalf("CreateToken %s: %v", email, err)
		}
		f.tokens[ac] = "Bearer " + tok.Secret
	}
	if err := a.Matcher().Load(t.Context()); err != nil {
		t.Fatal(err)
	}

	// An SE report with one item on a Swedish network, traced, routed to
	// SE-HOTLINE and assessed illegal, so that SE-POLICE is notified.
	var rep submitted
	f.setup(t, seAnalyst, "POST", "/api/v1/reports", `{"urls":["http://`+trace.ExampleSE+`/access"]}`, http.StatusCreated, &rep)
	f.ids["report"] = strconv.FormatInt(rep.ID, 10)
	f.ids["item"] = strconv.FormatInt(rep.Items[0].ID, 10)
	if _, err := a.TraceBatch(sys, 100); err != nil {
		t.Fatal(err)
	}
	f.setup(t, seAnalyst, "POST", "/api/v1/items/"+f.ids["item"]+"/assessments",
		`{"verdict":"baseline","content_type":"image","labels":{"age_band":"13_to_17","industry_class":"B1"}}`, http.StatusCreated, nil)

	// SE-POLICE's series, the item linked to it by hand, which raises an alert.
	f.ids["series"] = "SE-2026-1"
	f.setup(t, sePolice, "POST", "/api/v1/series", `{"code":"SE-2026-1","notes":"police only"}`, http.StatusCreated, nil)
	f.setup(t, sePolice, "POST", "/api/v1/items/"+f.ids["item"]+"/series", `{"code":"SE-2026-1","reason":"seen"}`, http.StatusOK, nil)
	var alerts struct {
		Alerts []struct {
			ID int64 `json:"id"`
		} `json:"alerts"`
	}
	f.setup(t, sePolice, "GET", "/api/v1/alerts", "", http.StatusOK, &alerts)
	if len(alerts.Alerts) != 1 {
		t.Fatalf("SE-POLICE has %d alerts, want 1", len(alerts.Alerts))
	}
	f.ids["alert"] = strconv.FormatInt(alerts.Alerts[0].ID, 10)

	// SE-HOTLINE's bank with one entry, and an import into it.
	f.ids["bank"] = "se-bank"
	f.setup(t, seAnalyst, "POST", "/api/v1/banks", `{"name":"se-bank"}`, http.StatusCreated, nil)
	var imp bankImportResponse
	f.setup(t, seAnalyst, "POST", "/api/v1/banks/se-bank/import?format=csv",
		"algorithm,value,category\nmd5,"+strings.Repeat("0f", 16)+",c1\n", http.StatusAccepted, &imp)
	f.ids["import"] = strconv.FormatInt(imp.Import.ID, 10)
	var res matchResponse
	f.setup(t, seAnalyst, "POST", "/api/v1/match", `{"hashes":[{"algorithm":"md5","value":"`+strings.Repeat("0f", 16)+`"}]}`, http.StatusOK, &res)
	if len(res.Results) != 1 || len(res.Results[0].Matches) != 1 {
		t.Fatalf("match after the import: %+v", res)
	}
	f.ids["entry"] = strconv.FormatInt(res.Results[0].Matches[0].EntryID, 10)
	return f
}

// fill puts the fixture's ids into s.
func (f *accessFixture) fill(s string) string {
	for k, v := range f.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// do sends one request as actor.
func (f *accessFixture) do(t *testing.T, actor who, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequestWithContext(t.Context(), method, path, nil)
	}
	if actor != anonymous {
		r.Header.Set("Authorization", f.tokens[actor])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// setup sends a request of the fixture's setup, failing unless it has the
// status, and decodes the answer into v when not nil.
func (f *accessFixture) setup(t *testing.T, actor who, method, path, body string, status int, v any) {
	t.Helper()
	w := f.do(t, actor, method, path, body)
	if w.Code != status {
		t.Fatalf("setup: %s %s as %s: status %d, want %d; body %s", method, path, actor, w.Code, status, w.Body)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("setup: %s %s: %v", method, path, err)
		}
	}
}

// rowRequest returns the method and filled path and body of a row.
func (f *accessFixture) rowRequest(row apiAccess) (method, path, body string) {
	method, path, _ = strings.Cut(row.route, " ")
	if row.path != "" {
		path = row.path
	}
	return method, f.fill(path), f.fill(row.body)
}

// TestAPIAccessMatrix calls every API route as every actor and checks who
// gets past access control, who is refused and who is told the object
// does not exist. A route without a row fails the test.
func TestAPIAccessMatrix(t *testing.T) {
	// Every route has a row, every row a route, and each row's path is
	// served by its route.
	patterns := httpapi.RoutePatterns()
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	covered := map[string]bool{}
	for _, row := range apiMatrix {
		covered[row.route] = true
		if !slices.Contains(patterns, row.route) {
			t.Errorf("matrix row for %q, which is not in the routes table", row.route)
		}
		if row.allow&row.hidden != 0 {
			t.Errorf("%s: %s both allowed and hidden", row.route, row.allow&row.hidden)
		}
	}
	for _, p := range patterns {
		if !covered[p] {
			t.Errorf("route %q has no row in the access matrix (apiMatrix in access_test.go): say who may call it", p)
		}
	}
	if t.Failed() {
		return
	}

	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		for _, row := range apiMatrix {
			method, path, body := f.rowRequest(row)
			r := httptest.NewRequest(method, path, nil)
			if _, p := mux.Handler(r); p != row.route {
				t.Errorf("%s: path %s is served by %q", row.route, path, p)
				continue
			}
			for _, ac := range everyone.each() {
				w := f.do(t, ac, method, path, body)
				got, want := apiOutcome(w.Code), row.want(ac)
				if got != want {
					t.Errorf("%s %s as %s: got %d (%s), want %s; body %.300s", method, path, ac, w.Code, got, want, w.Body)
				}
			}
		}
	})
}

// TestAPIAccessBeforeValidation sends, for every row, the request as the
// anonymous public (where it is refused) with an empty JSON object as the
// body: access is checked first, so the answer is 401, except on the
// routes of validatesBeforeAuth, which look at the body first.
func TestAPIAccessBeforeValidation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newAccessFixture(t, db)
		seen := map[string]bool{}
		for _, row := range apiMatrix {
			if row.allow&anonymous != 0 || row.body == "" {
				continue
			}
			seen[row.route] = true
			method, path, _ := f.rowRequest(row)
			w := f.do(t, anonymous, method, path, "{}")
			want := http.StatusUnauthorized
			if _, ok := validatesBeforeAuth[row.route]; ok {
				want = http.StatusBadRequest
			}
			if w.Code != want {
				t.Errorf("%s %s anonymously with {}: status %d, want %d; body %.300s", method, path, w.Code, want, w.Body)
			}
		}
		for r := range validatesBeforeAuth {
			if !seen[r] {
				t.Errorf("validatesBeforeAuth names %q, which no row with a body tests", r)
			}
		}
	})
}
