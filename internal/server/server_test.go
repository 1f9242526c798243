package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance"
	"alliance/internal/app"
	"alliance/internal/httpapi"
	"alliance/internal/server"
	"alliance/internal/store"
	"alliance/internal/testutil"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fixture is a server over a fresh database with the real API and a small
// web handler standing in for the UI.
type fixture struct {
	db   *store.DB
	srv  *server.Server
	logs *syncBuffer
	// release unblocks GET /slow; started is closed when it is entered.
	release, started chan struct{}
}

func newFixture(t *testing.T, db *store.DB, opts server.Options) *fixture {
	t.Helper()
	f := &fixture{db: db, logs: new(syncBuffer), release: make(chan struct{}), started: make(chan struct{})}
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := app.New(app.Options{DB: db, Logger: logger, HomeOrg: "SE-HOTLINE"})

	web := http.NewServeMux()
	web.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "home") })
	web.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "posted") })
	web.HandleFunc("GET /request-id", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, alliance.RequestIDFromContext(r.Context()))
	})
	web.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("secret detail") })
	web.HandleFunc("GET /panic-late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("secret detail")
	})
	web.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(f.started)
		<-f.release
		_, _ = io.WriteString(w, "slow done")
	})

	if opts.App == nil {
		opts.App = a
	}
	if opts.API == nil {
		opts.API = httpapi.New(a, httpapi.Options{Logger: logger})
	}
	opts.Web, opts.Logger = web, logger
	if opts.DB == nil {
		opts.DB = db.SQL()
	}
	f.srv = server.New(opts)
	return f
}

// do serves one request through the root handler.
func (f *fixture) do(t *testing.T, method, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, r)
	return w
}

func TestHealthAndReadiness(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, server.Options{})
		steps := []struct {
			name       string
			closeDB    bool
			path       string
			wantStatus int
			wantBody   string
		}{
			{"healthz", false, "/healthz", 200, "ok\n"},
			{"readyz", false, "/readyz", 200, "ok\n"},
			{"healthz after close", true, "/healthz", 200, "ok\n"},
			{"readyz after close", true, "/readyz", 503, "unavailable\n"},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if st.closeDB {
					if err := db.Close(); err != nil {
						t.Fatal(err)
					}
				}
				w := f.do(t, http.MethodGet, st.path, nil)
				if w.Code != st.wantStatus || w.Body.String() != st.wantBody {
					t.Errorf("got %d %q, want %d %q", w.Code, w.Body, st.wantStatus, st.wantBody)
				}
			})
		}
	})
}

func TestMetrics(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, server.Options{})
		for _, p := range []string{"/api/v1/countries", "/api/v1/countries", "/api/v1/me", "/api/v1/nothing", "/nothing", "/healthz"} {
			f.do(t, http.MethodGet, p, nil)
		}
		w := f.do(t, http.MethodGet, "/metrics", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		body := w.Body.String()
		for _, want := range []string{
			`http_requests_total{code="200",method="GET",route="/api/v1/countries"} 2`,
			`http_requests_total{code="401",method="GET",route="/api/v1/me"} 1`,
			`http_requests_total{code="404",method="GET",route="unmatched"} 2`,
			`http_requests_total{code="200",method="GET",route="/healthz"} 1`,
			`http_request_duration_seconds_bucket{method="GET",route="/api/v1/countries",le="+Inf"} 2`,
			`go_sql_max_open_connections{db_name="alliance"}`,
			`go_sql_open_connections{db_name="alliance"}`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		// A path that matches no route must not become a label value.
		if strings.Contains(body, `"/nothing"`) {
			t.Errorf("unmatched path became a label value")
		}
		if f.srv.Registry() == nil {
			t.Errorf("Registry() = nil")
		}
	})
}

// TestSharedRegistry checks that two servers can share one registry.
func TestSharedRegistry(t *testing.T) {
	db := testutil.NewSQLite(t)
	reg := newFixture(t, db, server.Options{}).srv.Registry()
	f := newFixture(t, db, server.Options{Registry: reg})
	if f.srv.Registry() != reg {
		t.Fatalf("registry not used")
	}
	f.do(t, http.MethodGet, "/healthz", nil)
	if mfs, err := reg.Gather(); err != nil || len(mfs) == 0 {
		t.Fatalf("gather: %v", err)
	}
}

