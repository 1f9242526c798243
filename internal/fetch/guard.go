package fetch

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrBlocked is wrapped by every error the SSRF guard returns: the URL's
// scheme is not http or https, or an address it resolved to is not public.
var ErrBlocked = errors.New("fetch: refused by SSRF guard")

// blockedPrefixes are the IPv4 and IPv6 ranges that are never public
// destinations. Documentation and benchmarking ranges are blocked too: they
// are not routed on the Internet, so no legitimate target lives there, and
// blocking them keeps test addresses from leaking into real dials.
var blockedPrefixes = mustPrefixes(
	// IPv4.
	"0.0.0.0/8",       // "this network", includes unspecified
	"10.0.0.0/8",      // RFC 1918
	"100.64.0.0/10",   // CGNAT shared address space
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local (cloud metadata endpoints live here)
	"172.16.0.0/12",   // RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1 documentation
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // RFC 1918
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2 documentation
	"203.0.113.0/24",  // TEST-NET-3 documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, includes broadcast 255.255.255.255
	// IPv6 inside 2000::/3 that is still not a public destination; anything
	// outside 2000::/3 is refused separately.
	"2001::/32",     // Teredo (embeds an obfuscated IPv4 address)
	"2001:2::/48",   // benchmarking
	"2001:10::/28",  // ORCHID (deprecated)
	"2001:20::/28",  // ORCHIDv2
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation (RFC 9637)
)

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

func mustPrefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// CheckAddr returns nil if a is a public unicast address that the guard lets
// the fetcher connect to, and an error wrapping [ErrBlocked] naming the
// reason otherwise. It refuses loopback, RFC 1918 and unique-local
// (fc00::/7), link-local (169.254.0.0/16, fe80::/10), unspecified,
// multicast, broadcast and reserved addresses, CGNAT (100.64.0.0/10),
// 0.0.0.0/8, documentation and benchmarking ranges, IPv6 outside 2000::/3,
// Teredo and ORCHID, and looks inside IPv4-mapped (::ffff:0:0/96), NAT64
// (64:ff9b::/96) and 6to4 (2002::/16) addresses to judge the IPv4 address
// they carry.
func CheckAddr(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlocked)
	}
	a = a.WithZone("")
	if reason := blockReason(a); reason != "" {
		return fmt.Errorf("%w: %s address %s", ErrBlocked, reason, a)
	}
	return nil
}

func blockReason(a netip.Addr) string {
	if a.Is4In6() {
		return blockReason(a.Unmap())
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64WellKnown.Contains(a):
			return blockReason(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return blockReason(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	switch {
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.IsPrivate():
		return "private"
	case a.Is6() && !globalUnicast6.Contains(a):
		return "non-global"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return "reserved"
		}
	}
	return ""
}

// allowed reports whether the fetcher may connect to ap: always when
// AllowPrivate is set, otherwise only public addresses and the exact
// address:port pairs in Options.AllowAddrs. IPv4-mapped IPv6 forms compare
// equal to their IPv4 address; zones are ignored.
//
// With Options.OnlyAddrs set, only those pairs are allowed, whatever else is.
func (o *Options) allowed(ap netip.AddrPort) error {
	if len(o.OnlyAddrs) > 0 {
		if containsAddrPort(o.OnlyAddrs, ap) {
			return nil
		}
		return fmt.Errorf("%w: %s is not the one address this fetcher may reach", ErrBlocked, ap)
	}
	if o.AllowPrivate || containsAddrPort(o.AllowAddrs, ap) {
		return nil
	}
	return CheckAddr(ap.Addr())
}

// containsAddrPort reports whether list holds ap. IPv4-mapped IPv6 forms
// compare equal to their IPv4 address; zones are ignored.
func containsAddrPort(list []netip.AddrPort, ap netip.AddrPort) bool {
	a := ap.Addr().WithZone("").Unmap()
	for _, x := range list {
		if x.IsValid() && x.Port() == ap.Port() && x.Addr().WithZone("").Unmap() == a {
			return true
		}
	}
	return false
}

// control is the net.Dialer Control hook: it checks the address of the
// socket about to connect, the last point before any packet leaves.
func (o *Options) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %q", ErrBlocked, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable dial address %q", ErrBlocked, address)
	}
	return o.allowed(ap)
}
