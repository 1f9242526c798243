package urlnorm

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"alliance"
)

// MaxLength is the longest input, in bytes, that Canonicalize accepts. The
// canonical form must fit in it too, so a canonical URL can always be
// canonicalised again.
const MaxLength = 8192

// Field is the input field named by the errors of Canonicalize.
const Field = "url"

// URL is a canonicalised URL with what is derived from it.
type URL struct {
	// Original is the input as given, with leading and trailing spaces and
	// control characters trimmed; it is kept for evidence.
	Original string
	// Canonical is the canonical URL: ASCII only, no userinfo, no fragment,
	// no default port, and always parseable by net/url.
	Canonical string
	// Scheme is "http" or "https".
	Scheme string
	// Host is the canonical host without port: a lower-case ASCII (Punycode)
	// domain name, a dotted-quad IPv4 address, or a compressed IPv6 address
	// without brackets.
	Host string
	// Port is the port in decimal when it is not the scheme's default, and ""
	// otherwise.
	Port string
	// RegistrableDomain is the eTLD+1 of Host under the public suffix list
	// ("example.co.uk" for "a.b.example.co.uk"). It is Host itself for an IP
	// address, and for a host that is itself a public suffix or has no
	// registrable part.
	RegistrableDomain string
	// IsIP reports whether Host is an IP address literal.
	IsIP bool
	// DedupeKey is the SHA-256 of Canonical.
	DedupeKey [32]byte
}

// DedupeKeyHex returns DedupeKey in lower-case hexadecimal.
func (u URL) DedupeKeyHex() string {
	return hex.EncodeToString(u.DedupeKey[:])
}

// String returns the canonical URL.
func (u URL) String() string {
	return u.Canonical
}

// Errors of Canonicalize. Their messages are safe to show to the person who
// typed the URL.
var (
	errEmpty      = alliance.FieldErrorf(Field, "Enter a URL.")
	errTooLong    = alliance.FieldErrorf(Field, "The URL is too long (at most %d bytes).", MaxLength)
	errSlashes    = alliance.FieldErrorf(Field, "The URL is malformed: \"http:\" or \"https:\" must be followed by \"//\".")
	errNoHost     = alliance.FieldErrorf(Field, "The URL has no host name.")
	errPort       = alliance.FieldErrorf(Field, "The port must be a number from 1 to 65535.")
	errHostChars  = alliance.FieldErrorf(Field, "The host name contains characters that are not allowed in a host name.")
	errHostLength = alliance.FieldErrorf(Field, "The host name is too long.")
	errIDN        = alliance.FieldErrorf(Field, "The host name is not a valid internationalised domain name.")
	errIPv4       = alliance.FieldErrorf(Field, "The host looks like an IPv4 address but is not a valid one.")
	errIPv6       = alliance.FieldErrorf(Field, "The host is not a valid IPv6 address in brackets.")
)

// errScheme is the error for an unsupported scheme, naming it when it is short.
func errScheme(scheme string) error {
	if len(scheme) > 20 {
		return alliance.FieldErrorf(Field, "Only http and https URLs are accepted.")
	}
	return alliance.FieldErrorf(Field, "URLs with the scheme %q are not accepted; only http and https URLs are.", strings.ToLower(scheme))
}

// Canonicalize parses raw as an http or https URL and returns its canonical
// form, following the Safe Browsing rules with the deviations listed in the
// package documentation. Errors are *alliance.Error values with code EINVALID
// and field "url", whose messages say what is wrong.
func Canonicalize(raw string) (URL, error) {
	if len(raw) > MaxLength {
		return URL{}, errTooLong
	}
	s := trimSpaceControl(raw)
	if s == "" {
		return URL{}, errEmpty
	}
	u := URL{Original: s}
	s = removeTabNewline(s)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}

	scheme, rest, err := splitScheme(s)
	if err != nil {
		return URL{}, err
	}
	u.Scheme = scheme

	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	rawPath, rawQuery, hasQuery := strings.Cut(rest, "?")

	rawHost, port, err := splitAuthority(authority)
	if err != nil {
		return URL{}, err
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	u.Port = port

	h, err := canonicalHost(rawHost)
	if err != nil {
		return URL{}, err
	}
	u.Host, u.IsIP = h.name, h.isIP

	path := normalizePath(unescape(rawPath))
	var query string
	if hasQuery {
		query = unescape(rawQuery)
	}

	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(h.name) + 2 + 1 + len(port) + len(path) + 1 + len(query) + 16)
	b.WriteString(scheme)
	b.WriteString("://")
	if h.bracket {
		b.WriteByte('[')
		b.WriteString(h.name)
		b.WriteByte(']')
	} else {
		b.WriteString(h.name)
	}
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	writeEscaped(&b, path, true)
	if hasQuery {
		b.WriteByte('?')
		writeEscaped(&b, query, false)
	}
	if b.Len() > MaxLength {
		return URL{}, errTooLong
	}
	u.Canonical = b.String()
	u.DedupeKey = sha256.Sum256([]byte(u.Canonical))

	u.RegistrableDomain = u.Host
	if !u.IsIP {
		if d, err := publicsuffix.EffectiveTLDPlusOne(u.Host); err == nil {
			u.RegistrableDomain = d
		}
	}
	return u, nil
}

// trimSpaceControl trims leading and trailing spaces and ASCII control
// characters (bytes <= 0x20), as browsers do.
func trimSpaceControl(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}

// removeTabNewline removes every tab, CR and LF from s.
func removeTabNewline(s string) string {
	if strings.IndexAny(s, "\t\r\n") < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\t' && c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return string(b)
}

// splitScheme splits s into its lower-case scheme and what follows the "//".
// An input without a scheme is read as http. An input that starts like
// "example.com:8080" is a host and port, not a scheme.
func splitScheme(s string) (scheme, rest string, err error) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			continue
		}
		if i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			continue
		}
		break
	}
	if i == 0 || i == len(s) || s[i] != ':' {
		return "http", s, nil
	}
	name := s[:i]
	if strings.EqualFold(name, "http") || strings.EqualFold(name, "https") {
		after := s[i+1:]
		if !strings.HasPrefix(after, "//") {
			return "", "", errSlashes
		}
		return strings.ToLower(name), after[2:], nil
	}
	// "example.com:8080/x": a host with a port, not a scheme.
	j := i + 1
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		j++
	}
	if j > i+1 && (j == len(s) || s[j] == '/' || s[j] == '?') && strings.IndexByte(name, '.') >= 0 {
		return "http", s, nil
	}
	return "", "", errScheme(name)
}

// splitAuthority drops the userinfo of authority and splits the rest into
// the raw host (still escaped, brackets kept) and the port, normalised to
// decimal without leading zeros.
func splitAuthority(authority string) (host, port string, err error) {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host = authority
	var rawPort string
	if strings.HasPrefix(authority, "[") {
		i := strings.IndexByte(authority, ']')
		if i < 0 {
			return "", "", errIPv6
		}
		host = authority[:i+1]
		if after := authority[i+1:]; after != "" {
			if after[0] != ':' {
				return "", "", errIPv6
			}
			rawPort = after[1:]
		}
	} else if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, rawPort = authority[:i], authority[i+1:]
	}
	if host == "" {
		return "", "", errNoHost
	}
	if rawPort == "" {
		return host, "", nil
	}
	n := 0
	for i := 0; i < len(rawPort); i++ {
		c := rawPort[i]
		if c < '0' || c > '9' {
			return "", "", errPort
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return "", "", errPort
		}
	}
	if n == 0 {
		return "", "", errPort
	}
	return host, strconv.Itoa(n), nil
}
