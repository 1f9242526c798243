package recheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"alliance/internal/fetch"
	"alliance/internal/hashing"
	"alliance/pdq"
)

// Outcome is what a re-check decided about a noticed item.
type Outcome string

// Outcomes.
const (
	// StillUp: the content still answers (its hash matches), or it answers
	// and cannot be verified (Reason "unverified"): never reported removed.
	StillUp Outcome = "still_up"
	// Removed: the URL answers 404 or 410, its name no longer exists, or
	// what it serves now is other content.
	Removed Outcome = "removed"
	// Changed: the URL now redirects to another host (registrable domain);
	// the content may have moved there. FinalURL says where.
	Changed Outcome = "changed"
	// Unreachable: no decision this time. Transient says whether a later
	// try may decide (timeout, 5xx, refused); the caller counts these and
	// decides "consistently" after several in a row.
	Unreachable Outcome = "unreachable"
)

// Reasons recorded in Result.Reason. A 4xx status other than 404 and 410
// is recorded as "http_" and its code (http_403, http_429, ...).
const (
	ReasonOK = "ok" // the SHA-256 matches
	// ReasonOKPDQ: the SHA-256 differs but the PDQ hash is within
	// Options.PDQThreshold (re-encoded or resized copy of the content).
	ReasonOKPDQ = "ok_pdq"
	// ReasonUnverified: the URL answers 2xx but its content cannot be
	// compared: over the byte cap, nothing recorded to compare with, or a
	// page with no recorded media.
	ReasonUnverified        = "unverified"
	ReasonHTTP404           = "http_404"
	ReasonHTTP410           = "http_410"
	ReasonHTTP5xx           = "http_5xx"
	ReasonDNS               = "dns"
	ReasonRefused           = "refused"
	ReasonTimeout           = "timeout"
	ReasonHashMismatch      = "hash_mismatch"
	ReasonMediaGone         = "media_gone"
	ReasonRedirectOtherHost = "redirect_other_host"
	ReasonRedirects         = "redirects" // redirect loop or too many redirects
	ReasonBlocked           = "blocked"   // SSRF guard: now points at a private address
	ReasonTLS               = "tls"       // certificate or handshake failure
	ReasonBadURL            = "bad_url"   // the target URL cannot be fetched at all
	ReasonCanceled          = "canceled"  // ctx ended: no decision, do not record
	ReasonError             = "error"     // anything else
	// ReasonMediaPrefix is put before a medium's reason when that medium
	// decided a page's outcome (media_timeout, media_redirect_other_host).
	ReasonMediaPrefix = "media_"
)

const (
	reasonHTTPPrefix = "http_"      // followed by a 4xx code
	reasonNone       = ""           // no decision yet: go on
	maxURLLength     = 8192         // as urlnorm.MaxLength
	maxPDQThreshold  = pdq.HashBits // the largest PDQ distance there is
	// maxMediaLimit bounds Options.MaxMedia, as media.MaxMediaPerPageLimit
	// bounds the media recorded per page.
	maxMediaLimit = 1000
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultMaxBytes     = 4 << 20
	DefaultMaxMedia     = 10
	DefaultPDQThreshold = 31
)

// Medium is one medium as recorded at the fetch.
type Medium struct {
	URL string
	// SHA256 is lower- or upper-case hex, as recorded; "" if none.
	SHA256 string
	// PDQ is 64 hex digits, or "" when the medium had no PDQ hash.
	PDQ string
}

// Target is a noticed item to re-check.
type Target struct {
	// URL is the item's URL.
	URL string
	// Page is true when the URL was an HTML page: its recorded media are
	// checked.
	Page bool
	// Media are what was recorded at the fetch; for an image URL, one
	// medium whose URL is the item URL.
	Media []Medium
}

