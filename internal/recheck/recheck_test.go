package recheck

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance/internal/demosite"
	"alliance/internal/fetch"
	"alliance/internal/hashing"
)

// Generated images: A is the recorded content, B another recorded medium,
// other is different content, reencoded has A's pixels in other bytes.
var (
	imgA      = demosite.NoisePNG(1)
	imgB      = demosite.NoisePNG(2)
	imgOther  = demosite.GradientPNG(3)
	reencoded = func() []byte {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.NoCompression}
		if err := enc.Encode(&buf, demosite.Noise(1)); err != nil {
			panic(err)
		}
		return buf.Bytes()
	}()
)

const testCap = 256 << 10 // Options.MaxBytes in tests

// site is a loopback test site whose answer for each path can be switched.
// It answers for the names a.test, www.a.test and b.test.
type site struct {
	srv  *httptest.Server
	port string
	stop chan struct{}

	mu    sync.Mutex
	modes map[string]string // path -> mode; "" serves the path's content
	hits  map[string]int    // "METHOD path" -> requests
}

func newSite(t testing.TB) *site {
	t.Helper()
	s := &site{stop: make(chan struct{}), modes: map[string]string{}, hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		close(s.stop) // release hanging handlers before Close waits for them
		s.srv.Close()
	})
	u, _ := url.Parse(s.srv.URL)
	s.port = u.Port()
	return s
}

func (s *site) set(path, mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes[path] = mode
}

func (s *site) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.modes)
	clear(s.hits)
}

func (s *site) hit(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[method+" "+path]
}

// url returns the URL of path on host (a.test, www.a.test or b.test).
func (s *site) url(host, path string) string {
	return "http://" + host + ":" + s.port + path
}

func content(path string) ([]byte, string) {
	switch path {
	case "/a.png", "/m1.png", "/moved.png":
		return imgA, "image/png"
	case "/b.png", "/m2.png", "/m3.png":
		return imgB, "image/png"
	case "/page.html":
		return []byte(`<html><body><img src="/m1.png"><img src="/m2.png"></body></html>`), "text/html"
	}
	return nil, ""
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.Method+" "+r.URL.Path]++
	mode := s.modes[r.URL.Path]
	s.mu.Unlock()
	head := r.Method == http.MethodHead
	body, ctype := content(r.URL.Path)
	write := func(b []byte, ctype string) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}
	hang := func() {
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
	}
	switch mode {
	case "":
		if body == nil {
			http.NotFound(w, r)
			return
		}
		write(body, ctype)
	case "404", "410", "500", "503", "403", "429", "451":
		code, _ := strconv.Atoi(mode)
		w.WriteHeader(code)
		fmt.Fprint(w, "status page")
	case "other":
		write(imgOther, "image/png")
	case "reencoded":
		write(reencoded, "image/png")
	case "text":
		write([]byte("this file has been removed"), "text/plain")
	case "redir-other":
		http.Redirect(w, r, s.url("b.test", "/moved.png"), http.StatusFound)
	case "redir-other-gone":
		http.Redirect(w, r, s.url("b.test", "/nothing-here"), http.StatusFound)
	case "redir-same":
		http.Redirect(w, r, s.url("www.a.test", "/moved.png"), http.StatusMovedPermanently)
	case "redir-home":
		http.Redirect(w, r, s.url("a.test", "/page.html"), http.StatusFound)
	case "loop":
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	case "private":
		http.Redirect(w, r, "http://127.0.0.2:"+s.port+"/a.png", http.StatusFound)
	case "hang":
		hang()
	case "hang-head":
		if head {
			hang()
			return
		}
		write(body, ctype)
	case "huge":
		// No Content-Length: the cap must stop the read.
		w.Header().Set("Content-Type", "image/png")
		chunk := bytes.Repeat([]byte{0x42}, 32<<10)
		for range 2 * testCap / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case "404-huge":
		w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		w.WriteHeader(http.StatusNotFound)
	case "huge-declared":
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		if !head {
			w.Write(body) // short: the client must not wait for the rest
		}
	case "head405", "head404", "head403":
		if head {
			code, _ := strconv.Atoi(strings.TrimPrefix(mode, "head"))
			w.WriteHeader(code)
			return
		}
		write(body, ctype)
	case "head-close":
		if head {
			panic(http.ErrAbortHandler) // drops the connection without an answer
		}
		write(body, ctype)
	default:
		panic("unknown mode " + mode)
	}
}

