package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"peer", nil, "192.0.2.7:5555", nil, "192.0.2.7"},
		{"IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv4-mapped peer", nil, "[::ffff:192.0.2.7]:1", nil, "192.0.2.7"},
		{"header ignored by default", nil, "192.0.2.7:5555", []string{"198.51.100.1"}, "192.0.2.7"},
		{"header ignored from untrusted peer", proxies, "192.0.2.7:5555", []string{"198.51.100.1"}, "192.0.2.7"},
		{"trusted proxy", proxies, "10.1.2.3:5555", []string{"198.51.100.1"}, "198.51.100.1"},
		{"rightmost untrusted hop", proxies, "10.1.2.3:5555", []string{"203.0.113.9, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several headers", proxies, "10.1.2.3:5555", []string{"203.0.113.9", "198.51.100.1"}, "198.51.100.1"},
		{"forged prefix is skipped", proxies, "10.1.2.3:5555", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"garbage stops at last trusted hop", proxies, "10.1.2.3:5555", []string{"198.51.100.1, nonsense"}, "10.1.2.3"},
		{"all hops trusted", proxies, "10.1.2.3:5555", []string{"fd00::5, 10.0.0.1"}, "fd00::5"},
		{"no header from trusted proxy", proxies, "10.1.2.3:5555", nil, "10.1.2.3"},
		{"unparsable peer", nil, "pipe", nil, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &api{trusted: tt.trusted}
			r := httptest.NewRequestWithContext(t.Context(), "POST", "/api/v1/reports", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := h.clientAddr(r); got != tt.want {
				t.Errorf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
