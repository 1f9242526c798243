package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pngHeader is enough of a PNG for content sniffing.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// mapResolver resolves reserved test names from a table.
func mapResolver(m map[string][]string) Resolver {
	return func(ctx context.Context, host string) ([]netip.Addr, error) {
		ss, ok := m[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
}

func addrPort(t *testing.T, srv *httptest.Server) netip.AddrPort {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return netip.MustParseAddrPort(u.Host)
}

// quick returns options for loopback tests: short limits, no politeness.
func quick() Options {
	return Options{Timeout: 2 * time.Second, PerHostInterval: -1, AllowPrivate: true}
}

func TestFetchOK(t *testing.T) {
	var ua atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		switch r.URL.Path {
		case "/img":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(pngHeader)
		case "/html":
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.Header().Set("Set-Cookie", "a=b")
			fmt.Fprint(w, "<p>hello</p>")
		case "/bare":
			w.Header()["Content-Type"] = nil // no header: must be sniffed
			w.Write(pngHeader)
		case "/redir":
			http.Redirect(w, r, "/img", http.StatusFound)
		}
	}))
	defer srv.Close()
	opts := quick()
	opts.UserAgent = "TestNode/1 (+mailto:ops@example.test)"
	f := New(opts)
	defer f.Close()
	tests := []struct {
		path, wantType, wantDeclared, wantFinal string
	}{
		{"/img", "image/png", "application/octet-stream", "/img"},
		{"/html", "text/html", "text/html; charset=UTF-8", "/html"},
		{"/bare", "image/png", "", "/bare"},
		{"/redir", "image/png", "application/octet-stream", "/img"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			before := time.Now().UTC()
			r, err := f.Fetch(t.Context(), srv.URL+tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != 200 || r.ContentType != tt.wantType || r.DeclaredType != tt.wantDeclared || r.FinalURL != srv.URL+tt.wantFinal {
				t.Fatalf("got %+v", r)
			}
			if len(r.Body) == 0 || r.SniffedType == "" || r.FetchedAt.Before(before) {
				t.Fatalf("body/sniff/time missing: %+v", r)
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Fatal("unlisted header kept")
			}
			if got := ua.Load(); got != opts.UserAgent {
				t.Fatalf("user agent %q", got)
			}
		})
	}
	if d := New(Options{}); d.opts.UserAgent != DefaultUserAgent || d.opts.MaxBytes != DefaultMaxBytes || d.opts.Timeout != DefaultTimeout {
		t.Fatalf("defaults not applied: %+v", d.opts)
	}
}

func TestFetchStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(r.URL.Path, "/%d", &code)
		w.WriteHeader(code)
		fmt.Fprint(w, "status body")
	}))
	defer srv.Close()
	f := New(quick())
	defer f.Close()
	for _, tt := range []struct {
		code      int
		kind      Failure
		transient bool
	}{
		{404, FailureHTTP4xx, false},
		{410, FailureHTTP4xx, false},
		{429, FailureHTTP4xx, true},
		{503, FailureHTTP5xx, true},
		{500, FailureHTTP5xx, true},
	} {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			r, err := f.Fetch(t.Context(), fmt.Sprintf("%s/%d", srv.URL, tt.code))
			if r.Status != tt.code {
				t.Fatalf("status %d, want %d (err %v)", r.Status, tt.code, err)
			}
			if Classify(err) != tt.kind || Transient(err) != tt.transient {
				t.Fatalf("err %v: kind %q transient %v", err, Classify(err), Transient(err))
			}
		})
	}
}

