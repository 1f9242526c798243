package media

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"alliance/internal/fetch"
	"alliance/internal/hashing"
)

// site is a local test site: fixed responses by path, with a hit count per
// path so tests can tell what was fetched.
type site struct {
	*httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]int
}

func newSite(t testing.TB) *site {
	s := &site{routes: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		h := s.routes[r.URL.Path]
		if h == nil {
			// A route ending in "/" serves everything under it.
			if i := strings.LastIndexByte(r.URL.Path, '/'); i > 0 {
				h = s.routes[r.URL.Path[:i+1]]
			}
		}
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve answers path with body under the declared Content-Type ("" sends
// none, so Go's server would sniff: an explicit empty header stops that).
func (s *site) serve(path, declared string, body []byte) {
	s.handle(path, func(w http.ResponseWriter, r *http.Request) {
		if declared == "" {
			w.Header()["Content-Type"] = nil
		} else {
			w.Header().Set("Content-Type", declared)
		}
		w.Write(body)
	})
}

func (s *site) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[path] = h
}

func (s *site) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *site) addrPort(t testing.TB) netip.AddrPort {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return netip.MustParseAddrPort(u.Host)
}

const testMaxBytes = 512 << 10

// newFetcher returns a fetcher for loopback tests: private addresses
// allowed, no politeness, short limits.
func newFetcher(t testing.TB, opts fetch.Options) *fetch.Fetcher {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	opts.MaxBytes = testMaxBytes
	opts.MaxRedirects = 3
	opts.PerHostInterval = -1
	f := fetch.New(opts)
	t.Cleanup(f.Close)
	return f
}

// wantHashed checks that m is the hashed medium of body, with the hashes
// the hashing package gives for those bytes.
func wantHashed(t *testing.T, m Medium, body []byte, kind Kind, wantPDQ bool) {
	t.Helper()
	h, err := hashing.HashBytes(body, hashing.Options{})
	if wantPDQ && err != nil {
		t.Fatalf("hashing the served bytes: %v", err)
	}
	if m.Status != MediumHashed || m.Kind != kind || m.Failure != "" {
		t.Fatalf("medium %s: status %q kind %q failure %q, want hashed %q", m.URL, m.Status, m.Kind, m.Failure, kind)
	}
	if m.MD5 != h.MD5 || m.SHA1 != h.SHA1 || m.SHA256 != h.SHA256 || m.Size != int64(len(body)) {
		t.Fatalf("medium %s: hashes/size differ from hashing.HashBytes: %+v vs %+v", m.URL, m, h)
	}
	if m.HTTPStatus != 200 || m.FetchedAt.IsZero() {
		t.Fatalf("medium %s: status %d fetched at %v", m.URL, m.HTTPStatus, m.FetchedAt)
	}
	if !wantPDQ {
		if m.PDQ != "" || m.Profile != "" {
			t.Fatalf("medium %s: unexpected PDQ %q", m.URL, m.PDQ)
		}
		return
	}
	if h.PDQ == nil || m.PDQ != h.PDQ.String() || len(m.PDQ) != 64 || m.PDQQuality != h.PDQQuality || m.Profile != "hma" {
		t.Fatalf("medium %s: PDQ %q q%d profile %q, want %v q%d", m.URL, m.PDQ, m.PDQQuality, m.Profile, h.PDQ, h.PDQQuality)
	}
	if m.PDQQuality < 50 {
		t.Fatalf("medium %s: PDQ quality %d, generated image should be >= 50", m.URL, m.PDQQuality)
	}
}

func TestCollectItem(t *testing.T) {
	pngA := encodePNG(t, genImage(96, 80, 1))
	jpg := encodeJPEG(t, genImage(120, 90, 2))
	shapes := encodePNG(t, genShapes(100, 100))
	html := []byte("<!DOCTYPE html><html><body><p>no media here</p></body></html>")
	text := []byte("plain text, not an image\n")
	bomb := bombPNG(100000, 100000)
	truncated := pngA[:len(pngA)/2]

	s := newSite(t)
	s.serve("/a.png", "image/png", pngA)
	s.serve("/photo", "", jpg) // no extension, no header: decided by content
	s.serve("/shapes.png", "application/octet-stream", shapes)
	s.serve("/lies-png", "image/png", html) // claims an image, sends HTML
	s.serve("/lies-html", "text/html; charset=utf-8", shapes)
	s.serve("/notes.txt", "text/plain", text)
	s.serve("/bomb.png", "image/png", bomb)
	s.serve("/truncated.png", "image/png", truncated)
	s.handle("/404", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", 404) })
	s.handle("/503", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 503) })
	s.handle("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	s.handle("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(append(bytes.Clone(pngA), make([]byte, testMaxBytes)...))
	})
	s.handle("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	s.handle("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/a.png", http.StatusFound) })

	c := NewCollector(newFetcher(t, fetch.Options{AllowPrivate: true, Timeout: 500 * time.Millisecond}), Options{})
	for _, tt := range []struct {
		path  string
		check func(t *testing.T, r Result)
	}{
		{"/a.png", func(t *testing.T, r Result) {
			wantItem(t, r, "image/png", 1)
			wantHashed(t, r.Media[0], pngA, KindImage, true)
		}},
		{"/photo", func(t *testing.T, r Result) {
			wantItem(t, r, "image/jpeg", 1)
			wantHashed(t, r.Media[0], jpg, KindImage, true)
			if r.Media[0].DeclaredType != "" || r.Media[0].Width != 120 || r.Media[0].Height != 90 {
				t.Fatalf("medium %+v", r.Media[0])
			}
		}},
		{"/shapes.png", func(t *testing.T, r Result) {
			wantItem(t, r, "image/png", 1)
			wantHashed(t, r.Media[0], shapes, KindImage, true)
		}},
		{"/moved", func(t *testing.T, r Result) {
			wantItem(t, r, "image/png", 1)
			wantHashed(t, r.Media[0], pngA, KindImage, true)
			if r.FinalURL != s.URL+"/a.png" || r.Media[0].URL != s.URL+"/moved" || r.Media[0].FinalURL != s.URL+"/a.png" {
				t.Fatalf("final %q, medium %q -> %q", r.FinalURL, r.Media[0].URL, r.Media[0].FinalURL)
			}
		}},
		{"/lies-png", func(t *testing.T, r Result) {
			if r.Outcome != OutcomeFetched || !r.Page || len(r.Media) != 0 || r.ContentType != "text/html" {
				t.Fatalf("declared image/png, sent HTML: %+v", r)
			}
		}},
		{"/lies-html", func(t *testing.T, r Result) {
			wantItem(t, r, "image/png", 1)
			wantHashed(t, r.Media[0], shapes, KindImage, true)
			if r.Media[0].DeclaredType != "text/html; charset=utf-8" {
				t.Fatalf("declared %q", r.Media[0].DeclaredType)
			}
		}},
		{"/notes.txt", func(t *testing.T, r Result) {
			wantItem(t, r, "text/plain", 1)
			wantHashed(t, r.Media[0], text, KindOther, false)
		}},
		{"/bomb.png", func(t *testing.T, r Result) {
			wantItem(t, r, "image/png", 1)
			wantHashed(t, r.Media[0], bomb, KindImage, false)
			m := r.Media[0]
			if m.DecodeFailure != DecodeTooManyPixels || m.Width != 100000 || m.Height != 100000 {
				t.Fatalf("bomb: %+v", m)
			}
		}},
		{"/truncated.png", func(t *testing.T, r Result) {
			wantItem(t, r, "image/png", 1)
			wantHashed(t, r.Media[0], truncated, KindImage, false)
			if r.Media[0].DecodeFailure != DecodeError {
				t.Fatalf("truncated: %+v", r.Media[0])
			}
		}},
		{"/404", wantNotAccessible(fetch.FailureHTTP4xx, false, 404)},
		{"/503", wantNotAccessible(fetch.FailureHTTP5xx, true, 503)},
		{"/hang", wantNotAccessible(fetch.FailureTimeout, true, 0)},
		{"/big", wantNotAccessible(fetch.FailureTooLarge, false, 200)},
		{"/loop", wantNotAccessible(fetch.FailureRedirects, false, 0)},
	} {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := c.Collect(t.Context(), s.URL+tt.path)
			runtime.ReadMemStats(&after)
			tt.check(t, r)
			if r.FetchedAt.IsZero() {
				t.Fatal("FetchedAt not set")
			}
			// The bomb must be refused on its header: decoding it would
			// need 40 GB. Nothing here needs more than a few MB.
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Fatalf("allocated %d MB", n>>20)
			}
		})
	}
}

