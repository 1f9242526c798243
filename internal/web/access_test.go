package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/store"
	"alliance/internal/testutil"
	"alliance/internal/trace"
	"alliance/internal/web"
)

// who is a set of the actors of the access matrix: each role of two
// organisations in two countries, and the anonymous public.
type who uint16

// The actors. SE-HOTLINE is the node's home organisation; the objects of the
// matrix (report, item, series, alert) belong to Sweden.
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
	auditors  = seAuditor | nlAuditor
	police    = sePolice | nlPolice
	signedIn  = admins | analysts | auditors | police | secretariat
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
var accessUsers = map[who]struct {
	org  string
	role alliance.Role
}{
	seAdmin: {"SE-HOTLINE", alliance.RoleAdmin}, seAnalyst: {"SE-HOTLINE", alliance.RoleAnalyst},
	seAuditor: {"SE-HOTLINE", alliance.RoleAuditor}, sePolice: {"SE-POLICE", alliance.RolePolice},
	nlAdmin: {"NL-HOTLINE", alliance.RoleAdmin}, nlAnalyst: {"NL-HOTLINE", alliance.RoleAnalyst},
	nlAuditor: {"NL-HOTLINE", alliance.RoleAuditor}, nlPolice: {"NL-POLICE", alliance.RolePolice},
	secretariat: {alliance.SecretariatCode, alliance.RoleSecretariat},
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

// pageAccess is one row of the UI's access matrix: a route, the request
// that exercises it, and who gets past access control.
type pageAccess struct {
	route string // the pattern, exactly as web.PagePatterns lists it
	// path is the request's path and query; {item}, {report}, {series} and
	// {alert} stand for Sweden's objects of the fixture. "" is the
	// pattern's own path.
	path string
	// purpose is the CSRF purpose of a POST form; the runner sends a valid
	// token for the actor's session (or, for the anonymous forms, for its
	// form cookie), so that a 403 is access control, never the token.
	purpose string
	form    url.Values // the form's other fields; nil for none
	// allow get past access control: 2xx, a redirect anywhere but the
	// login page, or the form shown again with an error (400, 409).
	allow who
	// hidden get 404: the object is another organisation's, or there is
	// no such page.
	hidden who
	// Everyone else is refused: the anonymous public is sent to /login
	// (303), a signed-in user gets 403.
}

// want is the outcome a row expects for one actor.
func (row pageAccess) want(a who) string {
	switch {
	case row.allow&a != 0:
		return "allowed"
	case row.hidden&a != 0:
		return "404"
	case a == anonymous:
		return "to /login"
	}
	return "403"
}

// pageOutcome classifies a response as the matrix sees it.
func pageOutcome(r response) string {
	switch s := r.StatusCode; {
	case s == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/login"):
		return "to /login"
	case s >= 200 && s < 400, s == 400, s == 409:
		return "allowed"
	case s == 401: // the login form again, after a failed login: the web never refuses with 401
		return "allowed"
	case s == 403 && strings.Contains(r.Body, "Form expired"):
		return "403 for the CSRF token"
	case s == 403, s == 404:
		return strconv.Itoa(s)
	default:
		return "unexpected " + strconv.Itoa(s)
	}
}

// pageMatrix is the access matrix of the UI: a row for every page of
// web.PagePatterns (TestWebAccessMatrix fails when one is missing). Rows
// run in order, each actor in the order of the constants, against one
// database, so rows that change state come in a sensible order; POST
// /logout, which ends the sessions, comes last.
var pageMatrix = []pageAccess{
	// Public.
	{route: "GET /{$}", path: "/", allow: everyone},
	{route: "GET /login", allow: everyone},
	// A failed login (401) for anyone, signed in or not.
	{route: "POST /login", purpose: web.PurposeLogin, form: url.Values{"email": {"nobody@example.org"}, "password": {"wrong"}},
		allow: everyone},
	{route: "GET /countries", allow: everyone},
	{route: "GET /report", allow: everyone},
	// The form is shown again with its errors (400); auditors and the
	// secretariat do not report.
	{route: "POST /report", purpose: web.PurposeReport, allow: anonymous | admins | analysts | police},
	{route: "GET /report/thanks", path: "/report/thanks?ref=R-0000000000", allow: everyone},
	{route: "GET /static/", path: "/static/style.css", allow: everyone},
	{route: "/", path: "/no-such-page", hidden: everyone},

	// Reports and items: the receiving organisation; the item also to the
	// police notified of it (SE-POLICE, after the illegal assessment).
	{route: "GET /items", allow: admins | analysts | police},
	{route: "GET /items/{id}", path: "/items/{item}", allow: seUsers, hidden: nlUsers},
	{route: "GET /reports/{id}", path: "/reports/{report}", allow: seHotline, hidden: sePolice | nlUsers},
	{route: "POST /items/{id}/retrace", path: "/items/{item}/retrace", purpose: web.PurposeRetrace,
		allow: seUsers, hidden: nlUsers},
	{route: "POST /items/{id}/refetch", path: "/items/{item}/refetch", purpose: web.PurposeRetrace,
		allow: seUsers, hidden: nlUsers},
	{route: "POST /items/{id}/assess", path: "/items/{item}/assess", purpose: web.PurposeRetrace,
		form:  url.Values{"verdict": {"baseline"}, "content_type": {"image"}, "label_age_band": {"13_to_17"}, "label_industry_class": {"B1"}},
		allow: seAnalyst, hidden: nlAnalyst},
	{route: "POST /items/{id}/hold", path: "/items/{item}/hold", purpose: web.PurposeRetrace,
		form: url.Values{"reason": {"access"}, "for": {"24h"}}, allow: sePolice, hidden: nlPolice},
	{route: "POST /items/{id}/clear", path: "/items/{item}/clear", purpose: web.PurposeRetrace,
		form: url.Values{"reason": {"access"}}, allow: sePolice, hidden: nlPolice},
	{route: "GET /queue", allow: admins | analysts | police},
	{route: "GET /stats/takedown", allow: admins | analysts | police | secretariat},

	// Series: police and the secretariat see them; their owner changes them.
	{route: "GET /series", allow: police | secretariat},
	{route: "POST /series", purpose: web.PurposeSeries, allow: police},
	{route: "GET /series/{code}", path: "/series/{series}", allow: police | secretariat},
	{route: "POST /series/{code}/status", path: "/series/{series}/status", purpose: web.PurposeSeries,
		form: url.Values{"status": {"unidentified"}}, allow: sePolice},
	{route: "POST /series/{code}/edit", path: "/series/{series}/edit", purpose: web.PurposeSeries,
		form: url.Values{"contact": {"SE-POLICE VID desk"}}, allow: sePolice},
	{route: "POST /items/{id}/series", path: "/items/{item}/series", purpose: web.PurposeRetrace,
		form: url.Values{"code": {"{series}"}, "reason": {"access"}}, allow: sePolice, hidden: nlPolice},
	{route: "POST /items/{id}/series/unlink", path: "/items/{item}/series/unlink", purpose: web.PurposeRetrace,
		form: url.Values{"code": {"{series}"}, "reason": {"access"}}, allow: sePolice, hidden: nlPolice},
	{route: "GET /alerts", allow: police | secretariat},
	// Federation: the node's admins see its peers.
	{route: "GET /peers", allow: admins},
	// Admins disable and enable their organisation's users (no such user
	// here: the form comes back with the error).
	{route: "POST /users", purpose: web.PurposeUsers, form: url.Values{"email": {"not an address"}, "role": {"admin"}, "password": {"long enough passphrase"}},
		allow: admins},
	{route: "POST /users/disable", purpose: web.PurposeUsers, form: url.Values{"email": {"nobody@example.org"}}, allow: admins},
	{route: "POST /users/enable", purpose: web.PurposeUsers, form: url.Values{"email": {"nobody@example.org"}}, allow: admins},
	// Everyone signed in changes their own password (a wrong current one
	// here: the form comes back with the error).
	{route: "GET /account/password", allow: signedIn},
	// Everyone who may use the API makes, lists and revokes their own tokens.
	{route: "GET /account/tokens", allow: signedIn &^ auditors},
	{route: "POST /account/tokens", purpose: web.PurposeAccount, form: url.Values{"name": {"matrix"}}, allow: signedIn &^ auditors},
	{route: "POST /account/tokens/revoke", purpose: web.PurposeAccount, form: url.Values{"id": {"999999"}}, allow: signedIn &^ auditors},
	{route: "POST /account/password", purpose: web.PurposeAccount,
		form: url.Values{"current": {"not the password"}, "new": {"a new passphrase here"}, "confirm": {"a new passphrase here"}}, allow: signedIn},
	{route: "POST /alerts/{id}/read", path: "/alerts/{alert}/read", purpose: web.PurposeSeries,
		allow: sePolice, hidden: nlPolice | secretariat},

	// Alliance reporting: a country's own users edit and see it, the
	// secretariat sees every country and edits the targets.
	{route: "GET /reporting", allow: seUsers | nlUsers | secretariat},
	{route: "GET /reporting/targets", allow: signedIn},
	{route: "POST /reporting/targets", purpose: web.PurposeReporting, allow: secretariat},
	{route: "GET /reporting/{cc}", path: "/reporting/SE", allow: seUsers | secretariat},
	{route: "GET /reporting/{cc}/report.csv", path: "/reporting/SE/report.csv", allow: seUsers | secretariat},
	{route: "GET /reporting/{cc}/report.json", path: "/reporting/SE/report.json", allow: seUsers | secretariat},
	{route: "POST /reporting/{cc}/requests", path: "/reporting/SE/requests", purpose: web.PurposeReporting,
		allow: secretariat},
	{route: "GET /reporting/{cc}/edit", path: "/reporting/SE/edit", allow: seUsers},
	{route: "POST /reporting/{cc}/goals/{goal}", path: "/reporting/SE/goals/4.2", purpose: web.PurposeReporting,
		form: url.Values{"baseline": {"access"}}, allow: seUsers},
	{route: "POST /reporting/{cc}/goals/{goal}/progress", path: "/reporting/SE/goals/3.1/progress",
		purpose: web.PurposeReporting, form: url.Values{"period": {"2026"}, "narrative": {"access"}}, allow: seUsers},
	// With no level given the handler saves nothing and answers "saved"
	// without asking the app, to anyone signed in: the row gives a level.
	{route: "POST /reporting/{cc}/capabilities", path: "/reporting/SE/capabilities", purpose: web.PurposeReporting,
		form: url.Values{"level_MNR-01": {"2"}}, allow: seUsers},

	// Last: it ends each session. Without one there is nothing to end: home.
	{route: "POST /logout", purpose: web.PurposeLogout, allow: everyone},
}

// pageFixture is the UI with a signed-in client for each actor and
// Sweden's objects.
type pageFixture struct {
	e       *env
	clients map[who]*client
	ids     map[string]string
}

func newPageFixture(t *testing.T, db *store.DB) *pageFixture {
	t.Helper()
	e := newEnv(t, db, false)
	f := &pageFixture{e: e, clients: map[who]*client{}, ids: map[string]string{}}
	ctxs := map[who]alliance.Actor{}
	for _, ac := range everyone.each() {
		c := e.client()
		f.clients[ac] = c
		if ac == anonymous {
			wantStatus(t, c.get("/login"), http.StatusOK) // the anonymous forms' cookie
			continue
		}
		u := accessUsers[ac]
		email := actorNames[ac] + "@example.org"
		e.addUser(email, u.org, u.role)
		c.login(email)
		actor, _, err := e.app.SessionActor(t.Context(), c.cookies[web.InsecureSessionCookie].Value)
		if err != nil {
			t.Fatalf("session of %s: %v", ac, err)
		}
		ctxs[ac] = actor
	}
	as := func(ac who) context.Context { return alliance.NewContextWithActor(t.Context(), ctxs[ac]) }

	// An SE report with one item on a Swedish network, traced, routed to
	// SE-HOTLINE and assessed illegal, so that SE-POLICE is notified.
	res, err := e.app.SubmitReport(as(seAnalyst), app.ReportInput{URLs: []string{"http://" + trace.ExampleSE + "/access"}})
	if err != nil {
		t.Fatalf("SubmitReport: %v", err)
	}
	item := res.Report.Items[0].ID
	f.ids["report"] = strconv.FormatInt(res.Report.ID, 10)
	f.ids["item"] = strconv.FormatInt(item, 10)
	e.traceAll()
	if _, err := e.app.Assess(as(seAnalyst), item, app.AssessInput{Verdict: "baseline", ContentType: "image",
		Labels: map[string]string{"age_band": "13_to_17", "industry_class": "B1"}}); err != nil {
		t.Fatalf("Assess: %v", err)
	}
	// SE-POLICE's series, the item linked to it by hand, which raises an alert.
	f.ids["series"] = "SE-2026-1"
	if _, err := e.app.CreateSeries(as(sePolice), app.SeriesInput{Code: "SE-2026-1", Notes: "police only"}); err != nil {
		t.Fatalf("CreateSeries: %v", err)
	}
	if err := e.app.LinkItem(as(sePolice), item, "SE-2026-1", "seen"); err != nil {
		t.Fatalf("LinkItem: %v", err)
	}
	alerts, err := e.app.Alerts(as(sePolice), 10)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("SE-POLICE's alerts: %v, %v; want one", alerts, err)
	}
	f.ids["alert"] = strconv.FormatInt(alerts[0].ID, 10)
	return f
}

