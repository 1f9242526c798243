package trace

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the trace of one host, ready to be recorded on an item.
type Result struct {
	Host      string       // the host as given
	Status    Status       // "ok", "nxdomain", "timeout", "no data" or "error"
	Transient bool         // the failure may go away: retry with backoff
	IPs       []netip.Addr // every address found, in the resolver's order, unmapped and without duplicates
	IP        netip.Addr   // the address traced: the first IPv4 in IPs, else the first IPv6 (see ChooseIP)
	Country   string       // ISO 3166-1 alpha-2 of IP, "" when unknown
	ASN       uint32       // AS number of IP, 0 when unknown
	ASOrg     string       // AS organisation of IP, "" when unknown
	DataDate  string       // build date of the IP data used, shown with the trace
	Override  bool         // an operator range decided part of the answer
	Err       error        // the lookup error, for logs only: never shown to users
}

// Tracer resolves hosts and maps the chosen address to country and AS. Its
// fields are read-only once it is in use; it is safe for concurrent use.
type Tracer struct {
	Resolver Resolver      // required
	DB       *DB           // nil: addresses only, no country or AS
	Timeout  time.Duration // bound on one host's lookup; 0 means DefaultTimeout
}

// NewTracer returns a Tracer over r and db with DefaultTimeout.
func NewTracer(r Resolver, db *DB) *Tracer {
	return &Tracer{Resolver: r, DB: db, Timeout: DefaultTimeout}
}

// Trace resolves host (normalised by NormalizeHost; an IP literal, bare or
// in brackets, needs no DNS) and looks the chosen
// address up. A failed lookup gives a Result with the failure's Status and
// Transient flag and no address.
func (t *Tracer) Trace(ctx context.Context, host string) Result {
	res := Result{Host: host}
	if t.DB != nil {
		res.DataDate = t.DB.DataDate()
	}
	var addrs []netip.Addr
	if a, ok := parseLiteral(host); ok {
		addrs = []netip.Addr{a}
	} else {
		name, err := NormalizeHost(host)
		if err != nil {
			res.Status, res.Transient, res.Err = StatusError, false, err
			return res
		}
		timeout := t.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		lctx, cancel := context.WithTimeout(ctx, timeout)
		got, err := t.Resolver.LookupIP(lctx, name)
		cancel()
		if err == nil {
			if addrs = cleanAddrs(got); len(addrs) == 0 {
				err = ErrNoData
			}
		}
		if err != nil {
			res.Status, res.Transient, res.Err = Classify(err), Transient(err), err
			return res
		}
	}
	res.Status, res.IPs, res.IP = StatusOK, addrs, ChooseIP(addrs)
	if t.DB != nil {
		info := t.DB.Lookup(res.IP)
		res.Country, res.ASN, res.ASOrg, res.Override = info.Country, info.ASN, info.ASOrg, info.Override
	}
	return res
}

// MaxConcurrency caps the concurrency of TraceBatch.
const MaxConcurrency = 1024

// TraceBatch traces hosts, returning one Result per host in the same order.
// Each distinct host (compared after NormalizeHost) is resolved once, and the
// hosts that share it get the same Result, with their own Host and a shared
// IPs slice. At most concurrency lookups run at a time (at least 1, at most
// MaxConcurrency). When ctx ends, hosts not yet traced get StatusError,
// Transient, with the context's error.
func (t *Tracer) TraceBatch(ctx context.Context, hosts []string, concurrency int) []Result {
	results := make([]Result, len(hosts))
	if len(hosts) == 0 {
		return results
	}
	var distinct []string // hosts to trace, first spelling of each
	where := make(map[string][]int, len(hosts))
	keys := make([]string, 0, len(hosts))
	for i, h := range hosts {
		key, err := NormalizeHost(h)
		if err != nil {
			key = "\x00" + h // invalid: traced on its own, fails the same way
		}
		if _, seen := where[key]; !seen {
			distinct = append(distinct, h)
			keys = append(keys, key)
		}
		where[key] = append(where[key], i)
	}
	concurrency = min(max(concurrency, 1), MaxConcurrency, len(distinct))

	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= len(distinct) {
					return
				}
				var r Result
				if err := ctx.Err(); err != nil {
					r = Result{Host: distinct[j], Status: StatusError, Transient: true, Err: err}
					if t.DB != nil {
						r.DataDate = t.DB.DataDate()
					}
				} else {
					r = t.Trace(ctx, distinct[j])
				}
				for _, i := range where[keys[j]] {
					results[i] = r
					results[i].Host = hosts[i]
				}
			}
		})
	}
	wg.Wait()
	return results
}
