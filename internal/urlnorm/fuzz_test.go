package urlnorm

import (
	"testing"

	"alliance"
)

// FuzzCanonicalize checks that Canonicalize never panics, fails only with a
// validation error of the url field, and returns canonical URLs that net/url
// parses, that fit in MaxLength, and that canonicalise to themselves.
func FuzzCanonicalize(f *testing.F) {
	for _, v := range googleVectors {
		f.Add(v.in)
	}
	f.Add("https://user:pass@BÜCHER.example:8443/a/./b/../c%2541?q=%2520#frag")
	f.Add("http://[::ffff:1.2.3.4]:80/")
	f.Add("0x7f.1/a%3Fb?c")
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) <= 256 {
			if got, want := unescape(raw), unescapeReference(raw); got != want {
				t.Fatalf("unescape(%q) = %q, reference %q", raw, got, want)
			}
		}
		u, err := Canonicalize(raw)
		if err != nil {
			if alliance.ErrorCode(err) != alliance.EINVALID || alliance.ErrorField(err) != Field || alliance.ErrorMessage(err) == "" {
				t.Fatalf("Canonicalize(%q): unexpected error %v", raw, err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("Canonicalize(%q): scheme %q", raw, u.Scheme)
		}
		if u.Host == "" || u.RegistrableDomain == "" {
			t.Fatalf("Canonicalize(%q): empty host or registrable domain: %+v", raw, u)
		}
		checkValid(t, u)
	})
}
