package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHead(t *testing.T) {
	body := append(append([]byte(nil), pngHeader...), make([]byte, 4000)...)
	var gets, heads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodHead:
			heads.Add(1)
		case http.MethodGet:
			gets.Add(1)
		}
		switch r.URL.Path {
		case "/img":
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Write(body)
		case "/redir":
			http.Redirect(w, r, "/img", http.StatusFound)
		case "/nohead":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	opts := quick()
	opts.MaxBytes = 100 // below the body: HEAD never reads it, so never too large
	f := New(opts)
	defer f.Close()
	tests := []struct {
		path      string
		status    int
		wantFinal string
		wantErr   bool
	}{
		{"/img", 200, "/img", false},
		{"/redir", 200, "/img", false},
		{"/nohead", 405, "/nohead", true},
		{"/gone", 404, "/gone", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, err := f.Head(t.Context(), srv.URL+tt.path)
			var se *StatusError
			if tt.wantErr != (err != nil) || (err != nil && (!errors.As(err, &se) || se.Status != tt.status)) {
				t.Fatalf("err %v, want status %d", err, tt.status)
			}
			if r.Status != tt.status || r.FinalURL != srv.URL+tt.wantFinal || r.Body != nil || r.SniffedType != "" {
				t.Fatalf("got %+v", r)
			}
			if tt.status == 200 && (r.ContentType != "image/png" || r.Header.Get("Content-Length") != fmt.Sprint(len(body))) {
				t.Fatalf("headers: type %q, length %q", r.ContentType, r.Header.Get("Content-Length"))
			}
		})
	}
	if n := gets.Load(); n != 0 {
		t.Fatalf("Head sent %d GET requests", n)
	}
	if n := heads.Load(); n != 5 { // the redirect is followed with HEAD too
		t.Fatalf("%d HEAD requests, want 5", n)
	}
	if _, err := f.Head(t.Context(), "ftp://example.test/x"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("ftp: %v", err)
	}
	g := New(Options{PerHostInterval: -1})
	if _, err := g.Head(t.Context(), srv.URL+"/img"); Classify(err) != FailureBlocked {
		t.Fatalf("guarded head to loopback: %v", err)
	}
}

func TestFetchLimit(t *testing.T) {
	body := make([]byte, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.Write(body[:500])
			w.(http.Flusher).Flush() // no Content-Length: the cap applies while reading
			w.Write(body[500:])
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	opts := quick()
	opts.MaxBytes = 2000
	f := New(opts)
	defer f.Close()
	tests := []struct {
		path    string
		limit   int64
		tooBig  bool
		comment string
	}{
		{"/", 500, true, "declared length over the call's cap"},
		{"/chunked", 500, true, "streamed body over the call's cap"},
		{"/", 1000, false, "exactly at the cap"},
		{"/", 0, false, "zero takes Options.MaxBytes"},
		{"/", 1 << 40, false, "a larger cap is clamped to Options.MaxBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.comment, func(t *testing.T) {
			r, err := f.FetchLimit(t.Context(), srv.URL+tt.path, tt.limit)
			if tt.tooBig {
				if !errors.Is(err, ErrTooLarge) || r.Status != 200 || r.Body != nil {
					t.Fatalf("err %v, status %d, body %d bytes", err, r.Status, len(r.Body))
				}
				return
			}
			if err != nil || len(r.Body) != len(body) {
				t.Fatalf("err %v, body %d bytes", err, len(r.Body))
			}
		})
	}
	g := New(Options{MaxBytes: 600, PerHostInterval: -1, AllowPrivate: true})
	if _, err := g.FetchLimit(t.Context(), srv.URL+"/", 5000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("cap above Options.MaxBytes not clamped: %v", err)
	}
}

// inflight counts requests in progress per host name, and the peaks.
type inflight struct {
	mu        sync.Mutex
	now, peak map[string]int
	total     int
	peakTotal int
}

func newInflight() *inflight { return &inflight{now: map[string]int{}, peak: map[string]int{}} }

func (c *inflight) enter(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now[host]++
	c.total++
	c.peak[host] = max(c.peak[host], c.now[host])
	c.peakTotal = max(c.peakTotal, c.total)
}

func (c *inflight) leave(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now[host]--
	c.total--
}

