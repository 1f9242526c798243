package trace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"alliance"
)

// Limits on a hosts file. A file over them is refused whole, with an error
// naming the line, so a typo cannot silently send traces elsewhere.
const (
	MaxHostsFileSize   = 4 << 20 // bytes
	MaxHostsLineLength = 4096    // bytes, without the line ending
	MaxHostsNames      = 100_000 // distinct names
)

// ParseHosts reads a hosts file in the /etc/hosts format: one address per
// line followed by one or more names ("IP name [aliases…]"), fields separated
// by spaces or tabs, '#' starting a comment, blank lines ignored. Names are
// normalised as NormalizeHost does; a name on several lines gets every
// address, in file order. IPv6 zones ("fe80::1%lo0") are dropped and
// IPv4-mapped addresses unmapped.
//
// Errors are *alliance.Error (EINVALID, or ETOOLARGE over a limit) whose
// message names the line and is safe to show to the operator.
func ParseHosts(r io.Reader) (map[string][]netip.Addr, error) {
	hosts := make(map[string][]netip.Addr)
	lr := &io.LimitedReader{R: r, N: MaxHostsFileSize + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), MaxHostsLineLength+2)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if len(line) > MaxHostsLineLength {
			return nil, alliance.Errorf(alliance.ETOOLARGE, "Hosts file, line %d: longer than %d bytes.", n, MaxHostsLineLength)
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) == 1 {
			return nil, alliance.Errorf(alliance.EINVALID, "Hosts file, line %d: an address needs at least one name.", n)
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil {
			return nil, alliance.Errorf(alliance.EINVALID, "Hosts file, line %d: invalid IP address %q.", n, clip(fields[0]))
		}
		addr = addr.Unmap().WithZone("")
		for _, f := range fields[1:] {
			if _, isIP := parseLiteral(f); isIP {
				return nil, alliance.Errorf(alliance.EINVALID, "Hosts file, line %d: %q is an address, not a name.", n, clip(f))
			}
			name, err := NormalizeHost(f)
			if err != nil {
				return nil, alliance.Errorf(alliance.EINVALID, "Hosts file, line %d: invalid host name %q.", n, clip(f))
			}
			addrs, ok := hosts[name]
			if !ok && len(hosts) >= MaxHostsNames {
				return nil, alliance.Errorf(alliance.ETOOLARGE, "Hosts file, line %d: more than %d names.", n, MaxHostsNames)
			}
			if !slices.Contains(addrs, addr) {
				hosts[name] = append(addrs, addr)
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, alliance.Errorf(alliance.ETOOLARGE, "Hosts file, line %d: longer than %d bytes.", n+1, MaxHostsLineLength)
		}
		return nil, fmt.Errorf("trace: read hosts file: %w", err)
	}
	if lr.N <= 0 {
		return nil, alliance.Errorf(alliance.ETOOLARGE, "Hosts file: larger than %d bytes.", MaxHostsFileSize)
	}
	return hosts, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// HostsResolver answers from a hosts file and passes names it lacks to a
// fallback Resolver (none: ErrNXDomain). Demos and tests use it with no
// fallback so that nothing reaches real DNS; operators can pin names with a
// fallback to the system resolver. It is safe for concurrent use.
type HostsResolver struct {
	hosts    map[string][]netip.Addr
	fallback Resolver
}

// NewHostsResolver parses a hosts file (see ParseHosts) and returns a resolver
// over it that falls back to fallback, which may be nil.
func NewHostsResolver(r io.Reader, fallback Resolver) (*HostsResolver, error) {
	hosts, err := ParseHosts(r)
	if err != nil {
		return nil, err
	}
	return &HostsResolver{hosts: hosts, fallback: fallback}, nil
}

// OpenHostsFile is NewHostsResolver on the file at path.
func OpenHostsFile(path string, fallback Resolver) (*HostsResolver, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: open hosts file: %w", err)
	}
	defer f.Close()
	return NewHostsResolver(f, fallback)
}

// Len returns the number of names in the hosts file.
func (h *HostsResolver) Len() int { return len(h.hosts) }

// LookupIP returns the addresses the hosts file gives host; an IP literal as
// is; otherwise the fallback's answer, or ErrNXDomain without a fallback.
func (h *HostsResolver) LookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, ok := parseLiteral(host); ok {
		return []netip.Addr{a}, nil
	}
	name, err := NormalizeHost(host)
	if err != nil {
		return nil, err
	}
	if addrs, ok := h.hosts[name]; ok {
		return slices.Clone(addrs), nil
	}
	if h.fallback != nil {
		return h.fallback.LookupIP(ctx, host)
	}
	return nil, fmt.Errorf("trace: lookup %s: %w (not in hosts file)", name, ErrNXDomain)
}
