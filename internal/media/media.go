package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"sync"
	"time"

	"alliance/internal/fetch"
	"alliance/internal/hashing"
	"alliance/pdq"
)

// Kind is what a medium is, or is expected to be before it is fetched.
type Kind string

// Media kinds.
const (
	KindImage Kind = "image"
	KindVideo Kind = "video"
	KindOther Kind = "other"
)

// Outcome is the result of fetching an item's URL.
type Outcome string

// Item outcomes.
const (
	OutcomeFetched       Outcome = "fetched"
	OutcomeNotAccessible Outcome = "not_accessible"
)

// MediumStatus is what happened to one medium.
type MediumStatus string

// Medium statuses.
const (
	// MediumHashed: fetched and hashed (exact hashes, plus PDQ for an image
	// that decoded).
	MediumHashed MediumStatus = "hashed"
	// MediumFailed: the fetch failed; Failure says why.
	MediumFailed MediumStatus = "failed"
	// MediumDeferred: a video, recorded for later video hashing and not
	// fetched.
	MediumDeferred MediumStatus = "deferred"
)

// Defaults and bounds for Options.
const (
	DefaultMaxMediaPerPage = 50
	DefaultPageConcurrency = 4
	// MaxMediaPerPageLimit and MaxPageConcurrency bound what Validate
	// accepts; NewCollector clamps to them.
	MaxMediaPerPageLimit = 1000
	MaxPageConcurrency   = 64
)

// Decode failures recorded in Medium.DecodeFailure.
const (
	DecodeTooManyPixels = "too_many_pixels"
	DecodeError         = "decode"
)

// Options configures a Collector. The zero value is usable.
type Options struct {
	// MaxMediaPerPage is the most media fetched per HTML page; 0 means
	// DefaultMaxMediaPerPage.
	MaxMediaPerPage int
	// PageConcurrency is how many media of one page are fetched at once; 0
	// means DefaultPageConcurrency.
	PageConcurrency int
	// Hashing sets the PDQ profile and the size and pixel limits for
	// images.
	Hashing hashing.Options
}

// Validate reports options out of range; NewCollector does not fail, so
// configuration code should call this first.
func (o Options) Validate() error {
	if o.MaxMediaPerPage < 0 || o.MaxMediaPerPage > MaxMediaPerPageLimit {
		return fmt.Errorf("media: max media per page %d out of range 0..%d", o.MaxMediaPerPage, MaxMediaPerPageLimit)
	}
	if o.PageConcurrency < 0 || o.PageConcurrency > MaxPageConcurrency {
		return fmt.Errorf("media: page concurrency %d out of range 0..%d", o.PageConcurrency, MaxPageConcurrency)
	}
	if _, err := pdq.ParseProfile(string(o.Hashing.Profile)); err != nil {
		return fmt.Errorf("media: hashing profile: %w", err)
	}
	if o.Hashing.MaxSize < 0 || o.Hashing.MaxPixels < 0 {
		return fmt.Errorf("media: negative hashing limit (max size %d, max pixels %d)", o.Hashing.MaxSize, o.Hashing.MaxPixels)
	}
	return nil
}

// Candidate is a media URL found on a page.
type Candidate struct {
	// URL is absolute, http or https, without fragment.
	URL string
	// Source names where it was found: "img", "srcset", "data-src", "a",
	// "og:image", "twitter:image", "video", "audio", "source", "poster".
	Source string
	// Kind is what the page says it is: KindVideo for video and audio
	// sources, KindImage otherwise.
	Kind Kind
}

// Medium is one medium of an item: the item URL's own response, or a media
// URL found on its page. It holds hashes and metadata, never content.
type Medium struct {
	// URL is the absolute URL as found (resolved against the page), or the
	// item URL itself.
	URL string
	// FinalURL is the URL after redirects; empty when not fetched.
	FinalURL string
	// Source is "url" when the item URL itself is the medium, else the
	// Candidate's Source.
	Source string
	// Kind is KindImage when the content is an image the hashing package
	// decodes (or tried to), KindOther for other content, and the
	// candidate's Kind for a medium not fetched or whose fetch failed.
	Kind   Kind
	Status MediumStatus
	// Failure is why the fetch failed, when Status is MediumFailed.
	Failure fetch.Failure
	// HTTPStatus is the response status, when there was a response.
	HTTPStatus int
	// ContentType is the media type sniffed from the content (never from
	// the extension or header), without parameters.
	ContentType string
	// DeclaredType is the Content-Type header as sent.
	DeclaredType string
	// Size is the body's length in bytes.
	Size int64
	// MD5, SHA1 and SHA256 are lower-case hex; empty unless hashed.
	MD5, SHA1, SHA256 string
	// PDQ is 64 lower-case hex digits; empty unless an image was decoded.
	PDQ        string
	PDQQuality int
	// Profile is the PDQ profile's name; empty without PDQ.
	Profile string
	// Width and Height are an image's dimensions from its header.
	Width, Height int
	// DecodeFailure says why an image got no PDQ: DecodeTooManyPixels (a
	// decompression bomb or just too big) or DecodeError (corrupt,
	// truncated, unsupported variant); empty otherwise.
	DecodeFailure string
	// FetchedAt is when the response arrived; zero for a deferred medium.
	FetchedAt time.Time
}