// hostServer serves /slow (30 ms) and /to/{host}, a redirect to /slow on
// that host name, counting requests in flight per Host.
func hostServer(t *testing.T, c *inflight) (*httptest.Server, Options) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		c.enter(host)
		defer c.leave(host)
		if to, ok := strings.CutPrefix(r.URL.Path, "/to/"); ok {
			http.Redirect(w, r, "http://"+to+":"+fmt.Sprint(addrPort(t, srv).Port())+"/slow", http.StatusFound)
			return
		}
		time.Sleep(30 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	opts := Options{
		Timeout:         5 * time.Second,
		PerHostInterval: -1,
		AllowAddrs:      []netip.AddrPort{addrPort(t, srv)},
		Resolver:        mapResolver(map[string][]string{"a.test": {"127.0.0.1"}, "b.test": {"127.0.0.1"}}),
	}
	return srv, opts
}

func TestMaxPerHost(t *testing.T) {
	tests := []struct {
		name       string
		maxPerHost int
		wantPeak   int // per host; 0: more than 2
	}{
		{"limit 1", 1, 1},
		{"limit 2", 2, 2},
		{"unlimited", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newInflight()
			srv, opts := hostServer(t, c)
			opts.MaxPerHost = tt.maxPerHost
			f := New(opts)
			defer f.Close()
			port := addrPort(t, srv).Port()
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for i := range 16 {
				host := []string{"a.test", "b.test"}[i%2]
				wg.Go(func() {
					if _, err := f.Fetch(t.Context(), fmt.Sprintf("http://%s:%d/slow", host, port)); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			for _, h := range []string{"a.test", "b.test"} {
				p := c.peak[h]
				if (tt.wantPeak > 0 && p != tt.wantPeak) || (tt.wantPeak == 0 && p <= 2) {
					t.Errorf("host %s: peak %d in flight, want %d", h, p, tt.wantPeak)
				}
			}
			if c.peakTotal <= c.peak["a.test"] {
				t.Errorf("hosts did not run side by side: peak total %d", c.peakTotal)
			}
			if len(f.slots) != 0 {
				t.Errorf("%d host slot entries left", len(f.slots))
			}
		})
	}
}

// TestMaxPerHostWait checks that a caller waiting for a slot gives up when
// its context ends, without reaching the server, and leaves nothing behind.
func TestMaxPerHostWait(t *testing.T) {
	entered := make(chan struct{}, 1)
	unblock := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/block" {
			entered <- struct{}{}
			<-unblock
		}
	}))
	defer srv.Close()
	opts := quick()
	opts.MaxPerHost = 1
	f := New(opts)
	defer f.Close()
	done := make(chan error)
	go func() {
		_, err := f.Fetch(context.Background(), srv.URL+"/block")
		done <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.Head(ctx, srv.URL+"/other")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("waiting caller: %v after %v", err, time.Since(start))
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("server saw %d requests, want only the blocking one", n)
	}
	close(unblock)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(t.Context(), srv.URL+"/other"); err != nil {
		t.Fatalf("slot not given back: %v", err)
	}
	if len(f.slots) != 0 {
		t.Fatalf("%d host slot entries left", len(f.slots))
	}
}

// TestMaxPerHostRedirect sends crossing redirects (a→b and b→a) with one
// slot per host: a request gives up its slot before waiting for the next
// host's, so they cannot deadlock, and the limit holds on the way.
func TestMaxPerHostRedirect(t *testing.T) {
	c := newInflight()
	srv, opts := hostServer(t, c)
	opts.MaxPerHost = 1
	opts.Timeout = 3 * time.Second
	f := New(opts)
	defer f.Close()
	port := addrPort(t, srv).Port()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		from, to := "a.test", "b.test"
		if i%2 == 1 {
			from, to = to, from
		}
		wg.Go(func() {
			r, err := f.Fetch(t.Context(), fmt.Sprintf("http://%s:%d/to/%s", from, port, to))
			if err == nil && !strings.Contains(r.FinalURL, to) {
				err = fmt.Errorf("final url %s", r.FinalURL)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for h, p := range c.peak {
		if p > 1 {
			t.Errorf("host %s: peak %d in flight, limit 1", h, p)
		}
	}
}
