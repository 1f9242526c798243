package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultTimeout         = 20 * time.Second
	DefaultMaxBytes        = 32 << 20
	DefaultMaxRedirects    = 5
	DefaultPerHostInterval = time.Second
	// DefaultUserAgent identifies the software. Operators should set
	// Options.UserAgent to name their node and a contact address, so that
	// site operators know who is fetching and how to reach them.
	DefaultUserAgent = "Alliance-Hotline-Fetcher/1 (+https://example.org/alliance)"
)

// MaxResponseHeaderBytes caps a response's headers; more is ErrTooLarge.
const MaxResponseHeaderBytes = 64 << 10

// Errors wrapped by Fetch for the conditions it detects itself; the guard's
// refusals wrap [ErrBlocked].
var (
	ErrTooLarge          = errors.New("fetch: response exceeds size limit")
	ErrTooManyRedirects  = errors.New("fetch: too many redirects")
	ErrUnsupportedScheme = fmt.Errorf("%w: only http and https URLs are fetched", ErrBlocked)
)

// Resolver looks up the addresses of a host name.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// Options configures a Fetcher. Zero fields take the defaults above.
type Options struct {
	// Timeout bounds the whole request: connect, redirects, headers and body.
	// The politeness wait before the first request is not counted.
	Timeout time.Duration
	// MaxBytes caps the (decoded) body; a larger body fails with ErrTooLarge.
	MaxBytes int64
	// MaxRedirects caps the redirects followed; a negative value allows none.
	MaxRedirects int
	// UserAgent is sent with every request. Set it to identify your node.
	UserAgent string
	// AllowPrivate turns the SSRF guard off. Only for local test sites and
	// demos on loopback; never on a production node.
	AllowPrivate bool
	// PerHostInterval is the minimum gap between two requests to the same
	// host name; concurrent callers wait their turn. Negative disables it.
	PerHostInterval time.Duration
	// MaxPerHost is the most requests in flight to one host name at once,
	// from sending the request to reading the body's end; further callers
	// wait their turn (the wait respects ctx and, like the interval wait,
	// is not counted in Timeout). A redirect gives up the slot of the host
	// it leaves and takes one of the host it goes to, so a request never
	// holds two slots. Zero or negative means no limit.
	MaxPerHost int
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// AllowAddrs are exact address:port pairs the guard lets through even
	// when private, with the guard otherwise on: for a demo site on
	// loopback, so that nothing else on the machine is reachable. Nil in
	// production.
	AllowAddrs []netip.AddrPort
	// OnlyAddrs, when not empty, are the only address:port pairs the
	// fetcher connects to; every other address is refused as blocked,
	// public or not. For the demo, whose example names and addresses stand
	// for real networks that must never be contacted.
	OnlyAddrs []netip.AddrPort
}

// Response is a fetched resource. Body is held in memory only.
type Response struct {
	// FinalURL is the URL after redirects.
	FinalURL string
	// Status is the HTTP status code.
	Status int
	// ContentType is the lower-case media type without parameters: the
	// header's, unless missing or generic (octet-stream, text/plain), then
	// the sniffed one.
	ContentType string
	// DeclaredType is the Content-Type header exactly as sent.
	DeclaredType string
	// SniffedType is http.DetectContentType over the first 512 bytes, always
	// set by Fetch (empty from Head, which has no body), so callers can tell
	// a response that claims one type and sends another.
	SniffedType string
	// Header holds a small subset of response headers useful as metadata.
	Header http.Header
	// Body is the response body; the caller hashes it and drops it.
	Body []byte
	// FetchedAt is when the response headers arrived.
	FetchedAt time.Time
}

// keptHeaders are the response headers copied into Response.Header.
var keptHeaders = []string{"Content-Type", "Content-Length", "Content-Encoding", "Last-Modified", "Etag", "Cache-Control", "Server", "Date"}

// Fetcher fetches URLs under the limits of its Options. It is safe for
// concurrent use; create one per process and reuse it.
type Fetcher struct {
	opts   Options
	client *http.Client

	mu   sync.Mutex
	next map[string]time.Time // host -> earliest time of the next request

	slotMu sync.Mutex
	slots  map[string]*hostSlots // host -> in-flight slots, while in use
}

// hostSlots limits the requests in flight to one host; refs counts the
// holders and waiters, so the entry is dropped when nobody uses it.
type hostSlots struct {
	ch   chan struct{}
	refs int
}

// hold is the host slot a request holds, carried in its context so that
// checkRedirect can move it to the redirect's host.
type hold struct {
	slots *hostSlots
	host  string
}

