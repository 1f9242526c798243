package urlnorm

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// idnaProfile maps and converts internationalised host names as browsers do
// (UTS #46 lookup, non-transitional, Bidi and joiner rules), but allows the
// ASCII characters outside letters, digits and '-' that occur in real host
// names ('_' above all) and labels with hyphens in the third and fourth place.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// host is a canonical host.
type host struct {
	name    string // as in URL.Host: no brackets
	isIP    bool
	bracket bool // an IPv6 address, written in brackets in the URL
}

// canonicalHost canonicalises raw, a host as it appears in the URL: still
// percent-escaped, with brackets around an IPv6 address.
func canonicalHost(raw string) (host, error) {
	if raw[0] == '[' {
		return canonicalIPv6(raw)
	}
	h := collapseDots(unescape(raw))
	if !isASCII(h) {
		if !utf8.ValidString(h) {
			return host{}, errHostChars
		}
		a, err := idnaProfile.ToASCII(h)
		if err != nil {
			return host{}, errIDN
		}
		h = collapseDots(a)
	}
	h = lowerASCII(h)
	if h == "" {
		return host{}, errNoHost
	}
	if endsInNumber(h) {
		ip, ok := parseIPv4(h)
		if !ok {
			return host{}, errIPv4
		}
		return host{name: ip.String(), isIP: true}, nil
	}
	if len(h) > 253 {
		return host{}, errHostLength
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c == '.' {
			label = 0
			continue
		}
		if label++; label > 63 {
			return host{}, errHostLength
		}
		if !isRegNameChar(c) {
			return host{}, errHostChars
		}
	}
	return host{name: h}, nil
}

// canonicalIPv6 canonicalises a bracketed IPv6 address. IPv4-mapped and
// NAT64 (64:ff9b::/96) addresses become their IPv4 address.
func canonicalIPv6(raw string) (host, error) {
	if len(raw) < 2 || raw[len(raw)-1] != ']' {
		return host{}, errIPv6
	}
	addr, err := netip.ParseAddr(unescape(raw[1 : len(raw)-1]))
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return host{}, errIPv6
	}
	if addr.Is4In6() {
		return host{name: addr.Unmap().String(), isIP: true}, nil
	}
	if b := addr.As16(); nat64.Contains(addr) {
		return host{name: netip.AddrFrom4([4]byte(b[12:])).String(), isIP: true}, nil
	}
	return host{name: addr.String(), isIP: true, bracket: true}, nil
}

// nat64 is the NAT64 well-known prefix (RFC 6052).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// collapseDots removes leading and trailing dots from s and replaces each run
// of dots with one.
func collapseDots(s string) string {
	s = strings.Trim(s, ".")
	if !strings.Contains(s, "..") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '.' && s[i-1] == '.' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// isASCII reports whether s holds only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases the ASCII letters of s.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// isRegNameChar reports whether the lower-case byte c may appear in a host
// name: the unreserved and sub-delims characters of RFC 3986 (reg-name),
// which are also allowed by the WHATWG URL standard and net/url.
func isRegNameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=", c) >= 0
}

// endsInNumber reports whether the last label of the host h is a number, so
// that h must be read as an IPv4 address (WHATWG URL standard).
func endsInNumber(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	digits := true
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			digits = false
			break
		}
	}
	if digits {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4 parses h as an IPv4 address in any legal encoding: one to four
// parts, each decimal, octal (leading 0) or hex (leading 0x), the last part
// filling the remaining bytes ("3279880203", "0x7f.1", "012.034.01.055").
func parseIPv4(h string) (netip.Addr, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		bits := 8 * uint(5-len(parts))
		if n >= 1<<bits {
			return netip.Addr{}, false
		}
		v = v<<bits | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number parses one part of an IPv4 address: hex after "0x", octal
// after a leading "0", decimal otherwise. Values over 32 bits fail.
func parseIPv4Number(s string) (uint64, bool) {
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	case s == "":
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := unhex(s[i])
		if !ok || uint64(d) >= base {
			return 0, false
		}
		if v = v*base + uint64(d); v > 0xFFFFFFFF {
			return 0, false
		}
	}
	return v, true
}