func wantItem(t *testing.T, r Result, contentType string, media int) {
	t.Helper()
	if r.Outcome != OutcomeFetched || r.Failure != "" || r.Page || r.HTTPStatus != 200 {
		t.Fatalf("item: %+v", r)
	}
	if r.ContentType != contentType || len(r.Media) != media {
		t.Fatalf("item content type %q with %d media, want %q with %d", r.ContentType, len(r.Media), contentType, media)
	}
	for _, m := range r.Media {
		if m.Source != "url" || m.ContentType != contentType {
			t.Fatalf("item medium source %q type %q", m.Source, m.ContentType)
		}
	}
}

func wantNotAccessible(failure fetch.Failure, transient bool, status int) func(*testing.T, Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		if r.Outcome != OutcomeNotAccessible || r.Failure != failure || r.Transient != transient || r.HTTPStatus != status {
			t.Fatalf("got outcome %q failure %q transient %v status %d, want not_accessible %q %v %d",
				r.Outcome, r.Failure, r.Transient, r.HTTPStatus, failure, transient, status)
		}
		if len(r.Media) != 0 {
			t.Fatalf("media on an inaccessible item: %+v", r.Media)
		}
	}
}

func TestCollectPage(t *testing.T) {
	imgs := map[string][]byte{
		"/img/a.png":  encodePNG(t, genImage(64, 64, 3)),
		"/img/b.jpg":  encodeJPEG(t, genImage(80, 60, 4)),
		"/img/og.png": encodePNG(t, genShapes(72, 72)),
	}
	s := newSite(t)
	for p, b := range imgs {
		s.serve(p, "image/png", b) // the JPEG is declared PNG: content decides
	}
	s.serve("/page", "text/html; charset=utf-8", []byte(`<!DOCTYPE html>
<html><head><title>t</title>
<meta property="og:image" content="/img/og.png">
</head><body>
<p><img src="img/a.png" alt="a"></p>
<img srcset="/img/b.jpg 2x, img/a.png 1x">
<video src="/media/clip.mp4" controls></video>
<a href="/about">about</a>
</body></html>`))
	s.serve("/media/clip.mp4", "video/mp4", []byte("not fetched"))

	// A page starting with a tag the content sniffer does not know: the
	// declared type and the markup make it a page.
	s.serve("/meta-first", "text/html", []byte(`<meta charset="utf-8"><img src="/img/a.png"><img src="/img/missing.png"><a href="/notes.jpg">x</a>`))
	s.serve("/notes.jpg", "image/jpeg", []byte("<p>an HTML page behind an image link</p>"))

	var many strings.Builder
	many.WriteString("<html><body>")
	for i := range 1000 {
		fmt.Fprintf(&many, `<a href="/many/%d.png">%d</a>`, i, i)
	}
	s.serve("/many", "text/html", []byte(many.String()))
	manyPNG := encodePNG(t, genShapes(64, 48))
	s.serve("/many/", "image/png", manyPNG)

	c := NewCollector(newFetcher(t, fetch.Options{AllowPrivate: true}), Options{})

	t.Run("three images and a video", func(t *testing.T) {
		r := c.Collect(t.Context(), s.URL+"/page")
		if r.Outcome != OutcomeFetched || !r.Page || r.Truncated || r.ContentType != "text/html" || r.HTTPStatus != 200 {
			t.Fatalf("page: %+v", r)
		}
		want := []struct {
			path, source string
			status       MediumStatus
		}{
			{"/img/og.png", "og:image", MediumHashed},
			{"/img/a.png", "img", MediumHashed},
			{"/img/b.jpg", "srcset", MediumHashed},
			{"/media/clip.mp4", "video", MediumDeferred},
		}
		if len(r.Media) != len(want) {
			t.Fatalf("%d media, want %d: %+v", len(r.Media), len(want), r.Media)
		}
		for i, w := range want {
			m := r.Media[i]
			if m.URL != s.URL+w.path || m.Source != w.source || m.Status != w.status {
				t.Fatalf("medium %d: %s %s %s, want %s %s %s", i, m.URL, m.Source, m.Status, w.path, w.source, w.status)
			}
			if w.status == MediumHashed {
				wantHashed(t, m, imgs[w.path], KindImage, true)
			}
		}
		if v := r.Media[3]; v.Kind != KindVideo || v.MD5 != "" || !v.FetchedAt.IsZero() {
			t.Fatalf("video: %+v", v)
		}
		if n := s.hit("/media/clip.mp4"); n != 0 {
			t.Fatalf("video fetched %d times", n)
		}
		if r.Media[2].ContentType != "image/jpeg" || r.Media[2].DeclaredType != "image/png" {
			t.Fatalf("JPEG declared PNG: %+v", r.Media[2])
		}
	})

	t.Run("failed medium and non-image link", func(t *testing.T) {
		r := c.Collect(t.Context(), s.URL+"/meta-first")
		if r.Outcome != OutcomeFetched || !r.Page || len(r.Media) != 3 {
			t.Fatalf("page: %+v", r)
		}
		wantHashed(t, r.Media[0], imgs["/img/a.png"], KindImage, true)
		if m := r.Media[1]; m.Status != MediumFailed || m.Failure != fetch.FailureHTTP4xx || m.HTTPStatus != 404 || m.Kind != KindImage || m.MD5 != "" {
			t.Fatalf("missing medium: %+v", m)
		}
		m := r.Media[2]
		wantHashed(t, m, []byte("<p>an HTML page behind an image link</p>"), KindOther, false)
		if m.ContentType != "text/html" || m.Source != "a" {
			t.Fatalf("link to HTML: %+v", m)
		}
	})

	t.Run("a thousand links", func(t *testing.T) {
		start := time.Now()
		r := c.Collect(t.Context(), s.URL+"/many")
		if r.Outcome != OutcomeFetched || !r.Page || !r.Truncated || len(r.Media) != DefaultMaxMediaPerPage {
			t.Fatalf("outcome %q page %v truncated %v media %d", r.Outcome, r.Page, r.Truncated, len(r.Media))
		}
		for i, m := range r.Media {
			if m.URL != fmt.Sprintf("%s/many/%d.png", s.URL, i) {
				t.Fatalf("medium %d out of order: %s", i, m.URL)
			}
			wantHashed(t, m, manyPNG, KindImage, true)
		}
		t.Logf("50 media in %v", time.Since(start))
	})
}

