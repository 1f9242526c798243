package media

import (
	"bytes"
	"net/url"
	"path"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/idna"
)

// Extraction limits. A page is already bounded by the fetcher's size cap;
// these keep the work on it bounded too, whatever its shape.
const (
	// MaxTokens is the most HTML tokens ExtractMedia scans; a longer page
	// is cut there and reported truncated.
	MaxTokens = 200_000
	// MaxURLLen is the longest attribute value taken as a URL; longer ones
	// (inline data, junk) are skipped.
	MaxURLLen = 4096
	// maxSrcsetLen is the longest srcset value parsed.
	maxSrcsetLen = 64 << 10
)

// imageExts are the path extensions that make an a href a media candidate.
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true,
	".bmp": true, ".tif": true, ".tiff": true,
}

// ExtractMedia returns the media URLs of an HTML page in page order:
// img src, srcset and data-src; picture/source srcset; a href whose path
// ends in an image extension; og:image, og:image:url, og:image:secure_url
// and twitter:image meta tags; video src and poster; and source src inside
// video or audio. Each URL is resolved against the page's first
// <base href> (from where it appears) or else base, stripped of its
// fragment and kept only if it is http or https; data: URLs and references
// to the page itself are dropped, and duplicates keep their first place.
//
// At most limit candidates are returned (limit <= 0 means
// DefaultMaxMediaPerPage); truncated is true when the page had more, or was
// longer than MaxTokens tokens and was not scanned to its end. The page is
// tokenized as a stream, without building a tree, so malformed, deeply
// nested or invalid UTF-8 input costs no more than well-formed input. page
// is only read; the candidates hold copies, never slices of it.
func ExtractMedia(page []byte, base *url.URL, limit int) (cands []Candidate, truncated bool) {
	if limit <= 0 {
		limit = DefaultMaxMediaPerPage
	}
	e := extractor{base: base, limit: limit, seen: make(map[string]struct{}), rawSeen: make(map[string]struct{}), linkSeen: make(map[string]struct{})}
	if base != nil {
		// A reference to the page itself (src="", "#") is not a medium.
		self := *base
		self.Scheme, self.Host = strings.ToLower(self.Scheme), strings.ToLower(self.Host)
		self.Fragment, self.RawFragment = "", ""
		e.seen[self.String()] = struct{}{}
	}
	z := html.NewTokenizer(bytes.NewReader(page))
	var mediaDepth, pictureDepth int // open video/audio and picture elements
	for tokens := 0; !e.full; tokens++ {
		if tokens >= MaxTokens {
			return e.cands, true
		}
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF at the end of the page; nothing else is expected from a
			// bytes.Reader without a buffer limit, and either way the scan
			// ends with what was found.
			return e.cands, e.truncated
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Video, atom.Audio:
				mediaDepth = max(0, mediaDepth-1)
			case atom.Picture:
				pictureDepth = max(0, pictureDepth-1)
			}
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
		default:
			continue
		}
		name, hasAttr := z.TagName()
		tag := atom.Lookup(name) // no allocation, unlike string(name)
		if tt == html.StartTagToken {
			switch tag {
			case atom.Video, atom.Audio:
				mediaDepth++
			case atom.Picture:
				pictureDepth++
			}
		}
		if !hasAttr {
			continue
		}
		switch tag {
		case atom.Base, atom.Img, atom.Source, atom.A, atom.Meta, atom.Video, atom.Audio:
		default:
			continue
		}
		a := readAttrs(z)
		switch tag {
		case atom.Base:
			e.setBase(a.href)
		case atom.Img:
			e.add(a.src, "img", KindImage)
			e.addSrcset(a.srcset, KindImage)
			e.add(a.dataSrc, "data-src", KindImage)
		case atom.Source:
			e.addSrcset(a.srcset, KindImage)
			if mediaDepth > 0 || pictureDepth == 0 {
				// A source's src belongs to a video or audio element.
				e.add(a.src, "source", KindVideo)
			}
		case atom.A:
			if firstSeen(e.linkSeen, a.href) {
				if u, ok := e.resolve(a.href); ok && hasImageExt(u) {
					e.addResolved(u, "a", KindImage)
				}
			}
		case atom.Meta:
			switch prop := strings.ToLower(strings.TrimSpace(firstNonEmpty(a.property, a.name))); prop {
			case "og:image", "og:image:url", "og:image:secure_url":
				e.add(a.content, "og:image", KindImage)
			case "twitter:image", "twitter:image:src":
				e.add(a.content, "twitter:image", KindImage)
			}
		case atom.Video, atom.Audio:
			e.add(a.poster, "poster", KindImage)
			e.add(a.src, tag.String(), KindVideo)
		}
	}
	return e.cands, e.truncated
}

// attrs holds the attributes ExtractMedia reads; values too long to be a
// URL are left empty.
type attrs struct {
	src, srcset, dataSrc, href, poster, property, name, content string
}