type holdKey struct{}

// New returns a Fetcher for opts, filling in defaults.
func New(opts Options) *Fetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	} else if opts.MaxRedirects < 0 {
		opts.MaxRedirects = 0
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.PerHostInterval == 0 {
		opts.PerHostInterval = DefaultPerHostInterval
	}
	if opts.Resolver == nil {
		opts.Resolver = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if opts.MaxPerHost < 0 {
		opts.MaxPerHost = 0
	}
	f := &Fetcher{opts: opts, next: make(map[string]time.Time), slots: make(map[string]*hostSlots)}
	tr := &http.Transport{
		Proxy:                 nil, // never a proxy from the environment
		DialContext:           f.dial,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		// A hostile host may send endless headers; the default allows 10 MB.
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
	}
	f.client = &http.Client{
		Transport:     tr,
		CheckRedirect: f.checkRedirect,
		Jar:           nil, // no cookies kept
	}
	return f
}

// Close releases idle connections.
func (f *Fetcher) Close() { f.client.CloseIdleConnections() }

// Fetch GETs rawURL and returns the response with its body in memory. A
// non-2xx status returns the Response and a *StatusError, so the caller can
// record the status. Errors classify with Classify.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Response, error) {
	return f.do(ctx, http.MethodGet, rawURL, f.opts.MaxBytes)
}

// FetchLimit is Fetch with a smaller body cap for this call: the body may
// be at most min(maxBytes, Options.MaxBytes) bytes, else ErrTooLarge (with
// the Response's status and headers). For callers that only need to check
// a resource, such as re-checks, and should not pull the full cap.
func (f *Fetcher) FetchLimit(ctx context.Context, rawURL string, maxBytes int64) (Response, error) {
	if maxBytes <= 0 || maxBytes > f.opts.MaxBytes {
		maxBytes = f.opts.MaxBytes
	}
	return f.do(ctx, http.MethodGet, rawURL, maxBytes)
}

// Head sends a HEAD request for rawURL under the same guard, timeout,
// redirect cap and politeness as Fetch. The Response has no Body and no
// SniffedType; ContentType is the declared one, and Header keeps
// Content-Length, so a caller can see a body's declared size before
// fetching it. A non-2xx status returns the Response and a *StatusError.
func (f *Fetcher) Head(ctx context.Context, rawURL string) (Response, error) {
	return f.do(ctx, http.MethodHead, rawURL, 0)
}

// do sends one request; for GET it reads at most maxBytes of the body.
func (f *Fetcher) do(ctx context.Context, method, rawURL string, maxBytes int64) (Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Response{}, fmt.Errorf("fetch: parse url: %w", err)
	}
	if err := checkScheme(u); err != nil {
		return Response{}, err
	}
	if u.Hostname() == "" {
		return Response{}, fmt.Errorf("fetch: url %q has no host", rawURL)
	}
	h := &hold{}
	defer f.release(h)
	if err := f.acquire(ctx, h, u.Hostname()); err != nil {
		return Response{}, err
	}
	if err := f.wait(ctx, u.Hostname()); err != nil {
		return Response{}, err
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, holdKey{}, h), f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return Response{}, fmt.Errorf("fetch: new request: %w", err)
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "*/*")
	resp, err := f.client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "response headers exceeded") {
			// net/http has no error value for this; the text is pinned by
			// TestFetchLimits.
			return Response{}, fmt.Errorf("fetch %s: headers over %d bytes: %w", u.Redacted(), MaxResponseHeaderBytes, ErrTooLarge)
		}
		return Response{}, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	r := Response{
		FinalURL:     resp.Request.URL.String(),
		Status:       resp.StatusCode,
		DeclaredType: resp.Header.Get("Content-Type"),
		Header:       make(http.Header),
		FetchedAt:    time.Now().UTC(),
	}
	for _, k := range keptHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			r.Header[k] = append([]string(nil), v...)
		}
	}
	if method == http.MethodHead {
		r.ContentType = mediaType(r.DeclaredType)
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return r, &StatusError{Status: resp.StatusCode, URL: r.FinalURL}
		}
		return r, nil
	}
	if resp.ContentLength > maxBytes {
		return r, fmt.Errorf("fetch %s: declared length %d: %w", u.Redacted(), resp.ContentLength, ErrTooLarge)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		clear(body)
		return r, fmt.Errorf("fetch %s: read body: %w", u.Redacted(), err)
	}
	if int64(len(body)) > maxBytes {
		clear(body)
		return r, fmt.Errorf("fetch %s: %w (limit %d bytes)", u.Redacted(), ErrTooLarge, maxBytes)
	}
	r.Body = body
	r.SniffedType = mediaType(http.DetectContentType(body))
	r.ContentType = mediaType(r.DeclaredType)
	if genericType(r.ContentType) {
		r.ContentType = r.SniffedType
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, &StatusError{Status: resp.StatusCode, URL: r.FinalURL}
	}
	return r, nil
}