// TestCollectGuard runs with the SSRF guard on. Without AllowPrivate a
// loopback item is blocked; with AllowAddrs naming the site exactly, the
// site is fetched, and a second loopback server that its page links to
// stays blocked and is never reached.
func TestCollectGuard(t *testing.T) {
	png := encodePNG(t, genImage(64, 64, 5))
	other := newSite(t)
	other.serve("/x.png", "image/png", png)
	s := newSite(t)
	s.serve("/x.png", "image/png", png)
	s.serve("/page", "text/html", []byte(`<html><img src="/x.png"><img src="`+other.URL+`/x.png"></html>`))

	guarded := NewCollector(newFetcher(t, fetch.Options{}), Options{})
	r := guarded.Collect(t.Context(), s.URL+"/x.png")
	wantNotAccessible(fetch.FailureBlocked, false, 0)(t, r)

	allowed := NewCollector(newFetcher(t, fetch.Options{AllowAddrs: []netip.AddrPort{s.addrPort(t)}}), Options{})
	r = allowed.Collect(t.Context(), s.URL+"/page")
	if r.Outcome != OutcomeFetched || len(r.Media) != 2 {
		t.Fatalf("allowed site: %+v", r)
	}
	wantHashed(t, r.Media[0], png, KindImage, true)
	if m := r.Media[1]; m.Status != MediumFailed || m.Failure != fetch.FailureBlocked {
		t.Fatalf("other loopback port: %+v", m)
	}
	if n := other.hit("/x.png"); n != 0 {
		t.Fatalf("blocked server reached %d times", n)
	}
	if n := s.hit("/x.png"); n != 1 {
		t.Fatalf("allowed server hit %d times", n)
	}
}