func readAttrs(z *html.Tokenizer) attrs {
	var a attrs
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		limit := MaxURLLen
		var dst *string
		switch string(k) {
		case "src":
			dst = &a.src
		case "srcset":
			dst, limit = &a.srcset, maxSrcsetLen
		case "data-src":
			dst = &a.dataSrc
		case "href":
			dst = &a.href
		case "poster":
			dst = &a.poster
		case "property":
			dst = &a.property
		case "name":
			dst = &a.name
		case "content":
			dst = &a.content
		default:
			continue
		}
		// The first occurrence of an attribute wins, as in browsers.
		if *dst == "" && len(v) <= limit {
			*dst = string(v)
		}
	}
	return a
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// extractor accumulates candidates in order, without duplicates.
type extractor struct {
	base      *url.URL
	baseSet   bool // a <base href> was seen; only the first counts
	limit     int
	seen      map[string]struct{}
	rawSeen   map[string]struct{} // media attribute values already handled, to skip re-parsing repeats
	linkSeen  map[string]struct{} // the same for a href, kept apart: a link is filtered by extension
	cands     []Candidate
	full      bool // limit reached and one more distinct candidate seen
	truncated bool
}

func (e *extractor) setBase(href string) {
	if e.baseSet || strings.TrimSpace(href) == "" {
		return
	}
	e.baseSet = true
	clear(e.rawSeen) // the same value may now resolve elsewhere
	clear(e.linkSeen)
	if s, ok := e.resolve(href); ok {
		if u, err := url.Parse(s); err == nil {
			e.base = u
		}
	}
}

// resolve turns an attribute value into an absolute http(s) URL without
// fragment, or reports false.
func (e *extractor) resolve(raw string) (string, bool) {
	// Browsers strip surrounding whitespace and drop tabs and newlines
	// anywhere in a URL.
	raw = strings.TrimSpace(raw)
	if strings.ContainsAny(raw, "\t\n\r") {
		raw = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(raw)
	}
	if raw == "" || len(raw) > MaxURLLen || hasPrefixFold(raw, "data:") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	if e.base != nil {
		u = e.base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return "", false
	}
	if u.Host == "" || u.Opaque != "" {
		return "", false
	}
	// Scheme and host are case-insensitive: lower-cased, equal URLs
	// de-duplicate. A non-ASCII host name is converted to its ASCII
	// (punycode) form, as a browser would.
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if !isASCII(u.Host) {
		h, err := idna.Lookup.ToASCII(u.Hostname())
		if err != nil {
			return "", false
		}
		if p := u.Port(); p != "" {
			h += ":" + p
		}
		u.Host = h
	}
	// url.URL.String escapes the path but keeps the query as written;
	// escape it as a browser does, so that the URL is valid UTF-8 and
	// printable wherever it is stored or shown.
	u.RawQuery = escapeQuery(u.RawQuery)
	u.Fragment, u.RawFragment = "", ""
	s := u.String()
	if len(s) > MaxURLLen || !isPrintableASCII(s) {
		return "", false
	}
	// url.Parse accepts some hosts whose String form does not parse again
	// (e.g. "//::"); only URLs that round-trip are handed on.
	if v, err := url.Parse(s); err != nil || v.Host == "" {
		return "", false
	}
	return s, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// escapeQuery percent-encodes the bytes of a query that the URL standard's
// query percent-encode set names (controls, space, '"', '<', '>', the
// single quote and all non-ASCII bytes), leaving existing escapes alone.
func escapeQuery(q string) string {
	n := 0
	for i := 0; i < len(q); i++ {
		if queryEscaped(q[i]) {
			n++
		}
	}
	if n == 0 {
		return q
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(q)+2*n)
	for i := 0; i < len(q); i++ {
		if c := q[i]; queryEscaped(c) {
			b = append(b, '%', hex[c>>4], hex[c&0x0f])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func queryEscaped(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\''
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (e *extractor) add(raw, source string, kind Kind) {
	if raw == "" || e.full || !firstSeen(e.rawSeen, raw) {
		return
	}
	if u, ok := e.resolve(raw); ok {
		e.addResolved(u, source, kind)
	}
}

// firstSeen reports whether the attribute value raw is new in seen, and
// records it, so that a value repeated thousands of times is parsed once.
func firstSeen(seen map[string]struct{}, raw string) bool {
	if _, dup := seen[raw]; dup {
		return false
	}
	seen[raw] = struct{}{}
	return true
}

func (e *extractor) addResolved(u, source string, kind Kind) {
	if e.full {
		return
	}
	if _, dup := e.seen[u]; dup {
		return
	}
	if len(e.cands) >= e.limit {
		e.full, e.truncated = true, true
		return
	}
	e.seen[u] = struct{}{}
	e.cands = append(e.cands, Candidate{URL: u, Source: source, Kind: kind})
}

// addSrcset adds every URL of a srcset value, parsed as the HTML standard
// does: a URL is a run of non-space characters (so a data: URL's comma
// stays inside it), trailing commas end it, and descriptors run to the
// next comma outside parentheses.
func (e *extractor) addSrcset(s string, kind Kind) {
	for i := 0; i < len(s) && !e.full; {
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		u := s[start:i]
		if trimmed := strings.TrimRight(u, ","); len(trimmed) < len(u) {
			e.add(trimmed, "srcset", kind)
			continue
		}
		for depth := 0; i < len(s); i++ {
			c := s[i]
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if c == ',' && depth == 0 {
				i++
				break
			}
		}
		e.add(u, "srcset", kind)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// hasImageExt reports whether the URL's path ends in an image extension.
func hasImageExt(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return imageExts[strings.ToLower(path.Ext(u.Path))]
}
