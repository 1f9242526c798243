package fetch

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr    string
		blocked bool
	}{
		// IPv4 public.
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		{"172.32.0.1", false},
		{"192.0.3.1", false},
		// IPv4 refused.
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"10.1.2.3", true},
		{"100.64.0.1", true},
		{"127.0.0.1", true},
		{"127.9.9.9", true},
		{"169.254.169.254", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.0.0.8", true},
		{"192.0.2.10", true},
		{"192.168.1.1", true},
		{"198.18.0.1", true},
		{"198.51.100.7", true},
		{"203.0.113.9", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
		// IPv6 public.
		{"2606:4700:4700::1111", false},
		{"2a00:1450:4001::1", false},
		// IPv6 refused.
		{"::", true},
		{"::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"ff02::1", true},
		{"2001:db8::1", true},
		{"3fff::1", true},
		{"2001::1", true},
		{"100::1", true},
		{"::7f00:1", true}, // IPv4-compatible, outside 2000::/3
		// IPv4-mapped IPv6.
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:8.8.8.8", false},
		// NAT64 well-known prefix.
		{"64:ff9b::7f00:1", true},
		{"64:ff9b::a9fe:a9fe", true},
		{"64:ff9b::808:808", false},
		// 6to4.
		{"2002:7f00:1::1", true},
		{"2002:c0a8:101::1", true},
		{"2002:808:808::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := CheckAddr(netip.MustParseAddr(tt.addr))
			if got := err != nil; got != tt.blocked {
				t.Fatalf("CheckAddr(%s) = %v, want blocked=%v", tt.addr, err, tt.blocked)
			}
			if err != nil && !errors.Is(err, ErrBlocked) {
				t.Fatalf("error %v does not wrap ErrBlocked", err)
			}
		})
	}
	if err := CheckAddr(netip.Addr{}); err == nil {
		t.Fatal("zero address allowed")
	}
}

// TestControlHook checks the dial-time hook on its own: it sees the socket
// address, whatever the resolver said.
func TestControlHook(t *testing.T) {
	o := Options{AllowAddrs: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8080"), netip.MustParseAddrPort("[::1]:9090")}}
	for _, tt := range []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "127.0.0.1:8080", true},
		{"tcp4", "127.0.0.1:8081", false},
		{"tcp6", "[::1]:8080", false},
		{"tcp6", "[::1]:9090", true},
		{"tcp4", "127.0.0.1:9090", false},
		{"tcp6", "[::ffff:127.0.0.1]:8080", true},
		{"tcp4", "10.0.0.1:80", false},
		{"tcp4", "8.8.8.8:443", true},
		{"udp4", "8.8.8.8:53", false},
		{"tcp", "not-an-address", false},
	} {
		err := o.control(tt.network, tt.address, nil)
		if (err == nil) != tt.ok {
			t.Errorf("control(%s, %s) = %v, want ok=%v", tt.network, tt.address, err, tt.ok)
		}
	}
	if err := (&Options{AllowPrivate: true}).control("tcp4", "127.0.0.1:1", nil); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}

// TestOnlyAddrs checks that a fetcher restricted to one address:port (the
// demo's site) refuses every other address, public ones included, and its
// own address on another port; checked on the guard itself, so nothing is
// dialled.
func TestOnlyAddrs(t *testing.T) {
	site := netip.MustParseAddrPort("127.0.0.1:8079")
	o := Options{OnlyAddrs: []netip.AddrPort{site}, AllowPrivate: true}
	for _, tc := range []struct {
		ap string
		ok bool
	}{
		{"127.0.0.1:8079", true},
		{"[::ffff:127.0.0.1]:8079", true},
		{"127.0.0.1:8080", false},
		{"192.36.125.18:443", false}, // public: refused all the same
		{"[2001:4860:4860::8888]:443", false},
	} {
		err := o.allowed(netip.MustParseAddrPort(tc.ap))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBlocked)) {
			t.Errorf("allowed(%s) = %v, want ok=%t", tc.ap, err, tc.ok)
		}
	}
}