// Result is what one re-check decided. It holds no content and no error
// text, only the decision and its evidence.
type Result struct {
	Outcome Outcome
	// Reason says why, one of the Reason constants (a medium's reason on a
	// page is prefixed with "media_").
	Reason string
	// HTTPStatus is the status of the item URL's last response, 0 when
	// none arrived.
	HTTPStatus int
	// FinalURL is the item URL after redirects; for a Changed page whose
	// medium moved to another host, the medium's new URL.
	FinalURL string
	// Transient says a later try may decide otherwise (Unreachable only).
	Transient bool
	// Canceled is true when ctx ended before the check finished: the
	// Outcome is Unreachable and should not be recorded.
	Canceled  bool
	CheckedAt time.Time
}

// Options configures a Checker. The zero value is usable.
type Options struct {
	// MaxBytes caps each GET's body (default 4 MiB); it is also bounded by
	// the Fetcher's own MaxBytes.
	MaxBytes int64
	// MaxMedia is how many recorded media of a page are re-fetched at most
	// (default 10).
	MaxMedia int
	// PDQThreshold is the largest PDQ distance that still counts as the
	// same content (default 31); negative compares SHA-256 only.
	PDQThreshold int
	// Hashing is used to compute the PDQ hash of re-fetched images; its
	// profile must be the one the recorded hashes were made with.
	Hashing hashing.Options
}

// Validate reports options out of range; New does not fail, so
// configuration code should call this first.
func (o Options) Validate() error {
	if o.MaxBytes < 0 {
		return fmt.Errorf("recheck: max bytes %d is negative", o.MaxBytes)
	}
	if o.MaxMedia < 0 || o.MaxMedia > maxMediaLimit {
		return fmt.Errorf("recheck: max media %d out of range 0..%d", o.MaxMedia, maxMediaLimit)
	}
	if o.PDQThreshold > maxPDQThreshold {
		return fmt.Errorf("recheck: pdq threshold %d over %d", o.PDQThreshold, maxPDQThreshold)
	}
	if _, err := pdq.ParseProfile(string(o.Hashing.Profile)); err != nil {
		return fmt.Errorf("recheck: hashing profile: %w", err)
	}
	if o.Hashing.MaxSize < 0 || o.Hashing.MaxPixels < 0 {
		return fmt.Errorf("recheck: negative hashing limit (max size %d, max pixels %d)", o.Hashing.MaxSize, o.Hashing.MaxPixels)
	}
	return nil
}

// Checker re-checks noticed items through a Fetcher. It is safe for
// concurrent use; the Fetcher's politeness (interval and MaxPerHost) holds
// across all its checks.
type Checker struct {
	f    *fetch.Fetcher
	opts Options
}

// New returns a Checker fetching through f. Zero options take their
// defaults and out-of-range ones are clamped; see Options.Validate.
func New(f *fetch.Fetcher, opts Options) *Checker {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxMedia <= 0 {
		opts.MaxMedia = DefaultMaxMedia
	}
	opts.MaxMedia = min(opts.MaxMedia, maxMediaLimit)
	if opts.PDQThreshold == 0 {
		opts.PDQThreshold = DefaultPDQThreshold
	}
	opts.PDQThreshold = min(opts.PDQThreshold, maxPDQThreshold)
	return &Checker{f: f, opts: opts}
}

// verdict is the decision about one URL (the item's or a medium's).
type verdict struct {
	outcome   Outcome
	reason    string
	status    int
	final     string
	transient bool
}

// Check re-checks t and decides its Outcome; see the package
// documentation for the rules. It never panics: every failure is in the
// Result. Content bytes live in memory only while hashed and are cleared
// then.
func (c *Checker) Check(ctx context.Context, t Target) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			// A bug, not an input: no decision, and the panic value is
			// not echoed (it might hold bytes).
			res = Result{Outcome: Unreachable, Reason: ReasonError}
		}
		if ctx.Err() != nil {
			// Whatever was seen after our own cancellation says nothing
			// about the URL.
			res.Outcome, res.Reason, res.Transient, res.Canceled = Unreachable, ReasonCanceled, true, true
		}
		res.CheckedAt = time.Now().UTC()
	}()
	var v verdict
	if t.Page {
		v = c.checkPage(ctx, t)
	} else {
		v = c.checkURL(ctx, t.URL, t.Media)
	}
	return Result{Outcome: v.outcome, Reason: v.reason, HTTPStatus: v.status, FinalURL: v.final, Transient: v.transient}
}

