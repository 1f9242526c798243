package trace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// asnTable maps inclusive IP ranges to an AS number and organisation, as read
// from the ip-location-db ASN CSV ("first_ip,last_ip,asn,organisation").
// Ranges are sorted and disjoint; a lookup is a binary search.
type asnTable struct {
	v4   []asnRange4
	v6   []asnRange6
	orgs []string // organisation names, interned; index 0 is ""
}

type asnRange4 struct {
	first, last uint32
	asn, org    uint32
}

type asnRange6 struct {
	first, last u128
	asn, org    uint32
}

// u128 is an IPv6 address as two big-endian halves, for ordered comparison.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func addrU128(a netip.Addr) u128 {
	b := a.As16()
	var u u128
	for i := range 8 {
		u.hi = u.hi<<8 | uint64(b[i])
		u.lo = u.lo<<8 | uint64(b[8+i])
	}
	return u
}

func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// maxASNLine bounds one line of the ASN CSV.
const maxASNLine = 4096

// parseASNTable reads the ASN CSV, plain or gzipped. Rows may come in any
// order; overlapping ranges are clipped so that the later-starting (more
// specific) one wins where they overlap.
func parseASNTable(data []byte) (*asnTable, error) {
	var r io.Reader = bytes.NewReader(data)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("trace: asn data: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	t := &asnTable{orgs: []string{""}}
	orgIndex := map[string]uint32{"": 0}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxASNLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		fields, err := splitCSV(line, 4)
		if err != nil || len(fields) < 3 {
			return nil, fmt.Errorf("trace: asn data, line %d: malformed row", n)
		}
		first, err1 := netip.ParseAddr(fields[0])
		last, err2 := netip.ParseAddr(fields[1])
		asn, err3 := strconv.ParseUint(fields[2], 10, 32)
		if err := errors.Join(err1, err2, err3); err != nil {
			if n == 1 { // a header row
				continue
			}
			return nil, fmt.Errorf("trace: asn data, line %d: %w", n, err)
		}
		first, last = first.Unmap(), last.Unmap()
		if first.Is4() != last.Is4() || last.Less(first) {
			return nil, fmt.Errorf("trace: asn data, line %d: bad range %s-%s", n, first, last)
		}
		org := ""
		if len(fields) == 4 {
			org = fields[3]
		}
		oi, ok := orgIndex[org]
		if !ok {
			oi = uint32(len(t.orgs))
			t.orgs = append(t.orgs, org)
			orgIndex[org] = oi
		}
		if first.Is4() {
			t.v4 = append(t.v4, asnRange4{addrU32(first), addrU32(last), uint32(asn), oi})
		} else {
			t.v6 = append(t.v6, asnRange6{addrU128(first), addrU128(last), uint32(asn), oi})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace: asn data, line %d: %w", n+1, err)
	}
	t.normalise()
	return t, nil
}

// normalise sorts the ranges and clips overlaps.
func (t *asnTable) normalise() {
	slices.SortStableFunc(t.v4, func(a, b asnRange4) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	for i := 0; i+1 < len(t.v4); i++ {
		if t.v4[i].last >= t.v4[i+1].first {
			if t.v4[i+1].first == t.v4[i].first {
				t.v4 = slices.Delete(t.v4, i, i+1) // same start: keep the later row
				i--
				continue
			}
			t.v4[i].last = t.v4[i+1].first - 1
		}
	}
	slices.SortStableFunc(t.v6, func(a, b asnRange6) int {
		switch {
		case a.first.less(b.first):
			return -1
		case b.first.less(a.first):
			return 1
		}
		return 0
	})
	for i := 0; i+1 < len(t.v6); i++ {
		if !t.v6[i].last.less(t.v6[i+1].first) {
			if t.v6[i+1].first == t.v6[i].first {
				t.v6 = slices.Delete(t.v6, i, i+1)
				i--
				continue
			}
			nf := t.v6[i+1].first
			if nf.lo == 0 {
				nf.hi--
			}
			nf.lo--
			t.v6[i].last = nf
		}
	}
}

// lookup returns the AS number and organisation of addr, or 0 and "".
func (t *asnTable) lookup(addr netip.Addr) (uint32, string) {
	if t == nil {
		return 0, ""
	}
	if addr.Is4() {
		ip := addrU32(addr)
		i, _ := slices.BinarySearchFunc(t.v4, ip, func(r asnRange4, ip uint32) int {
			if r.first <= ip {
				return -1
			}
			return 1
		})
		if i > 0 && t.v4[i-1].last >= ip {
			r := t.v4[i-1]
			return r.asn, t.orgs[r.org]
		}
		return 0, ""
	}
	ip := addrU128(addr)
	i, _ := slices.BinarySearchFunc(t.v6, ip, func(r asnRange6, ip u128) int {
		if !ip.less(r.first) {
			return -1
		}
		return 1
	})
	if i > 0 && !t.v6[i-1].last.less(ip) {
		r := t.v6[i-1]
		return r.asn, t.orgs[r.org]
	}
	return 0, ""
}

// splitCSV splits one CSV line into at most max fields (the last takes the
// rest of the line), with RFC 4180 quoting: a field in double quotes may hold
// commas, and "" inside it stands for one quote. Fields are trimmed of
// surrounding spaces outside quotes.
func splitCSV(line string, max int) ([]string, error) {
	var fields []string
	for {
		line = strings.TrimLeft(line, " \t")
		if len(fields) == max-1 && (line == "" || line[0] != '"') {
			return append(fields, strings.TrimSpace(line)), nil
		}
		var field string
		if strings.HasPrefix(line, "\"") {
			var b strings.Builder
			i := 1
			for {
				j := strings.IndexByte(line[i:], '"')
				if j < 0 {
					return nil, errors.New("unterminated quoted field")
				}
				b.WriteString(line[i : i+j])
				i += j + 1
				if i < len(line) && line[i] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			field = b.String()
			line = strings.TrimLeft(line[i:], " \t")
			if line != "" && line[0] != ',' {
				return nil, errors.New("text after a quoted field")
			}
		} else {
			j := strings.IndexByte(line, ',')
			if j < 0 {
				j = len(line)
			}
			if strings.IndexByte(line[:j], '"') >= 0 {
				return nil, errors.New("quote inside an unquoted field")
			}
			field = strings.TrimSpace(line[:j])
			line = line[j:]
		}
		fields = append(fields, field)
		if line == "" {
			return fields, nil
		}
		line = line[1:] // the comma
		if len(fields) == max {
			return nil, errors.New("too many fields")
		}
	}
}