// hashesOf returns the recorded hashes of an image, as the fetch stored them.
func hashesOf(t testing.TB, b []byte) (sha, pdqHex string) {
	t.Helper()
	h, err := hashing.HashBytes(b, hashing.Options{})
	if err != nil || h.PDQ == nil {
		t.Fatalf("hash generated image: %v", err)
	}
	return h.SHA256, h.PDQ.String()
}

// env is a site, a closed port (refused) and a checker reaching both.
type env struct {
	s       *site
	refused string // a URL whose port refuses connections
	c       *Checker
	f       *fetch.Fetcher
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	s := newSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	loop := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	resolver := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "a.test", "www.a.test", "b.test", "refused.test":
			return loop, nil
		case "servfail.test":
			return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	f := fetch.New(fetch.Options{
		Timeout:         300 * time.Millisecond,
		PerHostInterval: -1,
		Resolver:        resolver,
		AllowAddrs:      []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:" + s.port), closed},
	})
	t.Cleanup(f.Close)
	if opts.MaxBytes == 0 {
		opts.MaxBytes = testCap
	}
	return &env{s: s, refused: fmt.Sprintf("http://refused.test:%d/a.png", closed.Port()), c: New(f, opts), f: f}
}

type want struct {
	outcome   Outcome
	reason    string
	status    int
	final     string // path on a host, "host/path"; "" not checked
	transient bool
}

func check(t *testing.T, e *env, got Result, w want) {
	t.Helper()
	if got.Outcome != w.outcome || got.Reason != w.reason || got.Transient != w.transient || got.HTTPStatus != w.status {
		t.Fatalf("got %s/%s status %d transient %v (final %s), want %s/%s status %d transient %v",
			got.Outcome, got.Reason, got.HTTPStatus, got.Transient, got.FinalURL, w.outcome, w.reason, w.status, w.transient)
	}
	if w.final != "" {
		host, path, _ := strings.Cut(w.final, "/")
		if u := e.s.url(host, "/"+path); got.FinalURL != u {
			t.Fatalf("final url %s, want %s", got.FinalURL, u)
		}
	}
	if got.CheckedAt.IsZero() || got.Canceled {
		t.Fatalf("checked at %v, canceled %v", got.CheckedAt, got.Canceled)
	}
}

