// Package fetch is the platform's only outbound HTTP client for reported
// URLs. It fetches one URL at a time under strict limits and hands the body
// back to the caller in memory.
//
// Content handling: the response body is returned as a []byte in
// [Response.Body] and nothing else. This package never writes a body to
// disk, to a temporary file or to a log, and never includes body bytes in an
// error message. The caller hashes the bytes and drops them; nothing of the
// content is stored anywhere.
//
// Limits, all set through [Options]: a whole-request timeout, a body size
// cap (bodies over the cap fail with [ErrTooLarge]; the cap applies after
// transparent gzip decoding, so compressed bombs are bounded too), a
// redirect cap, per-host politeness (a minimum gap between requests to the
// same host name, and at most [Options.MaxPerHost] requests in flight to
// it), and a user agent that operators should set to identify
// their node and give a contact address. robots.txt is deliberately not
// consulted: hotlines must see what is reported; the rate limits still hold.
//
// SSRF guard: unless [Options.AllowPrivate] is set, connections to
// non-public addresses are refused (see [CheckAddr] for the list), except
// the exact address:port pairs in [Options.AllowAddrs] (a demo site on
// loopback). The
// check runs where it cannot be bypassed: the dialer resolves names itself
// through [Options.Resolver], checks each address, dials that exact address
// (never the name), and a net.Dialer Control hook checks the address of the
// socket again just before connect. Redirects go through the same dialer,
// so a redirect or a DNS answer that changes between lookups (rebinding)
// cannot reach a blocked address. Only http and https are fetched, also
// after redirects. Proxies from the environment are ignored, TLS
// certificates are verified normally, and no cookies are kept.
//
// [Fetcher.Head] sends a HEAD request under the same rules, and
// [Fetcher.FetchLimit] fetches with a smaller body cap, for checks that
// need to know whether a resource still answers, not to collect it.
//
// Failures are classified with [Classify] into a [Failure] kind suitable for
// recording on an item, and [Transient] says whether a retry may help.
package fetch
