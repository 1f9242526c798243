package trace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeResolver answers from a table, the way a test DNS would: it counts
// calls per name, tracks how many lookups run at once, and can wait a while
// before answering.
type fakeResolver struct {
	answers  map[string][]netip.Addr
	errs     map[string]error
	delay    time.Duration
	mu       sync.Mutex
	calls    map[string]int
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][]netip.Addr{}, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeResolver) LookupIP(ctx context.Context, host string) ([]netip.Addr, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls[host]++
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("fake: %w", ctx.Err())
		}
	}
	if err, ok := f.errs[host]; ok {
		if errors.Is(err, ErrTimeout) { // a server that never answers
			<-ctx.Done()
			return nil, fmt.Errorf("fake: %w", ctx.Err())
		}
		return nil, err
	}
	if a, ok := f.answers[host]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("fake: %s: %w", host, ErrNXDomain)
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestTrace(t *testing.T) {
	db := defaultDB(t)
	fr := newFakeResolver()
	fr.answers["se.example.test"] = addrs(ExampleSE)
	fr.answers["dual.example.test"] = addrs(ExampleNL6, ExampleNL6, "::ffff:"+ExampleRU, ExampleNL)
	fr.answers["v6.example.test"] = addrs(ExampleSE6, ExampleNL6)
	fr.answers["private.example.test"] = addrs("10.0.0.1")
	fr.answers["empty.example.test"] = nil
	fr.errs["nodata.example.test"] = fmt.Errorf("fake: %w", ErrNoData)
	fr.errs["slow.example.test"] = ErrTimeout
	fr.errs["servfail.example.test"] = fmt.Errorf("fake: %w", ErrServFail)
	fr.errs["dnserr.example.test"] = &net.DNSError{Err: "no such host", Name: "dnserr.example.test", IsNotFound: true}
	tr := &Tracer{Resolver: fr, DB: db, Timeout: 50 * time.Millisecond}

	tests := []struct {
		host      string
		status    Status
		transient bool
		ip        string
		ips       int
		country   string
		asn       uint32
	}{
		{"se.example.test", StatusOK, false, ExampleSE, 1, "SE", 1653},
		{"SE.Example.TEST.", StatusOK, false, ExampleSE, 1, "SE", 1653},
		{"dual.example.test", StatusOK, false, ExampleRU, 3, "RU", 13238}, // first IPv4 (unmapped) wins over earlier IPv6
		{"v6.example.test", StatusOK, false, ExampleSE6, 2, "SE", 1653},
		{ExampleNL, StatusOK, false, ExampleNL, 1, "NL", 3333},                // IP literal: no DNS
		{"[" + ExampleRU6 + "]", StatusOK, false, ExampleRU6, 1, "RU", 13238}, // bracketed IPv6 literal
		{"private.example.test", StatusOK, false, "10.0.0.1", 1, "", 0},
		{"missing.example.invalid", StatusNXDomain, false, "", 0, "", 0},
		{"dnserr.example.test", StatusNXDomain, false, "", 0, "", 0},
		{"nodata.example.test", StatusNoData, false, "", 0, "", 0},
		{"empty.example.test", StatusNoData, false, "", 0, "", 0},
		{"slow.example.test", StatusTimeout, true, "", 0, "", 0},
		{"servfail.example.test", StatusError, true, "", 0, "", 0},
		{"bad host.example.test", StatusError, false, "", 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got := tr.Trace(context.Background(), tt.host)
			if got.Host != tt.host || got.Status != tt.status || got.Transient != tt.transient {
				t.Fatalf("Trace = %+v; want status %q transient %v", got, tt.status, tt.transient)
			}
			if (got.Err == nil) != (tt.status == StatusOK) {
				t.Errorf("Err = %v with status %q", got.Err, got.Status)
			}
			if tt.ip != "" && got.IP != netip.MustParseAddr(tt.ip) {
				t.Errorf("IP = %v, want %s", got.IP, tt.ip)
			}
			if len(got.IPs) != tt.ips || got.Country != tt.country || got.ASN != tt.asn {
				t.Errorf("IPs %v, country %q, AS%d; want %d IPs, %q, AS%d", got.IPs, got.Country, got.ASN, tt.ips, tt.country, tt.asn)
			}
			if got.DataDate != db.DataDate() {
				t.Errorf("DataDate = %q", got.DataDate)
			}
		})
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if fr.calls[ExampleNL] != 0 || fr.calls["["+ExampleRU6+"]"] != 0 {
		t.Error("an IP literal reached the resolver")
	}
	if fr.calls["se.example.test"] != 2 { // the resolver sees the normalised name
		t.Errorf("calls = %v", fr.calls)
	}
}