func TestCheckImage(t *testing.T) {
	e := newEnv(t, Options{})
	shaA, pdqA := hashesOf(t, imgA)
	item := e.s.url("a.test", "/a.png")
	target := Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA, PDQ: pdqA}}}
	tests := []struct {
		name   string
		mode   string
		target Target // zero: target
		want   want
		heads  int // HEAD and GET requests for /a.png; -1 not checked
		gets   int
	}{
		{"still up", "", Target{}, want{StillUp, ReasonOK, 200, "a.test/a.png", false}, 1, 1},
		{"upper-case recorded sha", "", Target{URL: item, Media: []Medium{{URL: item, SHA256: strings.ToUpper(shaA)}}}, want{StillUp, ReasonOK, 200, "", false}, 1, 1},
		{"404", "404", Target{}, want{Removed, ReasonHTTP404, 404, "a.test/a.png", false}, 1, 1},
		{"410", "410", Target{}, want{Removed, ReasonHTTP410, 410, "", false}, 1, 1},
		{"other image", "other", Target{}, want{Removed, ReasonHashMismatch, 200, "", false}, 1, 1},
		{"placeholder text", "text", Target{}, want{Removed, ReasonHashMismatch, 200, "", false}, 1, 1},
		{"other image, sha only recorded", "other", Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA}}}, want{Removed, ReasonHashMismatch, 200, "", false}, 1, 1},
		{"re-encoded: pdq match", "reencoded", Target{}, want{StillUp, ReasonOKPDQ, 200, "", false}, 1, 1},
		{"re-encoded, sha only recorded", "reencoded", Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA}}}, want{Removed, ReasonHashMismatch, 200, "", false}, 1, 1},
		{"nothing recorded", "other", Target{URL: item}, want{StillUp, ReasonUnverified, 200, "", false}, 1, 1},
		{"5xx", "500", Target{}, want{Unreachable, ReasonHTTP5xx, 500, "", true}, 1, 0},
		{"503", "503", Target{}, want{Unreachable, ReasonHTTP5xx, 503, "", true}, 1, 0},
		{"429", "429", Target{}, want{Unreachable, "http_429", 429, "", true}, 1, 0},
		{"403 is not removal", "403", Target{}, want{Unreachable, "http_403", 403, "", false}, 1, 1},
		{"451 is not removal", "451", Target{}, want{Unreachable, "http_451", 451, "", false}, 1, 1},
		{"redirect to another host", "redir-other", Target{}, want{Changed, ReasonRedirectOtherHost, 200, "b.test/moved.png", false}, 1, 0},
		{"redirect to another host that is gone", "redir-other-gone", Target{}, want{Removed, ReasonHTTP404, 404, "b.test/nothing-here", false}, 1, 1},
		{"redirect within the domain, same content", "redir-same", Target{}, want{StillUp, ReasonOK, 200, "www.a.test/moved.png", false}, 1, 1},
		{"redirect to the home page", "redir-home", Target{}, want{Removed, ReasonHashMismatch, 200, "a.test/page.html", false}, 1, 1},
		{"redirect loop", "loop", Target{}, want{Unreachable, ReasonRedirects, 0, "", false}, 6, 0},
		{"redirect to a private address", "private", Target{}, want{Unreachable, ReasonBlocked, 0, "", false}, 1, 0},
		{"hanging", "hang", Target{}, want{Unreachable, ReasonTimeout, 0, "", true}, 1, 0},
		{"hanging HEAD only", "hang-head", Target{}, want{Unreachable, ReasonTimeout, 0, "", true}, 1, 0},
		{"huge body: unverified", "huge", Target{}, want{StillUp, ReasonUnverified, 200, "", false}, 1, 1},
		{"404 with a huge declared body", "404-huge", Target{}, want{Removed, ReasonHTTP404, 404, "", false}, 1, 1},
		{"huge declared: GET saved", "huge-declared", Target{}, want{StillUp, ReasonUnverified, 200, "", false}, 1, 0},
		{"HEAD not allowed", "head405", Target{}, want{StillUp, ReasonOK, 200, "", false}, 1, 1},
		{"HEAD 404, GET 200", "head404", Target{}, want{StillUp, ReasonOK, 200, "", false}, 1, 1},
		{"HEAD 403, GET 200", "head403", Target{}, want{StillUp, ReasonOK, 200, "", false}, 1, 1},
		{"HEAD dropped, GET 200", "head-close", Target{}, want{StillUp, ReasonOK, 200, "", false}, -1, 1},
		{"name gone", "", Target{URL: "http://gone.test/a.png", Media: target.Media}, want{Removed, ReasonDNS, 0, "", false}, 0, 0},
		{"dns failing", "", Target{URL: "http://servfail.test/a.png", Media: target.Media}, want{Unreachable, ReasonDNS, 0, "", true}, 0, 0},
		{"refused", "", Target{URL: e.refused, Media: target.Media}, want{Unreachable, ReasonRefused, 0, "", true}, 0, 0},
		{"not http", "", Target{URL: "ftp://a.test/a.png", Media: target.Media}, want{Unreachable, ReasonBadURL, 0, "", false}, 0, 0},
		{"no host", "", Target{URL: "http:///a.png", Media: target.Media}, want{Unreachable, ReasonBadURL, 0, "", false}, 0, 0},
		{"unparsable", "", Target{URL: "http://a.test:port/%zz", Media: target.Media}, want{Unreachable, ReasonBadURL, 0, "", false}, 0, 0},
		{"too long", "", Target{URL: item + "?" + strings.Repeat("x", 9000), Media: target.Media}, want{Unreachable, ReasonBadURL, 0, "", false}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.reset()
			e.s.set("/a.png", tt.mode)
			tg := tt.target
			if tg.URL == "" {
				tg = target
			}
			start := time.Now()
			got := e.c.Check(t.Context(), tg)
			check(t, e, got, tt.want)
			if time.Since(start) > 2*time.Second {
				t.Fatalf("check took %v", time.Since(start))
			}
			if h := e.s.hit("HEAD", "/a.png"); tt.heads >= 0 && h != tt.heads {
				t.Errorf("%d HEAD requests, want %d", h, tt.heads)
			}
			if g := e.s.hit("GET", "/a.png"); g != tt.gets {
				t.Errorf("%d GET requests, want %d", g, tt.gets)
			}
		})
	}
}

