package trace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Resolver looks a host name up and returns its addresses, A and AAAA
// together. Implementations return an IP literal as is, without DNS, and wrap
// the sentinel errors of this package (ErrNXDomain, ErrNoData, ErrTimeout,
// ErrServFail, ErrInvalidHost) or return *net.DNSError so that Classify works.
// They must be safe for concurrent use.
type Resolver interface {
	LookupIP(ctx context.Context, host string) ([]netip.Addr, error)
}

// DefaultTimeout bounds one lookup when no other timeout is given.
const DefaultTimeout = 5 * time.Second

// SystemResolver resolves through the operating system's DNS configuration
// with net.Resolver (Go's own resolver where it can), each lookup bounded by a
// timeout.
type SystemResolver struct {
	resolver *net.Resolver
	timeout  time.Duration
}

// NewSystemResolver returns a SystemResolver whose lookups each take at most
// timeout (DefaultTimeout when timeout <= 0).
func NewSystemResolver(timeout time.Duration) *SystemResolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &SystemResolver{resolver: &net.Resolver{PreferGo: true}, timeout: timeout}
}

// LookupIP returns the A and AAAA addresses of host, IPv4-mapped addresses
// unmapped and duplicates removed, in the resolver's order. An empty answer is
// ErrNoData; the errors otherwise wrap both a sentinel of this package and the
// *net.DNSError.
func (s *SystemResolver) LookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, ok := parseLiteral(host); ok {
		return []netip.Addr{a}, nil
	}
	name, err := NormalizeHost(host)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	addrs, err := s.resolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, dnsError(name, err)
	}
	addrs = cleanAddrs(addrs)
	if len(addrs) == 0 {
		return nil, fmt.Errorf("trace: lookup %s: %w", name, ErrNoData)
	}
	return addrs, nil
}

// dnsError wraps a net.Resolver error with the matching sentinel.
func dnsError(name string, err error) error {
	var sentinel error
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		sentinel = ErrTimeout
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		sentinel = ErrNXDomain
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		sentinel = ErrTimeout
	case errors.As(err, &dnsErr) && dnsErr.IsTemporary:
		sentinel = ErrServFail
	default:
		return fmt.Errorf("trace: lookup %s: %w", name, err)
	}
	return fmt.Errorf("trace: lookup %s: %w: %w", name, sentinel, err)
}

// MaxHostLength is the longest host name accepted (RFC 1035: 253 characters
// without the trailing dot).
const MaxHostLength = 253

// NormalizeHost returns host lower-cased, without a trailing dot, and checks
// that it is a plausible DNS name: labels of 1 to 63 letters, digits, '-' or
// '_', 253 characters at most. Internationalised names must already be in
// their ASCII (punycode) form. IP literals are returned as the canonical text
// of the address. Errors wrap ErrInvalidHost.
func NormalizeHost(host string) (string, error) {
	if a, ok := parseLiteral(host); ok {
		return a.String(), nil
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" || len(h) > MaxHostLength {
		return "", fmt.Errorf("%w: length %d", ErrInvalidHost, len(h))
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("%w: %q: empty or over-long label", ErrInvalidHost, host)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%w: %q: character %q", ErrInvalidHost, host, c)
			}
		}
	}
	return h, nil
}

// parseLiteral reports whether host is an IP address, bare or in brackets (as
// in a URL), and returns it unmapped and without zone.
func parseLiteral(host string) (netip.Addr, bool) {
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if host == "" || !strings.ContainsAny(host, ".:") || len(host) > 64 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// cleanAddrs unmaps IPv4-mapped IPv6 addresses, drops zones, invalid and
// duplicate addresses, keeping the order, in a new slice.
func cleanAddrs(addrs []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if !a.IsValid() {
			continue
		}
		a = a.Unmap().WithZone("")
		dup := false
		for _, b := range out {
			if a == b {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// ChooseIP returns the address a trace reports: the first IPv4 address, else
// the first IPv6 one, else the zero Addr. IPv4 goes first because hosting
// data is most complete and most often acted on for IPv4, and a dual-stack
// site's IPv4 host is usually the one a notice goes to; all addresses stay in
// Result.IPs.
func ChooseIP(addrs []netip.Addr) netip.Addr {
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() {
			return a.Unmap()
		}
	}
	if len(addrs) > 0 {
		return addrs[0]
	}
	return netip.Addr{}
}
