package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"alliance"
)

// Limits on an operator ranges file.
const (
	MaxRangesFileSize   = 16 << 20 // bytes
	MaxRangesLineLength = 1024     // bytes, without the line ending
	MaxRanges           = 200_000  // rows
	MaxASOrgLength      = 256      // bytes of an organisation name
)

// Range is one operator override: addresses in Prefix are reported with the
// given Country, ASN and ASOrg instead of the bundled data. An empty Country
// keeps the bundled country; ASN 0 with an empty ASOrg keeps the bundled AS
// (otherwise both come from the Range, so an AS number never carries another
// AS's name).
type Range struct {
	Prefix  netip.Prefix // masked; IPv4 prefixes are plain IPv4, never IPv4-mapped
	Country string       // ISO 3166-1 alpha-2, upper case, or ""
	ASN     uint32       // 0: none given
	ASOrg   string       // "" : none given
}

func (r Range) hasAS() bool { return r.ASN != 0 || r.ASOrg != "" }

// rangesHeader is the optional first row of a ranges file.
const rangesHeader = "cidr,country,asn,org"

// ParseRanges reads an operator ranges file: CSV rows "cidr,country,asn,org",
// an optional header row "cidr,country,asn,org", '#' comment lines and blank
// lines allowed. cidr is a network such as 192.0.2.0/24 or 2001:db8::/32 (a
// bare address means that one host); country an ISO 3166-1 alpha-2 code (any
// case) or empty; asn a number, "AS" prefix allowed, or empty; org free text,
// quoted if it holds a comma, or empty. Trailing empty fields may be left out,
// but each row must set a country or an AS. A prefix may appear once.
//
// Errors are *alliance.Error (EINVALID, or ETOOLARGE over a limit) whose
// message names the line and is safe to show to the operator.
func ParseRanges(r io.Reader) ([]Range, error) {
	var out []Range
	seen := make(map[netip.Prefix]int)
	lr := &io.LimitedReader{R: r, N: MaxRangesFileSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), MaxRangesLineLength+2)
	n := 0
	rows := false // a row (or the header) was seen: no header after this
	bad := func(format string, args ...any) error {
		return alliance.Errorf(alliance.EINVALID, "Ranges file, line %d: "+format, append([]any{n}, args...)...)
	}
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if len(line) > MaxRangesLineLength {
			return nil, alliance.Errorf(alliance.ETOOLARGE, "Ranges file, line %d: longer than %d bytes.", n, MaxRangesLineLength)
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if !rows && strings.EqualFold(strings.ReplaceAll(line, " ", ""), rangesHeader) {
			rows = true
			continue
		}
		rows = true
		fields, err := splitCSV(line, 4)
		if err != nil {
			return nil, bad("%s.", err)
		}
		if len(fields) < 2 {
			return nil, bad("expected cidr,country,asn,org.")
		}
		for len(fields) < 4 {
			fields = append(fields, "")
		}
		rg, err := parseRangeFields(fields)
		if err != nil {
			return nil, bad("%s.", err)
		}
		if prev, dup := seen[rg.Prefix]; dup {
			return nil, bad("%s is already given on line %d.", rg.Prefix, prev)
		}
		if len(out) >= MaxRanges {
			return nil, alliance.Errorf(alliance.ETOOLARGE, "Ranges file, line %d: more than %d ranges.", n, MaxRanges)
		}
		seen[rg.Prefix] = n
		out = append(out, rg)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, alliance.Errorf(alliance.ETOOLARGE, "Ranges file, line %d: longer than %d bytes.", n+1, MaxRangesLineLength)
		}
		return nil, fmt.Errorf("trace: read ranges file: %w", err)
	}
	if lr.N <= 0 {
		return nil, alliance.Errorf(alliance.ETOOLARGE, "Ranges file: larger than %d bytes.", MaxRangesFileSize)
	}
	return out, nil
}

// parseRangeFields validates the four fields of one row; the error text is
// safe to show.
func parseRangeFields(f []string) (Range, error) {
	var rg Range
	cidr := f[0]
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		a, aerr := netip.ParseAddr(cidr)
		if aerr != nil || a.Zone() != "" {
			return Range{}, fmt.Errorf("invalid CIDR %q", clip(cidr))
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return Range{}, fmt.Errorf("%q is an IPv4-mapped IPv6 network; write it as IPv4", clip(cidr))
	}
	if m := p.Masked(); m != p {
		return Range{}, fmt.Errorf("%q has host bits set; did you mean %s?", clip(cidr), m)
	}
	rg.Prefix = p
	if cc := strings.ToUpper(f[1]); cc != "" {
		if !alliance.ValidCountryCode(cc) {
			return Range{}, fmt.Errorf("invalid country code %q (want ISO 3166-1 alpha-2, such as SE)", clip(f[1]))
		}
		rg.Country = cc
	}
	if s := f[2]; s != "" {
		if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
			s = s[2:]
		}
		asn, err := strconv.ParseUint(s, 10, 32)
		if err != nil || asn == 0 {
			return Range{}, fmt.Errorf("invalid AS number %q (want 1 to 4294967295)", clip(f[2]))
		}
		rg.ASN = uint32(asn)
	}
	org := f[3]
	if len(org) > MaxASOrgLength {
		return Range{}, fmt.Errorf("organisation name longer than %d bytes", MaxASOrgLength)
	}
	if strings.ContainsFunc(org, unicode.IsControl) || !utf8.ValidString(org) {
		return Range{}, errors.New("organisation name holds control characters or invalid UTF-8")
	}
	rg.ASOrg = org
	if rg.Country == "" && !rg.hasAS() {
		return Range{}, errors.New("a range must set a country, an AS number or an organisation")
	}
	return rg, nil
}

// overrideTable finds the longest operator prefix holding an address: one map
// per family keyed by prefix, probed from the longest length in use to the
// shortest, so a lookup costs one map probe per distinct prefix length.
type overrideTable struct {
	byPrefix   map[netip.Prefix]*Range
	lens4      []int // distinct IPv4 prefix lengths, longest first
	lens6      []int // distinct IPv6 prefix lengths, longest first
	rangeCount int
}

func newOverrideTable(ranges []Range) *overrideTable {
	t := &overrideTable{byPrefix: make(map[netip.Prefix]*Range, len(ranges)), rangeCount: len(ranges)}
	for i := range ranges {
		r := &ranges[i]
		r.Prefix = r.Prefix.Masked()
		t.byPrefix[r.Prefix] = r
		if r.Prefix.Addr().Is4() {
			if !slices.Contains(t.lens4, r.Prefix.Bits()) {
				t.lens4 = append(t.lens4, r.Prefix.Bits())
			}
		} else if !slices.Contains(t.lens6, r.Prefix.Bits()) {
			t.lens6 = append(t.lens6, r.Prefix.Bits())
		}
	}
	slices.SortFunc(t.lens4, func(a, b int) int { return b - a })
	slices.SortFunc(t.lens6, func(a, b int) int { return b - a })
	return t
}

// lookup returns the longest-prefix Range holding addr, or nil.
func (t *overrideTable) lookup(addr netip.Addr) *Range {
	if t == nil || len(t.byPrefix) == 0 {
		return nil
	}
	lens := t.lens6
	if addr.Is4() {
		lens = t.lens4
	}
	for _, l := range lens {
		p, err := addr.Prefix(l)
		if err != nil {
			continue
		}
		if r, ok := t.byPrefix[p]; ok {
			return r
		}
	}
	return nil
}