func TestCheckPage(t *testing.T) {
	e := newEnv(t, Options{MaxMedia: 2})
	shaA, pdqA := hashesOf(t, imgA)
	shaB, pdqB := hashesOf(t, imgB)
	page := e.s.url("a.test", "/page.html")
	m1 := Medium{URL: e.s.url("a.test", "/m1.png"), SHA256: shaA, PDQ: pdqA}
	m2 := Medium{URL: e.s.url("a.test", "/m2.png"), SHA256: shaB, PDQ: pdqB}
	m3 := Medium{URL: e.s.url("a.test", "/m3.png"), SHA256: shaB, PDQ: pdqB}
	cdn := Medium{URL: e.s.url("b.test", "/m1.png"), SHA256: shaA, PDQ: pdqA} // media on another host
	unhashed := Medium{URL: e.s.url("a.test", "/m1.png")}
	target := Target{URL: page, Page: true, Media: []Medium{m1, m2}}
	tests := []struct {
		name   string
		modes  map[string]string
		target Target
		want   want
		fetch  []string // "METHOD path" that must be requested once
		never  []string // "METHOD path" that must not be requested
	}{
		{"all up", nil, target,
			want{StillUp, ReasonOK, 200, "a.test/page.html", false}, []string{"GET /page.html", "GET /m1.png"}, []string{"GET /m2.png"}},
		{"first gone, second up", map[string]string{"/m1.png": "404"}, target,
			want{StillUp, ReasonOK, 200, "", false}, []string{"GET /m1.png", "GET /m2.png"}, nil},
		{"first re-encoded", map[string]string{"/m1.png": "reencoded", "/m2.png": "410"}, target,
			want{StillUp, ReasonOKPDQ, 200, "", false}, nil, nil},
		{"media gone", map[string]string{"/m1.png": "404", "/m2.png": "other"}, target,
			want{Removed, ReasonMediaGone, 200, "a.test/page.html", false}, nil, nil},
		{"media host name gone", nil, Target{URL: page, Page: true, Media: []Medium{{URL: "http://gone.test/x.png", SHA256: shaA}}},
			want{Removed, ReasonMediaGone, 200, "", false}, nil, nil},
		{"page 404", map[string]string{"/page.html": "404"}, target,
			want{Removed, ReasonHTTP404, 404, "", false}, nil, []string{"HEAD /m1.png", "GET /m1.png"}},
		{"page 410", map[string]string{"/page.html": "410"}, target,
			want{Removed, ReasonHTTP410, 410, "", false}, nil, nil},
		{"page 5xx", map[string]string{"/page.html": "500"}, target,
			want{Unreachable, ReasonHTTP5xx, 500, "", true}, nil, []string{"GET /m1.png"}},
		{"page moved to another host", map[string]string{"/page.html": "redir-other"}, target,
			want{Changed, ReasonRedirectOtherHost, 200, "b.test/moved.png", false}, nil, []string{"GET /m1.png"}},
		{"page huge: media decide", map[string]string{"/page.html": "huge", "/m1.png": "404", "/m2.png": "404"}, target,
			want{Removed, ReasonMediaGone, 200, "", false}, nil, nil},
		{"one medium times out", map[string]string{"/m1.png": "hang", "/m2.png": "404"}, target,
			want{Unreachable, "media_timeout", 200, "", true}, nil, nil},
		{"one medium refuses", nil, Target{URL: page, Page: true, Media: []Medium{{URL: e.refused, SHA256: shaA}, m2}},
			want{StillUp, ReasonOK, 200, "", false}, nil, nil},
		{"one medium moved to another host", map[string]string{"/m1.png": "redir-other", "/m2.png": "404"}, target,
			want{Changed, "media_redirect_other_host", 200, "b.test/moved.png", false}, nil, nil},
		{"one medium too large", map[string]string{"/m1.png": "huge", "/m2.png": "other"}, target,
			want{StillUp, ReasonUnverified, 200, "", false}, nil, nil},
		{"media on another host", nil, Target{URL: page, Page: true, Media: []Medium{cdn}},
			want{StillUp, ReasonOK, 200, "a.test/page.html", false}, nil, nil},
		{"no media recorded", nil, Target{URL: page, Page: true},
			want{StillUp, ReasonUnverified, 200, "", false}, nil, []string{"HEAD /m1.png"}},
		{"media without hashes skipped", nil, Target{URL: page, Page: true, Media: []Medium{unhashed}},
			want{StillUp, ReasonUnverified, 200, "", false}, nil, []string{"HEAD /m1.png"}},
		{"MaxMedia bounds the media checked", map[string]string{"/m1.png": "404", "/m2.png": "404"}, Target{URL: page, Page: true, Media: []Medium{m1, unhashed, m2, m3}},
			want{Removed, ReasonMediaGone, 200, "", false}, nil, []string{"HEAD /m3.png", "GET /m3.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.reset()
			for p, m := range tt.modes {
				e.s.set(p, m)
			}
			got := e.c.Check(t.Context(), tt.target)
			check(t, e, got, tt.want)
			for _, r := range tt.fetch {
				method, path, _ := strings.Cut(r, " ")
				if n := e.s.hit(method, path); n != 1 {
					t.Errorf("%s: %d requests, want 1", r, n)
				}
			}
			for _, r := range tt.never {
				method, path, _ := strings.Cut(r, " ")
				if n := e.s.hit(method, path); n != 0 {
					t.Errorf("%s: %d requests, want none", r, n)
				}
			}
		})
	}
}