func TestPanicRecovered(t *testing.T) {
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/panic", func(w http.ResponseWriter, r *http.Request) { panic("secret detail") })
	f := newFixture(t, testutil.NewSQLite(t), server.Options{API: api})
	tests := []struct {
		path, wantType, wantBody string
	}{
		{"/panic", "text/plain; charset=utf-8", "Internal error.\n"},
		{"/api/v1/panic", "application/json", `{"error":{"code":"internal","message":"Internal error."}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			id := "panic" + strings.ReplaceAll(tt.path, "/", "-")
			w := f.do(t, http.MethodGet, tt.path, http.Header{"X-Request-Id": {id}})
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", w.Code)
			}
			if got := w.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if w.Body.String() != tt.wantBody {
				t.Errorf("body = %q, want %q", w.Body, tt.wantBody)
			}
			if w.Header().Get("Content-Security-Policy") == "" {
				t.Errorf("no security headers on the 500")
			}
			logs := f.logs.String()
			for _, want := range []string{"secret detail", "goroutine", `"request_id":"` + id + `"`} {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %q", want)
				}
			}
		})
	}
	t.Run("after the response began", func(t *testing.T) {
		ts := httptest.NewServer(f.srv.Handler())
		defer ts.Close()
		res, err := ts.Client().Get(ts.URL + "/panic-late")
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if err == nil {
			t.Errorf("the aborted response read as complete")
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{})
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
			"frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	}
	for _, path := range []string{"/", "/healthz", "/readyz", "/metrics", "/api/v1/countries", "/api/v1/me", "/api/v1/nothing", "/nothing"} {
		t.Run(path, func(t *testing.T) {
			w := f.do(t, http.MethodGet, path, nil)
			for k, v := range want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if w.Header().Get("Permissions-Policy") == "" {
				t.Errorf("no Permissions-Policy")
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{})
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name, incoming string
		wantEcho       bool
	}{
		{"none", "", false},
		{"valid", "abc-123.X_y", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"too long", strings.Repeat("a", 65), false},
		{"space", "abc 123", false},
		{"log injection", "abc\"\nlevel=ERROR", false},
		{"non-ASCII", "ärende", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.incoming != "" {
				h.Set("X-Request-ID", tt.incoming)
			}
			w := f.do(t, http.MethodGet, "/request-id", h)
			got := w.Header().Get("X-Request-ID")
			if tt.wantEcho && got != tt.incoming {
				t.Errorf("X-Request-ID = %q, want %q echoed", got, tt.incoming)
			}
			if !tt.wantEcho && !generated.MatchString(got) {
				t.Errorf("X-Request-ID = %q, want a generated one", got)
			}
			if w.Body.String() != got {
				t.Errorf("context has request id %q, header %q", w.Body, got)
			}
		})
	}
	t.Run("unique", func(t *testing.T) {
		a := f.do(t, http.MethodGet, "/healthz", nil).Header().Get("X-Request-ID")
		b := f.do(t, http.MethodGet, "/healthz", nil).Header().Get("X-Request-ID")
		if a == b {
			t.Errorf("two requests got id %q", a)
		}
	})
}

func TestAccessLog(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{})
	f.do(t, http.MethodGet, "/api/v1/countries?email=someone@example.org", http.Header{"X-Request-Id": {"log-1"}})
	var line map[string]any
	for l := range strings.Lines(f.logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err == nil && m["msg"] == "http request" && m["request_id"] == "log-1" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no access log line in:\n%s", f.logs)
	}
	for k, v := range map[string]any{"method": "GET", "path": "/api/v1/countries", "route": "/api/v1/countries", "status": 200.0} {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if b, _ := line["bytes"].(float64); b <= 0 {
		t.Errorf("bytes = %v", line["bytes"])
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("no duration")
	}
	if strings.Contains(f.logs.String(), "someone@example.org") {
		t.Errorf("the query string was logged")
	}
}

func TestCrossOriginProtection(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{})
	tests := []struct {
		name, method, path, site string
		wantStatus               int
	}{
		{"web same origin", http.MethodPost, "/form", "same-origin", 200},
		{"web cross site", http.MethodPost, "/form", "cross-site", 403},
		{"web cross site GET", http.MethodGet, "/", "cross-site", 200},
		{"api cross site is not blocked (bearer tokens)", http.MethodGet, "/api/v1/countries", "cross-site", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, tt.method, tt.path, http.Header{"Sec-Fetch-Site": {tt.site}})
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
		})
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{ShutdownTimeout: 10 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()

	// A request in flight when the context ends must still be answered.
	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		res, err := http.Get(url + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		slow <- result{string(b), err}
	}()
	<-f.started
	cancel()
	// Shutdown closes the listener first: new connections are refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(f.release)
	if r := <-slow; r.err != nil || r.body != "slow done" {
		t.Errorf("in-flight request: %q, %v", r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{ShutdownTimeout: 50 * time.Millisecond})
	defer close(f.release)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln) }()
	go func() {
		if res, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
			res.Body.Close()
		}
	}()
	<-f.started
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve = %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not give up after its shutdown timeout")
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		format  string
		wantErr bool
		check   func(string) bool
	}{
		{"text", false, func(s string) bool { return strings.Contains(s, "level=WARN") && strings.Contains(s, "k=v") }},
		{"json", false, func(s string) bool { return json.Valid([]byte(s)) && strings.Contains(s, `"k":"v"`) }},
		{"xml", true, nil},
		{"", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := server.NewLogger(&buf, tt.format, slog.LevelWarn)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			l.Info("dropped", "k", "v")
			l.Warn("kept", "k", "v")
			if out := buf.String(); strings.Contains(out, "dropped") || !tt.check(out) {
				t.Errorf("output %q", out)
			}
		})
	}
}

// TestHugeRequestHeaders: headers over MaxHeaderBytes are refused with 431
// before any handler runs; a request just under the limit is served.
func TestHugeRequestHeaders(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	for _, tt := range []struct {
		size int
		want int
	}{{server.MaxHeaderBytes / 2, http.StatusOK}, {4 * server.MaxHeaderBytes, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/healthz", nil)
		req.Header.Set("X-Filler", strings.Repeat("h", tt.size))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d bytes of headers: %v", tt.size, err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%d bytes of headers: %d, want %d", tt.size, res.StatusCode, tt.want)
		}
	}
}

// TestSeparateMetrics: with SeparateMetrics the public handler has no
// /metrics; the metrics listener serves it and nothing else of the node.
func TestSeparateMetrics(t *testing.T) {
	f := newFixture(t, testutil.NewSQLite(t), server.Options{SeparateMetrics: true})
	if w := f.do(t, http.MethodGet, "/metrics", nil); w.Code == http.StatusOK {
		t.Errorf("public /metrics: %d, want none", w.Code)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- f.srv.ServeMetrics(ctx, ln) }()
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener /metrics: %d %.100q", code, body)
	}
	if code, _ := get("/api/v1/countries"); code != http.StatusNotFound {
		t.Errorf("metrics listener serves the API: %d", code)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("ServeMetrics: %v", err)
	}
}
