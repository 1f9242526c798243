package trace

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"alliance"
)

func TestParseHosts(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string][]string
		code    string // alliance error code when an error is expected
		errLine string // text the error message must hold
	}{
		{
			name: "good",
			in:   "192.0.2.1 example.com www.example.com\n2001:db8::1\tsix.example.test\n",
			want: map[string][]string{
				"example.com":      {"192.0.2.1"},
				"www.example.com":  {"192.0.2.1"},
				"six.example.test": {"2001:db8::1"},
			},
		},
		{
			name: "comments blank lines CRLF and case",
			in:   "# hosts for tests\r\n\r\n   \n192.0.2.7  Mixed.Example.TEST.  # trailing comment\r\n#192.0.2.8 off.test\n",
			want: map[string][]string{"mixed.example.test": {"192.0.2.7"}},
		},
		{
			name: "name on several lines gets every address once",
			in:   "192.0.2.1 a.test\n2001:db8::2 a.test\n192.0.2.1 a.test\n",
			want: map[string][]string{"a.test": {"192.0.2.1", "2001:db8::2"}},
		},
		{
			name: "zone dropped and mapped address unmapped",
			in:   "fe80::1%lo0 link.test\n::ffff:192.0.2.9 mapped.test\n",
			want: map[string][]string{"link.test": {"fe80::1"}, "mapped.test": {"192.0.2.9"}},
		},
		{name: "empty", in: "", want: map[string][]string{}},
		{name: "bad IP", in: "# ok\n192.0.2.1 a.test\n192.0.2.300 b.test\n", code: alliance.EINVALID, errLine: "line 3: invalid IP address"},
		{name: "address without name", in: "192.0.2.1\n", code: alliance.EINVALID, errLine: "line 1:"},
		{name: "bad name", in: "\n192.0.2.1 bad_na*me.test\n", code: alliance.EINVALID, errLine: "line 2: invalid host name"},
		{name: "IP as name", in: "192.0.2.1 192.0.2.2\n", code: alliance.EINVALID, errLine: "line 1:"},
		{name: "line too long", in: "192.0.2.1 a.test\n192.0.2.2 " + strings.Repeat("a", MaxHostsLineLength) + ".test\n", code: alliance.ETOOLARGE, errLine: "line 2: longer than"},
		{name: "line far too long", in: "192.0.2.1 " + strings.Repeat("b", 3*MaxHostsLineLength), code: alliance.ETOOLARGE, errLine: "line 1: longer than"},
		{name: "file too large", in: strings.Repeat("# padding padding padding padding padding\n", MaxHostsFileSize/40), code: alliance.ETOOLARGE, errLine: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHosts(strings.NewReader(tt.in))
			if tt.code != "" {
				if err == nil {
					t.Fatalf("ParseHosts: no error, want %s %q", tt.code, tt.errLine)
				}
				if c := alliance.ErrorCode(err); c != tt.code {
					t.Errorf("code = %s, want %s (%v)", c, tt.code, err)
				}
				if msg := alliance.ErrorMessage(err); !strings.Contains(msg, tt.errLine) {
					t.Errorf("message %q does not hold %q", msg, tt.errLine)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHosts: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d names, want %d: %v", len(got), len(tt.want), got)
			}
			for name, want := range tt.want {
				var gotS []string
				for _, a := range got[name] {
					gotS = append(gotS, a.String())
				}
				if !slices.Equal(gotS, want) {
					t.Errorf("%s = %v, want %v", name, gotS, want)
				}
			}
		})
	}
}

type staticResolver map[string][]netip.Addr

func (s staticResolver) LookupIP(_ context.Context, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, ErrNXDomain
}

func TestHostsResolver(t *testing.T) {
	fallback := staticResolver{"fallback.test": {netip.MustParseAddr("192.0.2.99")}}
	h, err := NewHostsResolver(strings.NewReader("192.0.2.1 pinned.test\n2001:db8::1 pinned.test\n"), fallback)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := NewHostsResolver(strings.NewReader("192.0.2.1 pinned.test\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    Resolver
		host string
		want []string
		err  error
	}{
		{"from file, both families", h, "PINNED.test.", []string{"192.0.2.1", "2001:db8::1"}, nil},
		{"fallback", h, "fallback.test", []string{"192.0.2.99"}, nil},
		{"fallback misses", h, "missing.invalid", nil, ErrNXDomain},
		{"no fallback", alone, "fallback.test", nil, ErrNXDomain},
		{"IPv4 literal", alone, "198.51.100.7", []string{"198.51.100.7"}, nil},
		{"IPv6 literal in brackets", alone, "[2001:db8::5]", []string{"2001:db8::5"}, nil},
		{"invalid name", alone, "bad name.test", nil, ErrInvalidHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.r.LookupIP(context.Background(), tt.host)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			var gotS []string
			for _, a := range got {
				gotS = append(gotS, a.String())
			}
			if !slices.Equal(gotS, tt.want) {
				t.Errorf("got %v, want %v", gotS, tt.want)
			}
		})
	}
	if h.Len() != 1 {
		t.Errorf("Len = %d, want 1", h.Len())
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM.", "example.com"},
		{"a-b_c.example.test", "a-b_c.example.test"},
		{"[2001:DB8::1]", "2001:db8::1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"", ""},
		{"a..test", ""},
		{strings.Repeat("a", 64) + ".test", ""},
		{strings.Repeat("a.", 127) + "test", ""},
		{"bücher.example", ""},
		{"a/b.test", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeHost(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidHost) {
				t.Errorf("NormalizeHost(%q) = %q, %v; want ErrInvalidHost", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseHosts checks that ParseHosts never panics, that it fails only with
// a user-safe *alliance.Error naming a line (or the size), and that what it
// accepts is normalised.
func FuzzParseHosts(f *testing.F) {
	f.Add("192.0.2.1 example.com www.example.com\n")
	f.Add("# c\n\n2001:db8::1\tsix.test # x\r\n")
	f.Add("fe80::1%lo0 link.test\n")
	f.Add("192.0.2.300 bad.test\n")
	f.Fuzz(func(t *testing.T, in string) {
		hosts, err := ParseHosts(strings.NewReader(in))
		if err != nil {
			var ae *alliance.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error is not *alliance.Error: %v", err)
			}
			if !strings.Contains(ae.Message, "line ") && !strings.Contains(ae.Message, "larger than") {
				t.Fatalf("error names no line: %q", ae.Message)
			}
			return
		}
		for name, addrs := range hosts {
			if n, err := NormalizeHost(name); err != nil || n != name {
				t.Fatalf("name %q not normalised (%q, %v)", name, n, err)
			}
			if len(addrs) == 0 {
				t.Fatalf("name %q has no address", name)
			}
			for _, a := range addrs {
				if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
					t.Fatalf("name %q: bad address %v", name, a)
				}
			}
		}
	})
}
