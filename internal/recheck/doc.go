// Package recheck decides whether reported content is still online: it
// re-fetches a noticed URL and its recorded media with small byte caps and
// compares their hashes with those recorded when the item was fetched. It
// is pure: the caller (the periodic re-check job) loads targets, records
// results and decides what several results in a row mean.
//
// All fetching goes through internal/fetch, so the SSRF guard, timeouts,
// the redirect cap and per-host politeness (the interval and MaxPerHost)
// hold for re-checks too; a Checker adds a per-GET byte cap
// (Options.MaxBytes, 4 MiB by default) on top.
//
// # Rules
//
// One URL (an image item's URL, a page, or one medium of a page) is checked
// with HEAD first, because it is cheap:
//
//   - DNS name gone (NXDOMAIN): Removed, reason dns. A temporary DNS
//     failure (SERVFAIL, resolver timeout) is Unreachable, transient.
//   - Connection refused: Unreachable, reason refused, transient; the caller
//     decides "refused consistently" after several in a row.
//   - Timeout, or a 5xx answer: Unreachable (timeout, http_5xx), transient.
//   - 408 and 429: Unreachable (http_408, http_429), transient.
//   - A redirect whose final host has another registrable domain (eTLD+1,
//     the host itself for an IP address) than the URL's, answered 2xx:
//     Changed, reason redirect_other_host, with FinalURL. A redirect within
//     the same registrable domain is followed and judged as usual, so a
//     host that sends removed content to its home page is found by the
//     hash comparison.
//   - SSRF guard refusal (the name or a redirect now points at a private
//     address), redirect loop, TLS failure: Unreachable (blocked,
//     redirects, tls), not transient: no decision either way.
//   - A 2xx whose Content-Length is over the byte cap: StillUp, reason
//     unverified (the GET would be refused; see below).
//   - Any other 4xx to HEAD, 404 and 410 included, and a HEAD the server
//     mishandles (connection closed, malformed answer): the GET decides.
//     Some servers answer HEAD wrongly (404 or 405 for HEAD only, 403 from
//     URLs signed for GET), and a removal must not be believed from a HEAD
//     alone. 405 and 501 (HEAD not supported) fall through the same way.
//
// Then GET with the byte cap. The same rules apply to its answer, and:
//
//   - 404 or 410: Removed (http_404, http_410), also at the end of a
//     redirect to another host (the content is not there either).
//   - Other 4xx (401, 403, 451, ...): Unreachable, reason http_ and the
//     code, not transient: the server refuses us, which does not prove
//     the content gone.
//   - 2xx with a body over the cap: StillUp, reason unverified.
//   - 2xx: for an image URL (Target.Page false) the body's SHA-256 is
//     compared with the recorded ones; equal is StillUp, reason ok.
//     Otherwise, when a PDQ hash was recorded, the body is hashed
//     (hashing.HashBytes) and a PDQ hash within Options.PDQThreshold (31
//     by default) of a recorded one is StillUp, reason ok_pdq (re-encoded
//     or resized copy). Otherwise Removed, reason hash_mismatch: the URL
//     serves other content, or no image at all. With nothing recorded to
//     compare with, StillUp, reason unverified.
//
// A page (Target.Page true) is checked as above without looking at its
// body; if it answers 2xx, its recorded media (up to Options.MaxMedia of
// those with a recorded hash, in order, one after the other, stopping at
// the first match) are each checked as an image URL. The page is then
//
//   - StillUp (ok or ok_pdq) as soon as one medium matches;
//   - StillUp, unverified, when a medium answered but could not be
//     verified, or the page has no media with recorded hashes;
//   - Changed when a medium now redirects to another host (reason
//     media_redirect_other_host; FinalURL is the medium's new URL);
//   - Unreachable when a medium could not be decided (reason media_ and
//     its reason, such as media_timeout; transient as that medium's);
//   - Removed, reason media_gone, when every medium checked is gone
//     (404, 410, name gone or other content).
//
// A page that answers 404 or 410 itself is Removed, and every other page
// answer follows the rules for one URL.
//
// Unverified content counts as still up on purpose: a false "removed"
// closes a case and stops notices while the content may still be online,
// whereas a false "still up" only costs another re-check and notice. For
// the same reason every doubt (timeouts, refusals, other 4xx, redirect
// loops, blocked addresses) is Unreachable, never Removed, and the caller
// decides after several results in a row.
//
// If ctx ends during a check, the Result is Unreachable with reason
// canceled and Canceled set; it says nothing about the URL and should not
// be recorded.
//
// # Content
//
// Bodies live in memory only, are cleared (clear(b)) as soon as they are
// hashed, and appear nowhere in a Result; no error text is kept in a
// Result either. HEAD transfers no body. Nothing is written to disk or
// logged.
package recheck
