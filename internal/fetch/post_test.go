package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPost(t *testing.T) {
	type got struct {
		method, ua, ctype, custom string
		body                      []byte
	}
	var last atomic.Value
	var redirectHit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target" {
			redirectHit.Store(true)
			return
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		last.Store(got{r.Method, r.UserAgent(), r.Header.Get("Content-Type"), r.Header.Get("X-Custom"), b})
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(http.StatusAccepted)
		case "/big":
			// A large answer must not be read in full.
			w.Write(bytes.Repeat([]byte("x"), 4<<20))
		case "/bad":
			w.WriteHeader(http.StatusBadRequest)
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/redir":
			http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	f := New(Options{Timeout: 2 * time.Second, PerHostInterval: -1, AllowAddrs: []netip.AddrPort{netip.MustParseAddrPort(srv.Listener.Addr().String())}, UserAgent: "TestNode/1"})
	defer f.Close()

	tests := []struct {
		name, path, ua string
		wantStatus     int
		wantErr        error
		wantUA         string
	}{
		{name: "accepted", path: "/ok", wantStatus: 202, wantUA: "TestNode/1"},
		{name: "own user agent", path: "/ok", ua: "Sender/2", wantStatus: 202, wantUA: "Sender/2"},
		{name: "large answer discarded", path: "/big", wantStatus: 200, wantUA: "TestNode/1"},
		{name: "4xx is a status, not an error", path: "/bad", wantStatus: 400, wantUA: "TestNode/1"},
		{name: "5xx is a status, not an error", path: "/fail", wantStatus: 503, wantUA: "TestNode/1"},
		{name: "redirect refused", path: "/redir", wantStatus: 307, wantErr: ErrRedirect, wantUA: "TestNode/1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}, "X-Custom": {"v1"}}
			if tc.ua != "" {
				h.Set("User-Agent", tc.ua)
			}
			body := []byte(`{"k":"` + tc.name + `"}`)
			status, err := f.Post(context.Background(), srv.URL+tc.path, body, h)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			g := last.Load().(got)
			if g.method != http.MethodPost || g.ua != tc.wantUA || g.ctype != "application/json" || g.custom != "v1" || !bytes.Equal(g.body, body) {
				t.Errorf("server saw %+v", g)
			}
		})
	}
	if redirectHit.Load() {
		t.Error("redirect target was requested")
	}
}

func TestPostGuard(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	guarded := New(Options{Timeout: 2 * time.Second, PerHostInterval: -1})
	defer guarded.Close()
	tests := []struct {
		name    string
		f       *Fetcher
		url     string
		body    []byte
		wantErr error
	}{
		{name: "loopback refused", f: guarded, url: srv.URL + "/hook", wantErr: ErrBlocked},
		{name: "name resolving to loopback refused", f: New(Options{Timeout: 2 * time.Second, PerHostInterval: -1,
			Resolver: func(context.Context, string) ([]netip.Addr, error) {
				return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
			}}),
			url: strings.Replace(srv.URL, "127.0.0.1", "hook.example.test", 1), wantErr: ErrBlocked},
		{name: "scheme refused", f: guarded, url: "ftp://example.com/hook", wantErr: ErrBlocked},
		{name: "body too large", f: guarded, url: "https://example.com/hook", body: make([]byte, MaxPostBytes+1), wantErr: ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, err := tc.f.Post(context.Background(), tc.url, tc.body, nil)
			if !errors.Is(err, tc.wantErr) || status != 0 {
				t.Fatalf("Post = %d, %v; want 0, %v", status, err, tc.wantErr)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests through the guard", n)
	}
}

// TestPostNoAnswer checks that Post says when a request went out in full
// and no answer came (the server may have acted on it), and not when the
// connection was never made.
func TestPostNoAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedAddr := refused.Listener.Addr().String()
	refused.Close()
	f := New(Options{Timeout: 2 * time.Second, PerHostInterval: -1, AllowAddrs: []netip.AddrPort{
		netip.MustParseAddrPort(srv.Listener.Addr().String()), netip.MustParseAddrPort(refusedAddr)}})
	defer f.Close()

	if _, err := f.Post(t.Context(), srv.URL+"/hook", []byte(`{}`), nil); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("connection closed after the request: %v, want ErrNoAnswer", err)
	}
	if _, err := f.Post(t.Context(), "http://"+refusedAddr+"/hook", []byte(`{}`), nil); err == nil || errors.Is(err, ErrNoAnswer) {
		t.Errorf("connection refused: %v, want an error that is not ErrNoAnswer", err)
	}
}

// TestPostBeforeSend checks that Post calls the WithBeforeSend hook once
// its turn at the host has come and before the request leaves, and that
// the hook's error abandons the request.
func TestPostBeforeSend(t *testing.T) {
	var got atomic.Int32
	var hooked atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/first" && !hooked.Load() {
			t.Error("the request arrived before the hook ran")
		}
		got.Add(1)
	}))
	defer srv.Close()
	f := New(Options{Timeout: 2 * time.Second, PerHostInterval: 200 * time.Millisecond,
		AllowAddrs: []netip.AddrPort{netip.MustParseAddrPort(srv.Listener.Addr().String())}})
	defer f.Close()

	if _, err := f.Post(t.Context(), srv.URL+"/first", nil, nil); err != nil {
		t.Fatal(err)
	}
	var at time.Time
	start := time.Now()
	ctx := WithBeforeSend(t.Context(), func() error { at = time.Now(); hooked.Store(true); return nil })
	if _, err := f.Post(ctx, srv.URL+"/second", nil, nil); err != nil {
		t.Fatal(err)
	}
	if at.IsZero() || at.Sub(start) < 150*time.Millisecond {
		t.Errorf("hook ran %v after the call: want it after the host's 200 ms interval", at.Sub(start))
	}
	refused := errors.New("not now")
	ctx = WithBeforeSend(t.Context(), func() error { return refused })
	if _, err := f.Post(ctx, srv.URL+"/third", nil, nil); !errors.Is(err, refused) {
		t.Errorf("Post with a failing hook = %v, want its error", err)
	}
	if n := got.Load(); n != 2 {
		t.Errorf("server got %d requests, want 2 (none after the failing hook)", n)
	}
}