func TestTraceWithoutDB(t *testing.T) {
	tr := NewTracer(staticResolver{"example.com": addrs("192.0.2.1")}, nil)
	got := tr.Trace(context.Background(), "example.com")
	if got.Status != StatusOK || got.IP != netip.MustParseAddr("192.0.2.1") || got.Country != "" || got.DataDate != "" {
		t.Errorf("Trace = %+v", got)
	}
}

func TestTraceBatch(t *testing.T) {
	db := defaultDB(t)
	fr := newFakeResolver()
	fr.delay = 2 * time.Millisecond
	var hosts []string
	for i := range 40 {
		name := fmt.Sprintf("h%d.example.test", i)
		fr.answers[name] = addrs(ExampleSE)
		hosts = append(hosts, name, name, fmt.Sprintf("H%d.EXAMPLE.TEST.", i)) // each host three times
	}
	hosts = append(hosts, "gone.example.invalid", ExampleNL, "bad host.test", "bad host.test")
	tr := NewTracer(fr, db)
	got := tr.TraceBatch(context.Background(), hosts, 4)
	if len(got) != len(hosts) {
		t.Fatalf("%d results for %d hosts", len(got), len(hosts))
	}
	for i, r := range got {
		if r.Host != hosts[i] {
			t.Fatalf("result %d is for %q, want %q", i, r.Host, hosts[i])
		}
	}
	for i := range 120 {
		if got[i].Status != StatusOK || got[i].Country != "SE" {
			t.Errorf("%s: %+v", hosts[i], got[i])
		}
	}
	if got[120].Status != StatusNXDomain || got[121].Country != "NL" || got[122].Status != StatusError || got[123].Status != StatusError {
		t.Errorf("tail: %+v", got[120:])
	}
	fr.mu.Lock()
	for name, n := range fr.calls {
		if n != 1 {
			t.Errorf("%s resolved %d times, want once", name, n)
		}
	}
	if len(fr.calls) != 41 {
		t.Errorf("%d distinct lookups, want 41", len(fr.calls))
	}
	fr.mu.Unlock()
	if m := fr.maxSeen.Load(); m > 4 || m < 2 {
		t.Errorf("at most %d lookups ran at once, want 2..4 under a bound of 4", m)
	}

	// Concurrency below 1 means 1; an empty batch is fine.
	fr2 := newFakeResolver()
	fr2.answers["a.example.test"], fr2.answers["b.example.test"] = addrs(ExampleSE), addrs(ExampleNL)
	tr.Resolver = fr2
	tr.TraceBatch(context.Background(), []string{"a.example.test", "b.example.test"}, 0)
	if fr2.maxSeen.Load() != 1 {
		t.Errorf("concurrency 0 ran %d at once", fr2.maxSeen.Load())
	}
	if r := tr.TraceBatch(context.Background(), nil, 8); len(r) != 0 {
		t.Errorf("empty batch gave %d results", len(r))
	}
}

