// Package demosite serves a small web site of generated images (noise
// blocks and gradients, made by code) with HTML pages that point to them.
// The demo starts one on loopback so that fetching, hashing and matching can
// be seen end to end; tests and benchmarks use its Handler with httptest.
// Nothing it serves is real material: every image is computed from a number.
package demosite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"alliance/internal/notify"
)

// Size is the side of every generated image, in pixels.
const Size = 128

// Noise returns a generated image of coloured 8×8 blocks, different for each
// seed. Its PDQ quality is high, so its hash is matched.
func Noise(seed uint64) image.Image {
	r := rand.New(rand.NewPCG(seed, 0x616c6c69616e6365))
	img := image.NewNRGBA(image.Rect(0, 0, Size, Size))
	for by := 0; by < Size; by += 8 {
		for bx := 0; bx < Size; bx += 8 {
			c := color.NRGBA{R: uint8(r.Uint32()), G: uint8(r.Uint32()), B: uint8(r.Uint32()), A: 255}
			for y := by; y < by+8; y++ {
				for x := bx; x < bx+8; x++ {
					img.SetNRGBA(x, y, c)
				}
			}
		}
	}
	return img
}

// Gradient returns the i-th generated gradient (the demo bank hashes these).
func Gradient(i int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, Size, Size))
	for y := range Size {
		for x := range Size {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x*2 + i*40), G: uint8(y*2 + i*25), B: uint8((x + y) * (i + 1)), A: 255})
		}
	}
	return img
}

// PNG encodes an image as PNG.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(fmt.Sprintf("demosite: encode generated image: %v", err)) // in-memory encoding of an NRGBA cannot fail
	}
	return buf.Bytes()
}

// NoisePNG and GradientPNG are the PNG encodings the site serves.
func NoisePNG(seed uint64) []byte { return PNG(Noise(seed)) }

// GradientPNG is the PNG encoding of Gradient(i), as the site serves it.
func GradientPNG(i int) []byte { return PNG(Gradient(i)) }

// Handler serves the site:
//
//	/noise/{seed}.png     a generated noise image
//	/gradient/{i}.png     a generated gradient (i from 0 to 99)
//	/page?img=PATH&…      an HTML page with an <img> for each PATH (site paths), and
//	                      &video=PATH for a <video> element
//	/missing.png          404
//	POST /abuse           the site's abuse webhook: a takedown notice (JSON with
//	                      a "url") removes that URL's path from the site, which
//	                      answers 404 for it from then on, as a host that complies
//
// Encoded images are cached, so a benchmark measures the fetcher, not the
// site.
func Handler() http.Handler { return newSite(nil) }

// site is the state of one Handler: what notices removed.
type site struct {
	mux     *http.ServeMux
	secret  []byte // when set, notices must carry a valid signature
	mu      sync.Mutex
	removed map[string]bool
	notices int
}

func newSite(secret []byte) *site {
	s := &site{mux: http.NewServeMux(), secret: secret, removed: map[string]bool{}}
	var cache sync.Map // path -> []byte
	serve := func(w http.ResponseWriter, r *http.Request, gen func() []byte) {
		if s.isRemoved(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		b, ok := cache.Load(r.URL.Path)
		if !ok {
			b, _ = cache.LoadOrStore(r.URL.Path, gen())
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b.([]byte))
	}
	s.mux.HandleFunc("GET /noise/{file}", func(w http.ResponseWriter, r *http.Request) {
		seed, err := strconv.ParseUint(strings.TrimSuffix(r.PathValue("file"), ".png"), 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		serve(w, r, func() []byte { return NoisePNG(seed) })
	})
	s.mux.HandleFunc("GET /gradient/{file}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("file"), ".png"))
		if err != nil || i < 0 || i > 99 {
			http.NotFound(w, r)
			return
		}
		serve(w, r, func() []byte { return GradientPNG(i) })
	})
	s.mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = pageTemplate.Execute(w, struct{ Images, Videos []string }{q["img"], q["video"]})
	})
	s.mux.HandleFunc("POST /abuse", s.abuse)
	return s
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *site) isRemoved(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removed[path]
}

// abuse takes a notice and removes what it names.
func (s *site) abuse(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "unreadable notice", http.StatusBadRequest)
		return
	}
	if s.secret != nil {
		sig := strings.TrimPrefix(r.Header.Get(notify.HeaderSignature), notify.SignaturePrefix)
		if err := notify.Verify(s.secret, r.Header.Get(notify.HeaderTimestamp), sig, body, time.Now(), notify.DefaultSkew); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
	}
	var n struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(body, &n); err != nil || n.URL == "" {
		http.Error(w, "a notice names a url", http.StatusBadRequest)
		return
	}
	u, err := url.Parse(n.URL)
	if err != nil {
		http.Error(w, "bad url", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.removed[u.Path] = true
	s.notices++
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Generated test page</title></head>
<body><h1>Generated test page</h1>
{{range .Images}}<p><img src="{{.}}" alt="generated image"></p>
{{end}}{{range .Videos}}<video src="{{.}}"></video>
{{end}}</body></html>
`))

// Site is the demo site running on a loopback listener.
type Site struct {
	Addr string // host:port it listens on
	srv  *http.Server
	site *site
}

// Notices returns how many takedown notices the site has taken.
func (s *Site) Notices() int {
	s.site.mu.Lock()
	defer s.site.mu.Unlock()
	return s.site.notices
}

// Start serves Handler on addr, which must be a loopback address (the
// fetcher lets private addresses through only for this one). With a
// secret, notices to its abuse webhook must be signed with it.
func Start(addr string, secret []byte) (*Site, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demosite: listen %s: %w", addr, err)
	}
	if ap, ok := ln.Addr().(*net.TCPAddr); !ok || !ap.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("demosite: %s is not a loopback address", addr)
	}
	st := newSite(secret)
	s := &Site{Addr: ln.Addr().String(), site: st, srv: &http.Server{Handler: st, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the site.
func (s *Site) Close() error { return s.srv.Close() }