// TestCheckSequence follows one item as its site changes: up, re-encoded,
// moved, then gone.
func TestCheckSequence(t *testing.T) {
	e := newEnv(t, Options{})
	shaA, pdqA := hashesOf(t, imgA)
	item := e.s.url("a.test", "/a.png")
	target := Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA, PDQ: pdqA}}}
	for _, step := range []struct {
		mode    string
		outcome Outcome
	}{{"", StillUp}, {"reencoded", StillUp}, {"503", Unreachable}, {"redir-other", Changed}, {"", StillUp}, {"410", Removed}} {
		e.s.set("/a.png", step.mode)
		if got := e.c.Check(t.Context(), target); got.Outcome != step.outcome {
			t.Fatalf("mode %q: %s/%s, want %s", step.mode, got.Outcome, got.Reason, step.outcome)
		}
	}
}

func TestCheckOptions(t *testing.T) {
	e := newEnv(t, Options{PDQThreshold: -1})
	shaA, pdqA := hashesOf(t, imgA)
	item := e.s.url("a.test", "/a.png")
	target := Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA, PDQ: pdqA}}}
	e.s.set("/a.png", "reencoded")
	if got := e.c.Check(t.Context(), target); got.Outcome != Removed || got.Reason != ReasonHashMismatch {
		t.Fatalf("PDQ off: re-encoded copy %s/%s, want removed/hash_mismatch", got.Outcome, got.Reason)
	}
	if !bytes.Equal(imgA, demosite.NoisePNG(1)) || bytes.Equal(imgA, reencoded) {
		t.Fatal("test images: the re-encoded copy must differ in bytes only")
	}

	c := New(e.f, Options{})
	if c.opts.MaxBytes != DefaultMaxBytes || c.opts.MaxMedia != DefaultMaxMedia || c.opts.PDQThreshold != DefaultPDQThreshold {
		t.Fatalf("defaults not applied: %+v", c.opts)
	}
	tests := []struct {
		opts Options
		ok   bool
	}{
		{Options{}, true},
		{Options{MaxBytes: 1 << 20, MaxMedia: 50, PDQThreshold: -1}, true},
		{Options{MaxBytes: -1}, false},
		{Options{MaxMedia: -1}, false},
		{Options{MaxMedia: 1001}, false},
		{Options{PDQThreshold: 257}, false},
		{Options{Hashing: hashing.Options{Profile: "nonsense"}}, false},
		{Options{Hashing: hashing.Options{MaxSize: -1}}, false},
	}
	for _, tt := range tests {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v", tt.opts, err)
		}
	}
}