func TestFetchLimits(t *testing.T) {
	const max = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exact":
			w.Write(bytes.Repeat([]byte("a"), max))
		case "/over": // chunked, no Content-Length
			w.Write(bytes.Repeat([]byte("a"), max/2))
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte("a"), max/2+1))
		case "/declared":
			w.Header().Set("Content-Length", fmt.Sprint(max*10))
			w.Write(bytes.Repeat([]byte("a"), max*10))
		case "/lying": // claims 5 bytes, sends far more than the cap
			conn, buf, _ := w.(http.Hijacker).Hijack()
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n")
			buf.Write(bytes.Repeat([]byte("b"), max*4))
			buf.Flush()
		case "/headers": // endless headers from a hostile host
			conn, buf, _ := w.(http.Hijacker).Hijack()
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\n")
			for i := range MaxResponseHeaderBytes / 32 {
				fmt.Fprintf(buf, "X-Filler-%06d: %s\r\n", i, strings.Repeat("h", 16))
			}
			buf.WriteString("Content-Length: 2\r\n\r\nok")
			buf.Flush()
		case "/slow":
			time.Sleep(500 * time.Millisecond)
		case "/slowbody":
			w.Write([]byte("start"))
			w.(http.Flusher).Flush()
			time.Sleep(500 * time.Millisecond)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/ftp":
			http.Redirect(w, r, "ftp://files.example.test/x", http.StatusFound)
		}
	}))
	defer srv.Close()
	opts := quick()
	opts.MaxBytes = max
	opts.Timeout = 200 * time.Millisecond
	opts.MaxRedirects = 3
	f := New(opts)
	defer f.Close()
	for _, tt := range []struct {
		path    string
		kind    Failure
		bodyLen int
	}{
		{"/exact", FailureNone, max},
		{"/over", FailureTooLarge, 0},
		{"/declared", FailureTooLarge, 0},
		{"/lying", FailureNone, 5}, // framing is trusted; never reads past it
		{"/headers", FailureTooLarge, 0},
		{"/slow", FailureTimeout, 0},
		{"/slowbody", FailureTimeout, 0},
		{"/loop", FailureRedirects, 0},
		{"/ftp", FailureBlocked, 0},
	} {
		t.Run(tt.path, func(t *testing.T) {
			r, err := f.Fetch(t.Context(), srv.URL+tt.path)
			if Classify(err) != tt.kind {
				t.Fatalf("err %v: kind %q, want %q", err, Classify(err), tt.kind)
			}
			if len(r.Body) != tt.bodyLen {
				t.Fatalf("body %d bytes, want %d", len(r.Body), tt.bodyLen)
			}
			wantTransient := tt.kind == FailureTimeout
			if Transient(err) != wantTransient {
				t.Fatalf("Transient(%v) = %v", err, Transient(err))
			}
		})
	}
}

func TestFetchSchemeAndTLS(t *testing.T) {
	f := New(quick())
	defer f.Close()
	for _, u := range []string{"ftp://files.example.test/a", "file:///etc/hosts", "gopher://x.invalid/", "javascript:alert(1)"} {
		if _, err := f.Fetch(t.Context(), u); Classify(err) != FailureBlocked {
			t.Errorf("%s: %v (kind %q)", u, err, Classify(err))
		}
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the expected handshake failure
	srv.StartTLS()
	defer srv.Close()
	if _, err := f.Fetch(t.Context(), srv.URL); Classify(err) != FailureTLS || Transient(err) {
		t.Errorf("self-signed TLS: %v (kind %q)", err, Classify(err))
	}
	// A closed port on loopback: refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := f.Fetch(t.Context(), "http://"+addr+"/"); Classify(err) != FailureRefused || !Transient(err) {
		t.Errorf("closed port: %v (kind %q)", err, Classify(err))
	}
	g := New(Options{PerHostInterval: -1, Resolver: mapResolver(nil)})
	if _, err := g.Fetch(t.Context(), "http://missing.invalid/"); Classify(err) != FailureDNS || Transient(err) {
		t.Errorf("missing name: %v (kind %q)", err, Classify(err))
	}
	h := New(Options{PerHostInterval: -1, Resolver: func(ctx context.Context, host string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}})
	if _, err := h.Fetch(t.Context(), "http://servfail.example.test/"); Classify(err) != FailureDNS || !Transient(err) {
		t.Errorf("servfail: %v (kind %q)", err, Classify(err))
	}
}