// Result is what Collect found at an item URL.
type Result struct {
	Outcome Outcome
	// Failure is the reason when the item is not accessible.
	Failure fetch.Failure
	// Transient says a retry may help (see fetch.Transient).
	Transient bool
	// HTTPStatus is the item response's status, when there was one.
	HTTPStatus int
	// FinalURL is the item URL after redirects.
	FinalURL string
	// ContentType is the sniffed type of the item URL's response.
	ContentType string
	// Page is true when the item URL was an HTML page.
	Page bool
	// Media are in page order; for an image or other file, one medium with
	// Source "url".
	Media []Medium
	// Truncated is true when the page had more media candidates than
	// MaxMediaPerPage (or was too long to scan to its end, see
	// ExtractMedia).
	Truncated bool
	FetchedAt time.Time
	// Canceled is true when ctx ended before Collect finished (shutdown,
	// job deadline): the Result is incomplete, Transient is set, and it
	// should be retried rather than recorded.
	Canceled bool
}

// Collector fetches items and hashes their media. It is safe for
// concurrent use.
type Collector struct {
	f    *fetch.Fetcher
	opts Options
}

// NewCollector returns a Collector fetching through f. Zero options take
// their defaults and out-of-range ones are clamped; see Options.Validate.
func NewCollector(f *fetch.Fetcher, opts Options) *Collector {
	if opts.MaxMediaPerPage <= 0 {
		opts.MaxMediaPerPage = DefaultMaxMediaPerPage
	}
	opts.MaxMediaPerPage = min(opts.MaxMediaPerPage, MaxMediaPerPageLimit)
	if opts.PageConcurrency <= 0 {
		opts.PageConcurrency = DefaultPageConcurrency
	}
	opts.PageConcurrency = min(opts.PageConcurrency, MaxPageConcurrency)
	return &Collector{f: f, opts: opts}
}

// Collect fetches rawURL and hashes what it finds: the item itself when it
// is an image or another file, or the media on it when it is an HTML page.
// Every failure is recorded in the Result; Collect never panics. Content
// bytes are cleared as soon as they are hashed and appear nowhere in the
// Result.
func (c *Collector) Collect(ctx context.Context, rawURL string) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			// A bug, not an input: record it as an error, never crash the
			// worker, and never echo the panic value (it might hold bytes).
			res = Result{Outcome: OutcomeNotAccessible, Failure: fetch.FailureError, FetchedAt: time.Now().UTC()}
		}
		if ctx.Err() != nil {
			// Failures caused by our own cancellation say nothing about
			// the URL.
			res.Canceled, res.Transient = true, true
		}
	}()
	resp, err := c.f.Fetch(ctx, rawURL)
	defer clear(resp.Body)
	res = Result{
		HTTPStatus: resp.Status,
		FinalURL:   resp.FinalURL,
		FetchedAt:  resp.FetchedAt,
	}
	if res.FetchedAt.IsZero() {
		res.FetchedAt = time.Now().UTC()
	}
	if err != nil {
		res.Outcome = OutcomeNotAccessible
		res.Failure = fetch.Classify(err)
		res.Transient = fetch.Transient(err)
		res.ContentType = resp.SniffedType
		return res
	}
	res.Outcome = OutcomeFetched

	if !looksLikeImage(resp) && isHTML(resp) {
		res.Page = true
		res.ContentType = "text/html"
		base, err := url.Parse(resp.FinalURL)
		if err != nil {
			base = nil
		}
		cands, truncated := ExtractMedia(resp.Body, base, c.opts.MaxMediaPerPage)
		clear(resp.Body) // the page is content too; the candidates are copies
		res.Truncated = truncated
		res.Media = c.collectMedia(ctx, cands)
		return res
	}

	m := c.hash(Medium{URL: rawURL, Source: "url"}, resp)
	if m.Status == MediumFailed {
		// Fetched but too large to hash: for the item, the same as a body
		// over the fetch cap.
		res.Outcome, res.Failure = OutcomeNotAccessible, m.Failure
		return res
	}
	res.ContentType = m.ContentType
	res.Media = []Medium{m}
	return res
}