// TestCheckCanceled checks that a check cut short by its context says so
// and decides nothing.
func TestCheckCanceled(t *testing.T) {
	e := newEnv(t, Options{})
	shaA, _ := hashesOf(t, imgA)
	item := e.s.url("a.test", "/a.png")
	target := Target{URL: item, Media: []Medium{{URL: item, SHA256: shaA}}}
	e.s.set("/a.png", "404")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got := e.c.Check(ctx, target)
	if got.Outcome != Unreachable || got.Reason != ReasonCanceled || !got.Canceled || !got.Transient {
		t.Fatalf("canceled before: %+v", got)
	}

	e.s.set("/a.png", "hang")
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	got = e.c.Check(ctx, Target{URL: e.s.url("a.test", "/page.html"), Page: true, Media: target.Media})
	if got.Outcome != Unreachable || got.Reason != ReasonCanceled || !got.Canceled {
		t.Fatalf("canceled during: %+v", got)
	}
}

// TestCheckGuard checks that re-checks go through the fetcher's SSRF
// guard: without AllowAddrs the loopback site is blocked and never reached.
func TestCheckGuard(t *testing.T) {
	s := newSite(t)
	f := fetch.New(fetch.Options{PerHostInterval: -1, Timeout: time.Second})
	defer f.Close()
	c := New(f, Options{})
	got := c.Check(t.Context(), Target{URL: s.srv.URL + "/a.png", Media: []Medium{{URL: s.srv.URL + "/a.png", SHA256: "00"}}})
	if got.Outcome != Unreachable || got.Reason != ReasonBlocked || got.Transient {
		t.Fatalf("guarded: %+v", got)
	}
	if n := s.hit("HEAD", "/a.png") + s.hit("GET", "/a.png"); n != 0 {
		t.Fatalf("blocked site reached %d times", n)
	}
}

func TestRegistrable(t *testing.T) {
	tests := []struct{ a, b string }{
		{"a.test", "www.a.test"},
		{"img.example.co.uk", "example.co.uk"},
		{"Example.COM", "cdn.example.com."},
		{"127.0.0.1", "127.0.0.1"},
	}
	for _, tt := range tests {
		if registrable(tt.a) != registrable(tt.b) {
			t.Errorf("%s and %s: %s != %s", tt.a, tt.b, registrable(tt.a), registrable(tt.b))
		}
	}
	for _, p := range [][2]string{{"a.test", "b.test"}, {"example.co.uk", "other.co.uk"}, {"127.0.0.1", "127.0.0.2"}, {"a.example.com", "a.example.net"}} {
		if registrable(p[0]) == registrable(p[1]) {
			t.Errorf("%s and %s: same registrable domain %s", p[0], p[1], registrable(p[0]))
		}
	}
}