// TestGuard runs with the guard on. Options.AllowAddrs lets exactly one
// loopback server through, standing in for a public host; everything else
// on loopback must be refused.
func TestGuard(t *testing.T) {
	var hitsB atomic.Int32
	srvB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsB.Add(1)
		w.Write(pngHeader)
	}))
	defer srvB.Close()
	srvA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-ip":
			http.Redirect(w, r, srvB.URL+"/x", http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, "http://internal.example.test:"+fmt.Sprint(addrPort(t, srvB).Port())+"/x", http.StatusFound)
		default:
			w.Write(pngHeader)
		}
	}))
	defer srvA.Close()
	apA, apB := addrPort(t, srvA), addrPort(t, srvB)
	portA := fmt.Sprint(apA.Port())

	var rebindCalls atomic.Int32
	resolver := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "allowed.example.test":
			return []netip.Addr{apA.Addr()}, nil
		case "internal.example.test":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		case "mixed.example.test": // documentation address first, then loopback
			return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("127.0.0.2")}, nil
		case "rebind.example.test": // allowed on the first lookup, loopback after
			if rebindCalls.Add(1) == 1 {
				return []netip.Addr{apA.Addr()}, nil
			}
			return []netip.Addr{netip.MustParseAddr("127.0.0.2")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	opts := Options{Timeout: 2 * time.Second, PerHostInterval: -1, Resolver: resolver, AllowAddrs: []netip.AddrPort{apA}}
	f := New(opts)
	defer f.Close()

	if _, err := f.Fetch(t.Context(), "http://allowed.example.test:"+portA+"/ok"); err != nil {
		t.Fatalf("allowed host: %v", err)
	}
	for _, u := range []string{
		"http://internal.example.test:" + fmt.Sprint(apB.Port()) + "/", // name resolving to loopback
		srvB.URL + "/x",                   // loopback literal, other port
		"http://127.0.0.2:" + portA + "/", // loopback literal, allowed port, other address
		"http://[::ffff:127.0.0.1]:" + fmt.Sprint(apB.Port()) + "/", // mapped loopback
		"http://allowed.example.test:" + portA + "/to-ip",           // redirect to a blocked address
		"http://allowed.example.test:" + portA + "/to-name",         // redirect to a name that resolves to one
		"http://mixed.example.test:" + portA + "/",                  // every answer blocked
	} {
		_, err := f.Fetch(t.Context(), u)
		if Classify(err) != FailureBlocked || Transient(err) {
			t.Errorf("%s: %v (kind %q), want blocked", u, err, Classify(err))
		}
	}
	if n := hitsB.Load(); n != 0 {
		t.Fatalf("blocked server was reached %d times", n)
	}

	// Rebinding: the first lookup passes; the next connection resolves
	// again and the dial-time check refuses the new address.
	g := New(opts)
	defer g.Close()
	if _, err := g.Fetch(t.Context(), "http://rebind.example.test:"+portA+"/"); err != nil {
		t.Fatalf("rebind first fetch: %v", err)
	}
	g.Close() // drop the pooled connection so the next fetch dials again
	if _, err := g.Fetch(t.Context(), "http://rebind.example.test:"+portA+"/"); Classify(err) != FailureBlocked {
		t.Fatalf("rebind second fetch: %v (kind %q), want blocked", err, Classify(err))
	}
}

func TestPoliteness(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		host, _, _ := strings.Cut(r.Host, ":")
		seen[host] = append(seen[host], time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	port := fmt.Sprint(addrPort(t, srv).Port())
	const gap = 150 * time.Millisecond
	f := New(Options{Timeout: 2 * time.Second, AllowPrivate: true, PerHostInterval: gap,
		Resolver: mapResolver(map[string][]string{"a.example.test": {"127.0.0.1"}, "b.example.test": {"127.0.0.1"}})})
	defer f.Close()
	start := time.Now()
	var wg sync.WaitGroup
	for _, h := range []string{"a", "a", "a", "b"} {
		wg.Go(func() {
			if _, err := f.Fetch(t.Context(), "http://"+h+".example.test:"+port+"/"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	a, b := seen["a.example.test"], seen["b.example.test"]
	if len(a) != 3 || len(b) != 1 {
		t.Fatalf("requests: a=%d b=%d", len(a), len(b))
	}
	for i := 1; i < len(a); i++ {
		// Allow a little scheduling slack below the gap.
		if d := a[i].Sub(a[i-1]); d < gap-20*time.Millisecond {
			t.Errorf("requests to one host %v apart, want >= %v", d, gap)
		}
	}
	if d := b[0].Sub(start); d >= gap {
		t.Errorf("other host delayed by %v", d)
	}

	// A waiting caller gives up with its context.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	f.Fetch(ctx, "http://a.example.test:"+port+"/")
	if _, err := f.Fetch(ctx, "http://a.example.test:"+port+"/"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting fetch: %v", err)
	}
}