func TestTraceBatchCancelled(t *testing.T) {
	fr := newFakeResolver()
	fr.answers["a.example.test"] = addrs(ExampleSE)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := NewTracer(fr, nil).TraceBatch(ctx, []string{"a.example.test", "b.example.test"}, 2)
	for _, r := range got {
		if r.Status != StatusError || !r.Transient || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("%+v: want a transient error with context.Canceled", r)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		status    Status
		transient bool
	}{
		{"nil", nil, StatusOK, false},
		{"nxdomain", fmt.Errorf("x: %w", ErrNXDomain), StatusNXDomain, false},
		{"no data", ErrNoData, StatusNoData, false},
		{"timeout", ErrTimeout, StatusTimeout, true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), StatusTimeout, true},
		{"servfail", ErrServFail, StatusError, true},
		{"cancelled", context.Canceled, StatusError, true},
		{"invalid host", ErrInvalidHost, StatusError, false},
		{"net not found", &net.DNSError{Err: "no such host", IsNotFound: true}, StatusNXDomain, false},
		{"net timeout", &net.DNSError{Err: "i/o timeout", IsTimeout: true}, StatusTimeout, true},
		{"net temporary", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, StatusError, true},
		{"wrapped system", dnsError("a.test", &net.DNSError{Err: "server misbehaving", IsTemporary: true}), StatusError, true},
		{"other", errors.New("boom"), StatusError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.status {
				t.Errorf("Classify = %q, want %q", got, tt.status)
			}
			if got := Transient(tt.err); got != tt.transient {
				t.Errorf("Transient = %v, want %v", got, tt.transient)
			}
		})
	}
}

func TestSystemResolverLiteral(t *testing.T) {
	// Literals and invalid names never reach DNS, so this runs offline.
	r := NewSystemResolver(0)
	got, err := r.LookupIP(context.Background(), "[2001:db8::1]")
	if err != nil || !slices.Equal(got, addrs("2001:db8::1")) {
		t.Errorf("LookupIP(literal) = %v, %v", got, err)
	}
	if _, err := r.LookupIP(context.Background(), "bad host.invalid"); !errors.Is(err, ErrInvalidHost) {
		t.Errorf("LookupIP(bad) err = %v", err)
	}
}

func TestChooseIP(t *testing.T) {
	tests := []struct {
		in   []netip.Addr
		want string
	}{
		{addrs("2001:db8::1", "192.0.2.1", "192.0.2.2"), "192.0.2.1"},
		{addrs("2001:db8::2", "2001:db8::1"), "2001:db8::2"},
		{addrs("::ffff:192.0.2.3"), "192.0.2.3"},
		{nil, "invalid IP"},
	}
	for _, tt := range tests {
		if got := ChooseIP(tt.in); got.String() != tt.want {
			t.Errorf("ChooseIP(%v) = %v, want %s", tt.in, got, tt.want)
		}
	}
}

// BenchmarkTraceBatch traces batches of 1,000 hosts (10% repeated) through a
// fake resolver and the bundled data, and reports items/s. "instant" measures
// the package's own cost; "1ms-dns" gives each lookup a millisecond of
// latency, as a nearby caching resolver would, at a concurrency of 64.
func BenchmarkTraceBatch(b *testing.B) {
	db := defaultDB(b)
	for _, bc := range []struct {
		name        string
		delay       time.Duration
		concurrency int
	}{
		{"instant", 0, 8},
		{"1ms-dns", time.Millisecond, 64},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fr := newFakeResolver()
			fr.delay = bc.delay
			examples := []string{ExampleSE, ExampleNL, ExampleRU, ExampleSE6, ExampleNL6, ExampleRU6}
			hosts := make([]string, 1000)
			for i := range hosts {
				name := fmt.Sprintf("h%d.example.test", i%900)
				fr.answers[name] = addrs(examples[i%len(examples)])
				hosts[i] = name
			}
			tr := NewTracer(fr, db)
			items := 0
			start := time.Now()
			for b.Loop() {
				for _, r := range tr.TraceBatch(context.Background(), hosts, bc.concurrency) {
					if r.Status != StatusOK {
						b.Fatalf("%+v", r)
					}
				}
				items += len(hosts)
			}
			b.ReportMetric(float64(items)/time.Since(start).Seconds(), "items/s")
		})
	}
}
