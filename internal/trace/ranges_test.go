package trace

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"alliance"
)

func TestParseRanges(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name    string
		in      string
		want    []Range
		code    string
		errLine string
	}{
		{
			name: "good with header and comments",
			in: "cidr,country,asn,org\n# operator pins\n\n192.0.2.0/24,se,64500,Example Hosting AB\n" +
				"198.51.100.0/25,NL,AS64501,\"Example, B.V.\"\n2001:db8::/32,RU,,\n203.0.113.7,,64502,Single Host Ltd\n",
			want: []Range{
				{Prefix: p("192.0.2.0/24"), Country: "SE", ASN: 64500, ASOrg: "Example Hosting AB"},
				{Prefix: p("198.51.100.0/25"), Country: "NL", ASN: 64501, ASOrg: "Example, B.V."},
				{Prefix: p("2001:db8::/32"), Country: "RU"},
				{Prefix: p("203.0.113.7/32"), ASN: 64502, ASOrg: "Single Host Ltd"},
			},
		},
		{
			name: "short rows and spaces",
			in:   " 192.0.2.0/24 , SE \n192.0.2.128/25,DE,64500\n",
			want: []Range{
				{Prefix: p("192.0.2.0/24"), Country: "SE"},
				{Prefix: p("192.0.2.128/25"), Country: "DE", ASN: 64500},
			},
		},
		{name: "empty", in: "# nothing\n", want: nil},
		{name: "bad CIDR", in: "192.0.2.0/24,SE\n192.0.2.0/33,SE\n", code: alliance.EINVALID, errLine: "line 2: invalid CIDR"},
		{name: "host bits set", in: "192.0.2.1/24,SE\n", code: alliance.EINVALID, errLine: "did you mean 192.0.2.0/24"},
		{name: "mapped IPv6", in: "::ffff:192.0.2.0/120,SE\n", code: alliance.EINVALID, errLine: "line 1:"},
		{name: "bad country", in: "# c\n192.0.2.0/24,XX,64500\n", code: alliance.EINVALID, errLine: "line 2: invalid country code"},
		{name: "country too long", in: "192.0.2.0/24,SWE\n", code: alliance.EINVALID, errLine: "line 1: invalid country code"},
		{name: "bad asn", in: "\n\n192.0.2.0/24,SE,12x\n", code: alliance.EINVALID, errLine: "line 3: invalid AS number"},
		{name: "asn overflow", in: "192.0.2.0/24,SE,4294967296\n", code: alliance.EINVALID, errLine: "invalid AS number"},
		{name: "nothing set", in: "192.0.2.0/24,,,\n", code: alliance.EINVALID, errLine: "must set"},
		{name: "one field", in: "192.0.2.0/24\n", code: alliance.EINVALID, errLine: "line 1:"},
		{name: "duplicate", in: "192.0.2.0/24,SE\n192.0.2.0/24,NL\n", code: alliance.EINVALID, errLine: "line 2: 192.0.2.0/24 is already given on line 1"},
		{name: "unterminated quote", in: "192.0.2.0/24,SE,1,\"Open\n", code: alliance.EINVALID, errLine: "line 1: unterminated"},
		{name: "control char", in: "192.0.2.0/24,SE,1,a\x01b\n", code: alliance.EINVALID, errLine: "control"},
		{name: "header late", in: "192.0.2.0/24,SE\ncidr,country,asn,org\n", code: alliance.EINVALID, errLine: "line 2: invalid CIDR"},
		{name: "line too long", in: "192.0.2.0/24,SE,1," + strings.Repeat("x", MaxRangesLineLength) + "\n", code: alliance.ETOOLARGE, errLine: "line 1: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRanges(strings.NewReader(tt.in))
			if tt.code != "" {
				if err == nil {
					t.Fatalf("no error, want %s %q", tt.code, tt.errLine)
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
				t.Fatalf("ParseRanges: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitCSV(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "a,b,c,d", want: []string{"a", "b", "c", "d"}},
		{in: "a,b,c,d,e", want: []string{"a", "b", "c", "d,e"}},
		{in: `a,b,1,"LLC ""Q"""`, want: []string{"a", "b", "1", `LLC "Q"`}},
		{in: `"x, y",b`, want: []string{"x, y", "b"}},
		{in: "a,,", want: []string{"a", "", ""}},
		{in: "a,b,c,", want: []string{"a", "b", "c", ""}},
		{in: `a,"b`, bad: true},
		{in: `a,"b"c`, bad: true},
		{in: `a,b"c,d`, bad: true},
		{in: `a,b,c,"d",e`, bad: true},
	}
	for _, tt := range tests {
		got, err := splitCSV(tt.in, 4)
		if tt.bad {
			if err == nil {
				t.Errorf("splitCSV(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("splitCSV(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseRanges checks that ParseRanges never panics, fails only with a
// user-safe *alliance.Error naming a line (or the size), and returns only
// valid, masked, distinct ranges.
func FuzzParseRanges(f *testing.F) {
	f.Add("cidr,country,asn,org\n192.0.2.0/24,SE,64500,Example AB\n")
	f.Add("# c\n2001:db8::/32,nl,AS64501,\"Example, B.V.\"\n")
	f.Add("192.0.2.1/24,XX,x,\"\n")
	f.Add("203.0.113.7,,64502,\n")
	f.Fuzz(func(t *testing.T, in string) {
		ranges, err := ParseRanges(strings.NewReader(in))
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
		seen := map[netip.Prefix]bool{}
		for _, r := range ranges {
			if !r.Prefix.IsValid() || r.Prefix.Masked() != r.Prefix || r.Prefix.Addr().Is4In6() || seen[r.Prefix] {
				t.Fatalf("bad prefix %v", r.Prefix)
			}
			seen[r.Prefix] = true
			if r.Country != "" && !alliance.ValidCountryCode(r.Country) {
				t.Fatalf("bad country %q", r.Country)
			}
			if r.Country == "" && !r.hasAS() {
				t.Fatalf("range %v sets nothing", r.Prefix)
			}
		}
		// What parses must look up without trouble.
		db := &DB{}
		db.SetRanges(ranges)
		for _, r := range ranges {
			if got := db.Lookup(r.Prefix.Addr()); !got.Override {
				t.Fatalf("%v: override not found", r.Prefix)
			}
		}
	})
}