// TestCollectNoFiles checks that collecting writes no temporary files.
func TestCollectNoFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	s := newSite(t)
	s.serve("/a.png", "image/png", encodePNG(t, genImage(64, 64, 6)))
	s.serve("/page", "text/html", []byte(`<html><img src="/a.png"></html>`))
	c := NewCollector(newFetcher(t, fetch.Options{AllowPrivate: true}), Options{})
	for _, p := range []string{"/a.png", "/page"} {
		if r := c.Collect(t.Context(), s.URL+p); r.Outcome != OutcomeFetched {
			t.Fatalf("%s: %+v", p, r)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("temporary files written: %v", entries)
	}
}

func TestOptions(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		ok   bool
	}{
		{Options{}, true},
		{Options{MaxMediaPerPage: 200, PageConcurrency: 8, Hashing: hashing.Options{Profile: "cpp-cli"}}, true},
		{Options{MaxMediaPerPage: -1}, false},
		{Options{MaxMediaPerPage: MaxMediaPerPageLimit + 1}, false},
		{Options{PageConcurrency: MaxPageConcurrency + 1}, false},
		{Options{Hashing: hashing.Options{Profile: "nonesuch"}}, false},
		{Options{Hashing: hashing.Options{MaxPixels: -1}}, false},
	} {
		if err := tt.opts.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.opts, err, tt.ok)
		}
	}
	c := NewCollector(nil, Options{MaxMediaPerPage: 1 << 20, PageConcurrency: -3})
	if c.opts.MaxMediaPerPage != MaxMediaPerPageLimit || c.opts.PageConcurrency != DefaultPageConcurrency {
		t.Fatalf("clamped options: %+v", c.opts)
	}
}