// checkPage checks a page: the page must answer, then its recorded media
// decide.
func (c *Checker) checkPage(ctx context.Context, t Target) verdict {
	page := c.checkURL(ctx, t.URL, nil)
	if page.outcome != StillUp {
		return page
	}
	var (
		checked    int
		unverified bool
		moved      *verdict
		missing    *verdict // the first medium that did not decide
	)
	for _, m := range t.Media {
		if checked == c.opts.MaxMedia || ctx.Err() != nil {
			break
		}
		if m.SHA256 == "" && m.PDQ == "" {
			continue // nothing to compare with
		}
		checked++
		v := c.checkURL(ctx, m.URL, []Medium{m})
		switch {
		case v.outcome == StillUp && v.reason != ReasonUnverified:
			page.reason = v.reason
			return page
		case v.outcome == StillUp:
			unverified = true
		case v.outcome == Changed && moved == nil:
			moved = &v
		case v.outcome == Unreachable && missing == nil:
			missing = &v
		}
	}
	switch {
	case checked == 0 || unverified:
		page.reason = ReasonUnverified
	case moved != nil:
		page.outcome, page.reason, page.final = Changed, ReasonMediaPrefix+moved.reason, moved.final
	case missing != nil:
		page.outcome, page.reason, page.transient = Unreachable, ReasonMediaPrefix+missing.reason, missing.transient
	default:
		page.outcome, page.reason = Removed, ReasonMediaGone
	}
	return page
}

// checkURL checks one URL: HEAD, then GET under the byte cap, then the
// body's hashes against want. With want nil (a page) a 2xx answer is
// StillUp with reason unverified and the body is not looked at.
func (c *Checker) checkURL(ctx context.Context, rawURL string, want []Medium) verdict {
	if len(rawURL) > maxURLLength {
		return verdict{outcome: Unreachable, reason: ReasonBadURL}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return verdict{outcome: Unreachable, reason: ReasonBadURL}
	}
	origin := registrable(u.Hostname())

	head, err := c.f.Head(ctx, rawURL)
	if v := c.judge(head, err, origin, true); v.reason != reasonNone {
		return v
	}
	if n, perr := strconv.ParseInt(head.Header.Get("Content-Length"), 10, 64); err == nil && perr == nil && n > c.opts.MaxBytes {
		// Declared over the cap: it answers and cannot be verified; the
		// GET would only be refused, so save it.
		return verdict{outcome: StillUp, reason: ReasonUnverified, status: head.Status, final: head.FinalURL}
	}

	resp, err := c.f.FetchLimit(ctx, rawURL, c.opts.MaxBytes)
	defer clear(resp.Body)
	if v := c.judge(resp, err, origin, false); v.reason != reasonNone {
		return v
	}
	v := verdict{outcome: StillUp, reason: ReasonUnverified, status: resp.Status, final: resp.FinalURL}
	if err != nil || want == nil {
		return v // too large (judge lets only that through), or a page
	}
	v.outcome, v.reason = c.compare(resp.Body, want)
	return v
}

