// Package urlnorm owns URL canonicalisation: it turns a reported URL, as a
// person or a partner typed or sent it, into one canonical http(s) URL, its
// host, its registrable domain (eTLD+1) and a dedupe key (SHA-256 of the
// canonical URL). It is pure: no network, no clock, no state.
//
// The rules are those of Google Safe Browsing ("URLs and Hashing",
// developers.google.com/safe-browsing/v4/urls-hashing#canonicalization):
//
//   - leading and trailing spaces and control characters are trimmed; tab,
//     CR and LF are removed everywhere;
//   - the fragment (from the first '#') is removed;
//   - host, path and query are percent-unescaped repeatedly until no escape
//     is left, then bytes <= 0x20 and >= 0x7F, '#' and '%' are escaped again
//     (upper-case hex);
//   - scheme and host are lower-cased; the host loses leading and trailing
//     dots, runs of dots become one, internationalised names become Punycode
//     (UTS #46 lookup mapping, non-transitional), IPv4 addresses in any legal
//     encoding (decimal integer, octal, hex, fewer than four parts) become a
//     dotted quad, and bracketed IPv6 addresses are compressed (RFC 5952);
//     IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses
//     become the IPv4 address;
//   - the path resolves "/./" and "/../" and collapses runs of '/'; an empty
//     path becomes "/"; path and query are never lower-cased and the query
//     is otherwise kept as it is (even an empty one: "q?" stays "q?");
//   - userinfo ("user:pass@") is dropped from the canonical URL; the
//     original string is kept in URL.Original for evidence.
//
// A URL without a scheme ("example.com/x") is read as http, as Safe Browsing
// does. Only http and https are accepted; every other scheme (javascript:,
// ftp:, file:, data:, …) is an error. Inputs over MaxLength bytes are an
// error, and so is a canonical URL over MaxLength bytes.
//
// Deliberate deviations from Safe Browsing, each for the sake of the hotline:
//
//   - Ports. Safe Browsing drops every port; we keep a non-default port
//     ("http://example.com:8080/"), because a different port can be a
//     different server or site, and that matters for tracing and takedown.
//     Only the default ports (80 for http, 443 for https) are dropped.
//   - Structure is parsed before unescaping. Safe Browsing unescapes the whole
//     string first, so "http://example.com%2F@evil.test/" would have host
//     example.com, while a browser goes to evil.test; we split scheme,
//     userinfo, host, port, path and query on the raw string and unescape each
//     part, so the host is the one a browser would contact. A '?' that was
//     escaped in the path stays escaped ("%3F") so it cannot turn into a
//     query. A fully escaped URL such as "http%3A%2F%2Fexample.com/" is
//     therefore not accepted.
//   - Host characters. Safe Browsing keeps any byte in a host, escaped
//     ("http://%01%80.com/", "http://%20leadingspace.com/",
//     "http://host%23.com/"). No browser can open such a host and net/url
//     refuses to parse it, while every canonical URL here must parse, so
//     a host may only hold the characters of an RFC 3986 reg-name (letters,
//     digits and -._~!$&'()*+,;=) after Punycode conversion; anything else is
//     an error that says so. Host names over 253 bytes, or with a label over
//     63 bytes, are refused as well.
//   - IPv4. A host whose last label is a number must be a valid IPv4 address
//     (as in the WHATWG URL standard): "276.2.3" is an error rather than
//     Safe Browsing's wrapped "20.2.0.3".
//   - A scheme must be followed by "//" ("http:example.com" is an error).
//     An input without a scheme may start with "host:port" only when the host
//     has a dot, so "javascript:1" is refused rather than read as a host.
//
// Because the canonical URL is unescaped before it is escaped again, some
// distinct URLs share one canonical form (for example "?a=%26" and "?a=&");
// that is what a dedupe key wants, and URL.Original keeps the exact input.
package urlnorm
