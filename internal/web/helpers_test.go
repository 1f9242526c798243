package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/demosite"
	"alliance/internal/fetch"
	"alliance/internal/media"
	"alliance/internal/store"
	"alliance/internal/trace"
	"alliance/internal/web"
)

// testPassword is the password of every test user.
const testPassword = "correct horse battery staple"

// env is a web UI over a real database.
type env struct {
	t       *testing.T
	app     *app.App
	h       http.Handler
	logs    *syncBuffer
	clients int    // clients made, for their addresses
	site    string // base URL of the local site of generated images
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testHosts maps reserved names to the example addresses of package trace,
// so that tracing never touches real DNS (the resolver has no fallback).
const testHosts = "" +
	trace.ExampleSE + " se.example.test\n" +
	trace.ExampleNL + " nl.example.test\n" +
	trace.ExampleRU + " ru.example.test\n" +
	trace.ExampleSE + " site.example.test\n"

// newEnv returns the web UI over db, with SE-HOTLINE as the home
// organisation and a tracer that answers from testHosts with the bundled IP data.
func newEnv(t *testing.T, db *store.DB, secure bool) *env {
	t.Helper()
	return newEnvWith(t, db, secure, nil)
}

// newEnvWith is newEnv with the app's options changed by opts first (nil
// changes nothing), e.g. a short police grace period.
func newEnvWith(t *testing.T, db *store.DB, secure bool, opts func(*app.Options)) *env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	res, err := trace.NewHostsResolver(strings.NewReader(testHosts), nil)
	if err != nil {
		t.Fatal(err)
	}
	ipdb, err := trace.Default()
	if err != nil {
		t.Fatal(err)
	}
	// The fetcher reaches one local site of generated images, as
	// site.example.test; the SSRF guard stays on for everything else.
	site := httptest.NewServer(demosite.Handler())
	t.Cleanup(site.Close)
	ap := netip.MustParseAddrPort(site.Listener.Addr().String())
	f := fetch.New(fetch.Options{Timeout: 5 * time.Second, PerHostInterval: -1, AllowAddrs: []netip.AddrPort{ap},
		Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host == "site.example.test" {
				return []netip.Addr{ap.Addr()}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}})
	t.Cleanup(f.Close)
	o := app.Options{DB: db, Logger: log, HomeOrg: "SE-HOTLINE", Tracer: trace.NewTracer(res, ipdb),
		Collector: media.NewCollector(f, media.Options{})}
	if opts != nil {
		opts(&o)
	}
	a := app.New(o)
	h, err := web.New(a, web.Options{Logger: log, SecureCookies: secure, NodeName: "Sweden"})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	return &env{t: t, app: a, h: h, logs: logs, site: fmt.Sprintf("http://site.example.test:%d", ap.Port())}
}

// addUser creates a user with testPassword as the node operator would.
func (e *env) addUser(email, org string, role alliance.Role) alliance.User {
	e.t.Helper()
	ctx := alliance.NewContextWithActor(e.t.Context(), alliance.SystemActor)
	u, err := e.app.AddUser(ctx, app.NewUser{Email: email, Name: "Test " + string(role), OrgCode: org, Role: string(role), Password: testPassword})
	if err != nil {
		e.t.Fatalf("add user %s: %v", email, err)
	}
	return u
}

// client is a minimal browser: it keeps the cookies the handler sets.
type client struct {
	e       *env
	cookies map[string]*http.Cookie
	header  http.Header // sent with every request
	remote  string      // RemoteAddr of its requests; httptest's default when ""
}

// client returns a new client. Each has an address of its own, so that the
// per-client limits of one test's clients do not add up.
func (e *env) client() *client {
	e.clients++
	remote := fmt.Sprintf("192.0.2.%d:1234", e.clients%250+1)
	return &client{e: e, cookies: map[string]*http.Cookie{}, header: http.Header{}, remote: remote}
}

// response is a finished request with its body read.
type response struct {
	*http.Response
	Body string
}

// cookie returns the Set-Cookie of the response named name, or nil.
func (r response) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (c *client) do(req *http.Request) response {
	c.e.t.Helper()
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	rec := httptest.NewRecorder()
	c.e.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	body, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return response{Response: res, Body: string(body)}
}

func (c *client) get(path string) response {
	c.e.t.Helper()
	return c.do(httptest.NewRequestWithContext(c.e.t.Context(), http.MethodGet, path, nil))
}

func (c *client) post(path string, form url.Values) response {
	c.e.t.Helper()
	req := httptest.NewRequestWithContext(c.e.t.Context(), http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrf returns the first CSRF token in a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// csrfAfter returns the first CSRF token after marker in a page: that of a
// given form, since a signed-in page starts with the logout button's.
func csrfAfter(t *testing.T, body, marker string) string {
	t.Helper()
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no %s in page:\n%s", marker, body)
	}
	return csrf(t, body[i:])
}

// login signs the client in through the form and fails the test otherwise.
func (c *client) login(email string) response {
	c.e.t.Helper()
	form := c.get("/login")
	res := c.post("/login", url.Values{"csrf": {csrf(c.e.t, form.Body)}, "email": {email}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		c.e.t.Fatalf("login %s: status %d\n%s", email, res.StatusCode, res.Body)
	}
	return res
}

// wantStatus fails the test unless the response has the status.
func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, status, r.Body)
	}
}

// wantContains fails the test unless body has every string.
func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q\n%s", s, body)
		}
	}
}

// traceAll traces and routes every waiting item, as the background job does.
func (e *env) traceAll() {
	e.t.Helper()
	ctx := alliance.NewContextWithActor(e.t.Context(), alliance.SystemActor)
	for range 20 { // failed traces wait for their backoff, so this ends
		n, err := e.app.TraceBatch(ctx, 500)
		if err != nil {
			e.t.Fatalf("TraceBatch: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("TraceBatch keeps finding work")
}

// fetchAll fetches every routed item due, as the background job does.
func (e *env) fetchAll() {
	e.t.Helper()
	ctx := alliance.NewContextWithActor(e.t.Context(), alliance.SystemActor)
	if err := e.app.Matcher().Refresh(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.app.FetchBatch(ctx, 500); err != nil {
		e.t.Fatalf("FetchBatch: %v", err)
	}
}

// withRequestID wraps h as the server does, giving each request an id.
func withRequestID(h http.Handler, id string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(alliance.NewContextWithRequestID(r.Context(), id)))
	})
}