// judge decides from a response's status and error, or returns a verdict
// with reasonNone to go on: after HEAD to the GET, after GET to the hash
// comparison (err is then nil, or ErrTooLarge on a 2xx answer).
func (c *Checker) judge(resp fetch.Response, err error, origin string, head bool) verdict {
	v := verdict{status: resp.Status, final: resp.FinalURL}
	fail := func(o Outcome, reason string, transient bool) verdict {
		v.outcome, v.reason, v.transient = o, reason, transient
		return v
	}
	st := resp.Status
	if st != 0 && (st < 200 || st > 299) {
		switch {
		case head && (st == http.StatusMethodNotAllowed || st == http.StatusNotImplemented):
			return v // HEAD not supported: GET decides
		case head && st >= 400 && st < 500 && st != http.StatusRequestTimeout && st != http.StatusTooManyRequests:
			// Some servers answer HEAD wrongly (404 for HEAD only, 403
			// from URLs signed for GET): a removal is only believed
			// from the GET.
			return v
		case st == http.StatusNotFound:
			return fail(Removed, ReasonHTTP404, false)
		case st == http.StatusGone:
			return fail(Removed, ReasonHTTP410, false)
		case st >= 500:
			return fail(Unreachable, ReasonHTTP5xx, true)
		default:
			return fail(Unreachable, reasonHTTPPrefix+strconv.Itoa(st), st == http.StatusRequestTimeout || st == http.StatusTooManyRequests)
		}
	}
	if st != 0 && resp.FinalURL != "" {
		if fu, perr := url.Parse(resp.FinalURL); perr == nil && registrable(fu.Hostname()) != origin {
			return fail(Changed, ReasonRedirectOtherHost, false)
		}
	}
	if err == nil {
		return v
	}
	switch fetch.Classify(err) {
	case fetch.FailureTooLarge:
		if st != 0 {
			return v // answered 2xx: unverified, not removed
		}
		return fail(Unreachable, ReasonError, false)
	case fetch.FailureDNS:
		if fetch.Transient(err) {
			return fail(Unreachable, ReasonDNS, true) // SERVFAIL, resolver timeout
		}
		return fail(Removed, ReasonDNS, false) // the name no longer exists
	case fetch.FailureRefused:
		return fail(Unreachable, ReasonRefused, true)
	case fetch.FailureTimeout:
		return fail(Unreachable, ReasonTimeout, true)
	case fetch.FailureBlocked:
		return fail(Unreachable, ReasonBlocked, false)
	case fetch.FailureRedirects:
		return fail(Unreachable, ReasonRedirects, false)
	case fetch.FailureTLS:
		return fail(Unreachable, ReasonTLS, false)
	}
	if head {
		return v // a HEAD the server mishandled (closed, malformed): try GET
	}
	return fail(Unreachable, ReasonError, fetch.Transient(err))
}

// compare hashes body and compares it with the recorded media: the
// SHA-256 first (cheap), the PDQ hash only when it differs.
func (c *Checker) compare(body []byte, want []Medium) (Outcome, string) {
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	var pdqs []pdq.Hash
	comparable := false
	for _, m := range want {
		if m.SHA256 != "" {
			comparable = true
			if strings.EqualFold(m.SHA256, got) {
				return StillUp, ReasonOK
			}
		}
		if m.PDQ != "" && c.opts.PDQThreshold >= 0 {
			if h, err := pdq.ParseHash(m.PDQ); err == nil {
				pdqs = append(pdqs, h)
				comparable = true
			}
		}
	}
	if !comparable {
		return StillUp, ReasonUnverified
	}
	if len(pdqs) == 0 {
		return Removed, ReasonHashMismatch
	}
	h, err := hashing.HashBytes(body, c.opts.Hashing)
	switch {
	case errors.Is(err, hashing.ErrTooLarge):
		return StillUp, ReasonUnverified // over the hashing size limit
	case err != nil && !errors.Is(err, hashing.ErrDecode) && !errors.Is(err, hashing.ErrTooManyPixels):
		return Unreachable, ReasonError // invalid hashing options: see Validate
	}
	if h.PDQ != nil {
		for _, p := range pdqs {
			if h.PDQ.Distance(p) <= c.opts.PDQThreshold {
				return StillUp, ReasonOKPDQ
			}
		}
	}
	// Not an image any more, or another one.
	return Removed, ReasonHashMismatch
}

// registrable returns the registrable domain (eTLD+1) of a host name, the
// host itself for an IP address or a name that has none.
func registrable(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}