// collectMedia fetches and hashes the candidates, at most PageConcurrency
// at once, keeping their order. Videos are recorded as deferred.
func (c *Collector) collectMedia(ctx context.Context, cands []Candidate) []Medium {
	media := make([]Medium, len(cands))
	sem := make(chan struct{}, c.opts.PageConcurrency)
	var wg sync.WaitGroup
	for i, cand := range cands {
		m := Medium{URL: cand.URL, Source: cand.Source, Kind: cand.Kind}
		if cand.Kind == KindVideo {
			m.Status = MediumDeferred
			media[i] = m
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer func() {
				if r := recover(); r != nil {
					m.Status, m.Failure = MediumFailed, fetch.FailureError
					media[i] = m
				}
			}()
			media[i] = c.fetchMedium(ctx, m)
		})
	}
	wg.Wait()
	return media
}

// fetchMedium fetches m.URL and hashes the response.
func (c *Collector) fetchMedium(ctx context.Context, m Medium) Medium {
	resp, err := c.f.Fetch(ctx, m.URL)
	defer clear(resp.Body)
	if err != nil {
		m.Status = MediumFailed
		m.Failure = fetch.Classify(err)
		m.HTTPStatus = resp.Status
		m.FinalURL = resp.FinalURL
		m.DeclaredType = resp.DeclaredType
		m.FetchedAt = resp.FetchedAt
		return m
	}
	return c.hash(m, resp)
}

// hash fills in m from a successful response and clears its body. The Kind
// is decided by the content: image when the hashing package recognises an
// image format, other otherwise.
func (c *Collector) hash(m Medium, resp fetch.Response) Medium {
	defer clear(resp.Body)
	m.FinalURL = resp.FinalURL
	m.HTTPStatus = resp.Status
	m.DeclaredType = resp.DeclaredType
	m.FetchedAt = resp.FetchedAt
	m.Size = int64(len(resp.Body))
	h, err := hashing.HashBytes(resp.Body, c.opts.Hashing)
	switch {
	case err == nil:
	case errors.Is(err, hashing.ErrTooManyPixels):
		m.DecodeFailure = DecodeTooManyPixels
	case errors.Is(err, hashing.ErrDecode):
		m.DecodeFailure = DecodeError
	case errors.Is(err, hashing.ErrTooLarge):
		m.Status, m.Failure = MediumFailed, fetch.FailureTooLarge
		return m
	default: // invalid hashing options: see Options.Validate
		m.Status, m.Failure = MediumFailed, fetch.FailureError
		return m
	}
	m.Status = MediumHashed
	m.Kind = KindOther
	if h.Format != "" {
		m.Kind = KindImage
	}
	m.ContentType = mediaType(h.ContentType)
	m.MD5, m.SHA1, m.SHA256 = h.MD5, h.SHA1, h.SHA256
	m.Width, m.Height = h.Width, h.Height
	if h.PDQ != nil {
		m.PDQ = h.PDQ.String()
		m.PDQQuality = h.PDQQuality
		m.Profile = string(h.Profile)
	}
	return m
}

// looksLikeImage reports whether the body starts like an image format:
// those http.DetectContentType knows (the fetcher's SniffedType), plus
// TIFF, which the hashing package decodes.
func looksLikeImage(resp fetch.Response) bool {
	b := resp.Body
	if bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")) {
		return true
	}
	return strings.HasPrefix(resp.SniffedType, "image/")
}

// isHTML reports whether a response is an HTML page: its content sniffs as
// HTML, or it is declared HTML and its text looks like markup (the
// sniffer only knows a few opening tags, so a page starting with, say,
// <meta> or a byte-order mark is missed by it).
func isHTML(resp fetch.Response) bool {
	if resp.SniffedType == "text/html" {
		return true
	}
	switch mediaType(resp.DeclaredType) {
	case "text/html", "application/xhtml+xml":
	default:
		return false
	}
	if !strings.HasPrefix(resp.SniffedType, "text/") {
		return false // binary content under an HTML label
	}
	return looksLikeMarkup(resp.Body)
}

// looksLikeMarkup reports whether the start of b has a tag: '<' followed by
// a letter, '!' or '/'.
func looksLikeMarkup(b []byte) bool {
	b = b[:min(len(b), 4096)]
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 || i+1 >= len(b) {
			return false
		}
		c := b[i+1] | 0x20
		if (c >= 'a' && c <= 'z') || b[i+1] == '!' || b[i+1] == '/' {
			return true
		}
		b = b[i+1:]
	}
}

// mediaType returns the lower-case media type of a Content-Type value,
// without parameters.
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
