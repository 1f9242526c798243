// Package trace owns the "where is it hosted" step of an item: resolving a
// reported host name to IP addresses (A and AAAA) and mapping an address to
// its country and autonomous system from open data bundled in the binary.
// It reads metadata only; it never fetches content.
//
// The parts:
//
//   - Resolver looks names up. NewSystemResolver uses the operating system's
//     DNS through net.Resolver; HostsResolver answers from an /etc/hosts-style
//     file and falls back to another Resolver (tests and demos inject one so
//     that nothing reaches the network). An IP literal never needs DNS.
//   - Classify and Transient sort lookup errors into the Status recorded on an
//     item ("nxdomain", "timeout", "no data", "error") and say whether a retry
//     with backoff may help.
//   - DB maps an address to country (ISO 3166-1 alpha-2), AS number and AS
//     organisation. Default opens the data embedded by package alliance/data/ipdb
//     (DB-IP Lite country and the ip-location-db ASN table, CC BY 4.0: see
//     NOTICE); LoadRanges adds operator overrides, where the longest prefix wins.
//     Every answer carries the data's build date, to be shown with the trace.
//   - Tracer combines the two: Trace for one host, TraceBatch for many, each
//     distinct host resolved once, with bounded concurrency.
//
// The package is pure: it depends on the domain package alliance (for its
// error values) and the MMDB reader only, never on store or app, so the jobs
// that call it decide what to persist and when to retry.
package trace