func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return nil
	}
	return fmt.Errorf("fetch: scheme %q: %w", u.Scheme, ErrUnsupportedScheme)
}

// mediaType returns the lower-case media type of a Content-Type value.
func mediaType(v string) string {
	if v == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		mt, _, _ = strings.Cut(v, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

func genericType(mt string) bool {
	switch mt {
	case "", "application/octet-stream", "binary/octet-stream", "application/unknown", "application/x-unknown", "application/binary", "text/plain":
		return true
	}
	return false
}

// checkRedirect re-checks the scheme, caps redirects and keeps politeness
// towards the redirect's host. Addresses are checked by the dialer.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("%w (limit %d)", ErrTooManyRedirects, f.opts.MaxRedirects)
	}
	if err := checkScheme(req.URL); err != nil {
		return err
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	if h, ok := req.Context().Value(holdKey{}).(*hold); ok && !strings.EqualFold(h.host, req.URL.Hostname()) {
		// Leave the slot of the host that answered with the redirect
		// before waiting for one of the next host: holding one while
		// waiting for another could deadlock two redirects that cross.
		f.release(h)
		if err := f.acquire(req.Context(), h, req.URL.Hostname()); err != nil {
			return err
		}
	}
	return f.wait(req.Context(), req.URL.Hostname())
}

// acquire takes one of host's in-flight slots for h, waiting while
// MaxPerHost requests to it are in flight. It does nothing without a
// limit.
func (f *Fetcher) acquire(ctx context.Context, h *hold, host string) error {
	if f.opts.MaxPerHost <= 0 {
		return ctx.Err()
	}
	host = strings.ToLower(host)
	f.slotMu.Lock()
	s := f.slots[host]
	if s == nil {
		s = &hostSlots{ch: make(chan struct{}, f.opts.MaxPerHost)}
		f.slots[host] = s
	}
	s.refs++
	f.slotMu.Unlock()
	select {
	case s.ch <- struct{}{}:
		h.slots, h.host = s, host
		return nil
	case <-ctx.Done():
		f.unref(host, s)
		return ctx.Err()
	}
}

// release gives back the slot h holds, if any.
func (f *Fetcher) release(h *hold) {
	if h.slots == nil {
		return
	}
	<-h.slots.ch
	f.unref(h.host, h.slots)
	h.slots, h.host = nil, ""
}

// unref drops a holder or waiter of s, and s itself when it was the last,
// so the map only holds hosts in use.
func (f *Fetcher) unref(host string, s *hostSlots) {
	f.slotMu.Lock()
	s.refs--
	if s.refs == 0 && f.slots[host] == s {
		delete(f.slots, host)
	}
	f.slotMu.Unlock()
}

// wait blocks until the host's next politeness slot, reserving it.
func (f *Fetcher) wait(ctx context.Context, host string) error {
	if f.opts.PerHostInterval < 0 {
		return ctx.Err()
	}
	host = strings.ToLower(host)
	now := time.Now()
	f.mu.Lock()
	if len(f.next) > 4096 {
		for h, t := range f.next {
			if t.Before(now) {
				delete(f.next, h)
			}
		}
	}
	at := f.next[host]
	if at.Before(now) {
		at = now
	}
	f.next[host] = at.Add(f.opts.PerHostInterval)
	f.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dial resolves the host through the injectable resolver, checks every
// address, and dials the checked address itself, never the name, so the
// address connected to is the address checked. The Control hook checks it
// once more on the socket.
func (f *Fetcher) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("fetch: bad port %q: %w", portStr, err)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = f.opts.Resolver(ctx, host)
		if err != nil {
			return nil, &dnsError{host: host, err: err}
		}
		if len(addrs) == 0 {
			return nil, &dnsError{host: host, err: errors.New("no addresses")}
		}
	}
	d := net.Dialer{Control: f.opts.control}
	var firstErr error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.WithZone(""), uint16(port))
		if err := f.opts.allowed(ap); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		conn, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil || errors.Is(firstErr, ErrBlocked) {
			firstErr = err
		}
	}
	return nil, firstErr
}