// fill puts the fixture's ids into s.
func (f *pageFixture) fill(s string) string {
	for k, v := range f.ids {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// token returns a valid CSRF token of purpose for the client: from the
// form cookie for the login form and the anonymous report form, from the
// session otherwise.
func (f *pageFixture) token(t *testing.T, ac who, purpose string) string {
	t.Helper()
	c := f.clients[ac]
	if purpose == web.PurposeLogin || purpose == web.PurposeReport && ac == anonymous {
		ck := c.cookies[web.LoginCSRFCookie]
		if ck == nil {
			// Signed in, the client lost the form cookie at login and
			// the login page sends it home: it makes up its own, as
			// the double-submit scheme allows.
			ck = &http.Cookie{Name: web.LoginCSRFCookie, Value: strings.Repeat("x", 43)}
			c.cookies[ck.Name] = ck
		}
		return web.CSRFToken(ck.Value, purpose)
	}
	ck := c.cookies[web.InsecureSessionCookie]
	if ck == nil {
		return "" // anonymous: no session, no token
	}
	_, sess, err := f.e.app.SessionActor(t.Context(), ck.Value)
	if err != nil {
		t.Fatalf("session of %s: %v", ac, err)
	}
	return web.CSRFToken(sess.CSRF, purpose)
}

// TestWebAccessMatrix calls every page as every actor and checks who gets
// past access control, who is refused and who is told the page does not
// exist. A page without a row fails the test.
func TestWebAccessMatrix(t *testing.T) {
	patterns := web.PagePatterns()
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	covered := map[string]bool{}
	for _, row := range pageMatrix {
		covered[row.route] = true
		if !slices.Contains(patterns, row.route) {
			t.Errorf("matrix row for %q, which is not a page of the UI", row.route)
		}
		if row.allow&row.hidden != 0 {
			t.Errorf("%s: %s both allowed and hidden", row.route, row.allow&row.hidden)
		}
		if method, _, _ := strings.Cut(row.route, " "); method == http.MethodPost && row.purpose == "" {
			t.Errorf("%s: a form without a CSRF purpose", row.route)
		}
	}
	for _, p := range patterns {
		if !covered[p] {
			t.Errorf("page %q has no row in the access matrix (pageMatrix in access_test.go): say who may see it", p)
		}
	}
	if t.Failed() {
		return
	}

	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		for _, row := range pageMatrix {
			method, path, ok := strings.Cut(row.route, " ")
			if !ok { // a pattern without a method: any
				method, path = http.MethodGet, row.route
			}
			if row.path != "" {
				path = row.path
			}
			path = f.fill(path)
			if _, p := mux.Handler(httptest.NewRequest(method, path, nil)); p != row.route {
				t.Errorf("%s: %s %s is served by %q", row.route, method, path, p)
				continue
			}
			for _, ac := range everyone.each() {
				c := f.clients[ac]
				var r response
				if method == http.MethodPost {
					form := url.Values{}
					for k, vs := range row.form {
						for _, v := range vs {
							form.Add(k, f.fill(v))
						}
					}
					form.Set("csrf", f.token(t, ac, row.purpose))
					r = c.post(path, form)
				} else {
					r = c.get(path)
				}
				if got, want := pageOutcome(r), row.want(ac); got != want {
					t.Errorf("%s %s as %s: got %d %s (%s), want %s", method, path, ac, r.StatusCode,
						r.Header.Get("Location"), got, want)
				}
			}
		}
	})
}
