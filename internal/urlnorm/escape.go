package urlnorm

import "strings"

const upperHex = "0123456789ABCDEF"

// unhex returns the value of the hexadecimal digit c, and false when c is
// not one.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescape percent-decodes s repeatedly until it holds no escape ("%"
// followed by two hex digits); a '%' that does not start an escape is kept.
//
// It works in one pass with a stack: each input byte is pushed, and while the
// top three bytes form an escape they are replaced by the byte they encode,
// which may complete an escape with the two bytes below it. Two escapes can
// never overlap ('%' is not a hex digit), so decoding in any order reaches the
// same result as whole passes repeated until nothing changes, in linear time.
func unescape(s string) string {
	start := strings.IndexByte(s, '%')
	if start < 0 {
		return s
	}
	out := make([]byte, start, len(s))
	copy(out, s)
	for i := start; i < len(s); i++ {
		out = append(out, s[i])
		for n := len(out); n >= 3 && out[n-3] == '%'; n = len(out) {
			hi, ok1 := unhex(out[n-2])
			lo, ok2 := unhex(out[n-1])
			if !ok1 || !ok2 {
				break
			}
			out = append(out[:n-3], hi<<4|lo)
		}
	}
	return string(out)
}

// writeEscaped writes s to b, percent-escaping bytes <= 0x20 and >= 0x7F,
// '#' and '%' and, in a path, '?' (so that it cannot start a query).
func writeEscaped(b *strings.Builder, s string, path bool) {
	done := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7F || c == '#' || c == '%' || (path && c == '?') {
			b.WriteString(s[done:i])
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			done = i + 1
		}
	}
	b.WriteString(s[done:])
}

// normalizePath resolves "." and ".." segments and collapses runs of '/' in
// the unescaped path p, which is empty or starts with '/'. An empty path
// becomes "/". A path that ends in '/', "/." or "/.." keeps a trailing '/',
// as a browser would request it.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if !needsNormalizing(p) {
		return p
	}
	parts := strings.Split(p[1:], "/")
	out := parts[:0]
	for _, seg := range parts {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	last := parts[len(parts)-1]
	trailing := last == "" || last == "." || last == ".."
	var b strings.Builder
	b.Grow(len(p))
	for _, seg := range out {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	if trailing || len(out) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// needsNormalizing reports whether the path p (starting with '/') has an
// empty, "." or ".." segment other than a final empty one.
func needsNormalizing(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		seg := p[i+1:]
		if j := strings.IndexByte(seg, '/'); j >= 0 {
			seg = seg[:j]
			if seg == "" {
				return true
			}
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
