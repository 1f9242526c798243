package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the IP address of the client of r, the key of the
// per-client rate limit. It is the connection's peer address; only when that
// peer is a trusted proxy (Options.TrustedProxies) is X-Forwarded-For read,
// from the right, skipping further trusted proxies: anyone can send the
// header, so only the hops our own proxies appended are believed.
func (h *api) clientAddr(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if len(h.trusted) == 0 || !h.isTrusted(peer) {
		return peer.String()
	}
	values := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, ok := parseAddr(strings.TrimSpace(hops[j]))
			if !ok {
				// Garbage in the chain: stop at the last hop we can vouch for.
				return client.String()
			}
			client = a
			if !h.isTrusted(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// isTrusted reports whether a is the address of a trusted proxy.
func (h *api) isTrusted(a netip.Addr) bool {
	for _, p := range h.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr parses "ip", "ip:port" or "[ip]:port", dropping any zone and
// unmapping IPv4-mapped IPv6 addresses, so that one client has one key.
func parseAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