// TestCollectHashLimit: a body the fetcher accepts but the hashing size
// limit refuses is too large, for an item and for a medium on a page.
func TestCollectHashLimit(t *testing.T) {
	big := encodePNG(t, genImage(64, 64, 9))
	small := []byte("small text file\n")
	s := newSite(t)
	s.serve("/big.png", "image/png", big)
	s.serve("/small.txt", "text/plain", small)
	s.serve("/page", "text/html", []byte(`<html><img src="/big.png"><a href="/small.txt">t</a><img src="/small.txt"></html>`))
	c := NewCollector(newFetcher(t, fetch.Options{AllowPrivate: true}), Options{Hashing: hashing.Options{MaxSize: int64(len(big) - 1)}})

	wantNotAccessible(fetch.FailureTooLarge, false, 200)(t, c.Collect(t.Context(), s.URL+"/big.png"))
	r := c.Collect(t.Context(), s.URL+"/page")
	if r.Outcome != OutcomeFetched || len(r.Media) != 2 {
		t.Fatalf("page: %+v", r)
	}
	if m := r.Media[0]; m.Status != MediumFailed || m.Failure != fetch.FailureTooLarge || m.MD5 != "" {
		t.Fatalf("medium over the hashing limit: %+v", m)
	}
	wantHashed(t, r.Media[1], small, KindOther, false)
}

// TestCollectCanceled: a Collect cut short by its context is marked so,
// and transient, whatever the fetch failure looked like.
func TestCollectCanceled(t *testing.T) {
	s := newSite(t)
	s.handle("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	s.serve("/page", "text/html", []byte(`<html><img src="/slow"></html>`))
	c := NewCollector(newFetcher(t, fetch.Options{AllowPrivate: true, Timeout: 5 * time.Second}), Options{})
	for _, p := range []string{"/slow", "/page"} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		r := c.Collect(ctx, s.URL+p)
		cancel()
		if !r.Canceled || !r.Transient {
			t.Fatalf("%s: %+v", p, r)
		}
	}
	if r := c.Collect(t.Context(), s.URL+"/nonesuch"); r.Canceled {
		t.Fatalf("not canceled: %+v", r)
	}
}
