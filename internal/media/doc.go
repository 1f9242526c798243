// Package media owns the step from a reported URL to the hashes of its
// media, in memory: it fetches the item URL through internal/fetch (with
// its SSRF guard, timeouts, size and redirect caps and politeness), decides
// by content what came back, and hashes it with internal/hashing.
//
//   - An image (recognised by its magic bytes, never by extension or
//     Content-Type header) becomes one medium with its exact hashes (MD5,
//     SHA-1, SHA-256) and its PDQ hash and quality. An image that does not
//     decode, or whose header announces more pixels than the limit (a
//     decompression bomb), keeps its exact hashes and gets no PDQ; that is
//     never a failure of the item.
//   - An HTML page is scanned for media URLs by [ExtractMedia] (img src and
//     srcset, a href to images, og:image, video and audio sources and
//     posters), up to [Options.MaxMediaPerPage]; each is fetched through the
//     same Fetcher, [Options.PageConcurrency] at a time, and hashed the same
//     way. Videos are recorded as deferred, for later video hashing, and
//     not fetched. A medium that fails is recorded with its reason; the
//     page is still fetched.
//   - Anything else gets its exact hashes only.
//
// A failure to fetch the item URL (DNS, refused, timeout, blocked by the
// SSRF guard, too large, 4xx/5xx, redirect loop, TLS) is an outcome, not an
// error: [Result] carries fetch.Classify's reason and whether a retry may
// help. The caller (the fetch job) records results and matches the hashes
// against the banks; this package stores nothing.
//
// Zero content: response bodies live only in memory, for as long as it
// takes to hash them or to extract a page's media URLs, and are then
// cleared in place (clear), so that no copy of the content outlives the
// call in this package's buffers. Body bytes are never written to disk or
// temporary files, logged, put into errors, or returned: a Result holds
// URLs, types, sizes, statuses and hashes only.
package media
