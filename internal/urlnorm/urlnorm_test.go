package urlnorm

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"alliance"
)

// googleVectors are the canonicalisation examples published with the Safe
// Browsing "URLs and Hashing" documentation (v4, and the IPv6 examples of
// the current reference), with what Canonicalize returns. Where want differs
// from Google's expectation, google holds Google's and deviation says why.
var googleVectors = []struct {
	in, want  string
	google    string // Google's expectation when it differs from want
	deviation string // why it differs
}{
	{in: "http://host/%25%32%35", want: "http://host/%25"},
	{in: "http://host/%25%32%35%25%32%35", want: "http://host/%25%25"},
	{in: "http://host/%2525252525252525", want: "http://host/%25"},
	{in: "http://host/asdf%25%32%35asd", want: "http://host/asdf%25asd"},
	{in: "http://host/%%%25%32%35asd%%", want: "http://host/%25%25%25asd%25%25"},
	{in: "http://www.google.com/", want: "http://www.google.com/"},
	{
		in:   "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
		want: "http://168.188.99.26/.secure/www.ebay.com/",
	},
	{
		in:   "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
		want: "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
	},
	{
		in:        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
		google:    "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
		deviation: "'#' is not allowed in a host name (see the same path on a valid host below)",
	},
	{in: "http://3279880203/blah", want: "http://195.127.0.11/blah"},
	{in: "http://www.google.com/blah/..", want: "http://www.google.com/"},
	{in: "www.google.com/", want: "http://www.google.com/"},
	{in: "www.google.com", want: "http://www.google.com/"},
	{in: "http://www.evil.com/blah#frag", want: "http://www.evil.com/blah"},
	{in: "http://www.GOOgle.com/", want: "http://www.google.com/"},
	{in: "http://www.google.com.../", want: "http://www.google.com/"},
	{in: "http://www.google.com/foo\tbar\rbaz\n2", want: "http://www.google.com/foobarbaz2"},
	{in: "http://www.google.com/q?", want: "http://www.google.com/q?"},
	{in: "http://www.google.com/q?r?", want: "http://www.google.com/q?r?"},
	{in: "http://www.google.com/q?r?s", want: "http://www.google.com/q?r?s"},
	{in: "http://evil.com/foo#bar#baz", want: "http://evil.com/foo"},
	{in: "http://evil.com/foo;", want: "http://evil.com/foo;"},
	{in: "http://evil.com/foo?bar;", want: "http://evil.com/foo?bar;"},
	{
		in:        "http://\x01\x80.com/",
		google:    "http://%01%80.com/",
		deviation: "control characters and invalid UTF-8 are not allowed in a host name",
	},
	{in: "http://notrailingslash.com", want: "http://notrailingslash.com/"},
	{
		in:        "http://www.gotaport.com:1234/",
		want:      "http://www.gotaport.com:1234/",
		google:    "http://www.gotaport.com/",
		deviation: "non-default ports are kept: they can be a different server",
	},
	{in: "  http://www.google.com/  ", want: "http://www.google.com/"},
	{
		in:        "http:// leadingspace.com/",
		google:    "http://%20leadingspace.com/",
		deviation: "a space is not allowed in a host name",
	},
	{
		in:        "http://%20leadingspace.com/",
		google:    "http://%20leadingspace.com/",
		deviation: "a space is not allowed in a host name",
	},
	{
		in:        "%20leadingspace.com/",
		google:    "http://%20leadingspace.com/",
		deviation: "a space is not allowed in a host name",
	},
	{in: "https://www.securesite.com/", want: "https://www.securesite.com/"},
	{in: "http://host.com/ab%23cd", want: "http://host.com/ab%23cd"},
	{in: "http://host.com//twoslashes?more//slashes", want: "http://host.com/twoslashes?more//slashes"},
	// IPv6 examples of the current Safe Browsing reference.
	{in: "http://[2001:0db8:0000::1]/", want: "http://[2001:db8::1]/"},
	{in: "http://[::ffff:1.2.3.4]/", want: "http://1.2.3.4/"},
	{in: "http://[64:ff9b::1.2.3.4]/", want: "http://1.2.3.4/"},
}

func TestCanonicalizeGoogleVectors(t *testing.T) {
	for _, v := range googleVectors {
		t.Run(v.in, func(t *testing.T) {
			if v.google != "" && v.deviation == "" {
				t.Fatal("a vector that differs from Google's expectation must say why")
			}
			got, err := Canonicalize(v.in)
			if v.want == "" {
				if err == nil {
					t.Fatalf("Canonicalize(%q) = %q, want an error (deviation: %s)", v.in, got.Canonical, v.deviation)
				}
				checkError(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", v.in, err)
			}
			if got.Canonical != v.want {
				t.Errorf("Canonicalize(%q) = %q, want %q", v.in, got.Canonical, v.want)
			}
		})
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"google path on a valid host", "http://example.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
			"http://example.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"},
		{"IDN upper case", "http://BÜCHER.example/", "http://xn--bcher-kva.example/"},
		{"IDN escaped UTF-8", "http://b%C3%BCcher.example/", "http://xn--bcher-kva.example/"},
		{"IDN full-width dot and trailing dot", "http://bücher\u3002example./x", "http://xn--bcher-kva.example/x"},
		{"IDN full-width digits become an IPv4", "http://\uff11\uff12\uff17.0.0.1/", "http://127.0.0.1/"},
		{"punycode upper case", "http://XN--BCHER-KVA.example/", "http://xn--bcher-kva.example/"},
		{"scheme upper case", "HTTPS://Example.COM/Path/Q?X=Y", "https://example.com/Path/Q?X=Y"},
		{"default http port", "http://example.com:80/", "http://example.com/"},
		{"default https port", "https://example.com:443/", "https://example.com/"},
		{"port with leading zeros", "http://example.com:0080/", "http://example.com/"},
		{"https on port 80 keeps it", "https://example.com:80/", "https://example.com:80/"},
		{"non-default port", "http://example.com:8080/a", "http://example.com:8080/a"},
		{"empty port", "http://example.com:/a", "http://example.com/a"},
		{"host and port without scheme", "example.com:8080/x", "http://example.com:8080/x"},
		{"userinfo dropped", "http://user:pass@example.com/x", "http://example.com/x"},
		{"userinfo spoof", "http://bank.example@evil.test/login", "http://evil.test/login"},
		{"escaped slash in userinfo", "http://example.com%2F@evil.test/", "http://evil.test/"},
		{"escaped question mark in path stays in the path", "http://example.com/a%3Fb?c%3Fd", "http://example.com/a%3Fb?c?d"},
		{"escaped slash in path is a separator", "http://example.com/a%2F%2Fb", "http://example.com/a/b"},
		{"dot segments", "http://example.com/a/./b/../c/", "http://example.com/a/c/"},
		{"escaped dot segments", "http://example.com/a/%2E%2e/b", "http://example.com/b"},
		{"trailing dot-dot keeps a slash", "http://example.com/a/b/..", "http://example.com/a/"},
		{"trailing dot keeps a slash", "http://example.com/a/.", "http://example.com/a/"},
		{"dot-dot above root", "http://example.com/../../a", "http://example.com/a"},
		{"path case kept", "http://example.com/CaSe/File.HTML", "http://example.com/CaSe/File.HTML"},
		{"query only", "http://example.com?q=1", "http://example.com/?q=1"},
		{"query slashes and dots kept", "http://example.com/x?a=/./b/../c//d", "http://example.com/x?a=/./b/../c//d"},
		{"query escaping", "http://example.com/?a=%23b%20c%e2%82%ac", "http://example.com/?a=%23b%20c%E2%82%AC"},
		{"NUL in path", "http://example.com/a%00b", "http://example.com/a%00b"},
		{"DEL in path", "http://example.com/a\x7fb", "http://example.com/a%7Fb"},
		{"UTF-8 path", "http://example.com/ünï", "http://example.com/%C3%BCn%C3%AF"},
		{"underscore host", "http://my_host.example.test/", "http://my_host.example.test/"},
		{"sub-delims host", "http://a!$&'()*+,;=~b.example/", "http://a!$&'()*+,;=~b.example/"},
		{"leading dots", "http://..example.com/", "http://example.com/"},
		{"IPv4 octal", "http://012.034.01.055/", "http://10.28.1.45/"},
		{"IPv4 hex", "http://0x12.0x43.0x44.0x01/", "http://18.67.68.1/"},
		{"IPv4 mixed", "http://12.0x12.01234/", "http://12.18.2.156/"},
		{"IPv4 two parts", "http://127.1/", "http://127.0.0.1/"},
		{"IPv4 max", "http://4294967295/", "http://255.255.255.255/"},
		{"IPv4 hex integer", "http://0xC0A80001/", "http://192.168.0.1/"},
		{"IPv4 trailing dot", "http://1.2.3.4./", "http://1.2.3.4/"},
		{"IPv4 without scheme", "1.2.3.4:8080/a", "http://1.2.3.4:8080/a"},
		{"not an IPv4", "http://1.2.3.00x0/", "http://1.2.3.00x0/"},
		{"IPv6 upper case", "http://[2001:DB8::A]:8080/", "http://[2001:db8::a]:8080/"},
		{"IPv6 full form", "http://[2001:0db8:0000:0000:0000:0000:0000:0001]/", "http://[2001:db8::1]/"},
		{"IPv6 loopback", "https://[::1]:443/", "https://[::1]/"},
		{"IPv6 without scheme", "[2001:db8::1]/a", "http://[2001:db8::1]/a"},
		{"tab in host", "http://exa\tmple.com/", "http://example.com/"},
		{"leading control characters", "\x00\x01 http://example.com/ \x7f", "http://example.com/%20%7F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize(tt.in)
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.in, err)
			}
			if got.Canonical != tt.want {
				t.Errorf("Canonicalize(%q) = %q, want %q", tt.in, got.Canonical, tt.want)
			}
			checkValid(t, got)
		})
	}
}

func TestCanonicalizeFields(t *testing.T) {
	tests := []struct {
		in   string
		want URL
	}{
		{"  http://user@a.b.example.co.uk:8080/x#f ", URL{
			Original: "http://user@a.b.example.co.uk:8080/x#f", Canonical: "http://a.b.example.co.uk:8080/x",
			Scheme: "http", Host: "a.b.example.co.uk", Port: "8080", RegistrableDomain: "example.co.uk",
		}},
		{"http://a.b.example.co.uk/x", URL{
			Original: "http://a.b.example.co.uk/x", Canonical: "http://a.b.example.co.uk/x",
			Scheme: "http", Host: "a.b.example.co.uk", RegistrableDomain: "example.co.uk",
		}},
		{"https://BÜCHER.example/", URL{
			Original: "https://BÜCHER.example/", Canonical: "https://xn--bcher-kva.example/",
			Scheme: "https", Host: "xn--bcher-kva.example", RegistrableDomain: "xn--bcher-kva.example",
		}},
		{"http://3279880203/blah", URL{
			Original: "http://3279880203/blah", Canonical: "http://195.127.0.11/blah",
			Scheme: "http", Host: "195.127.0.11", RegistrableDomain: "195.127.0.11", IsIP: true,
		}},
		{"https://[2001:db8::1]:8443/", URL{
			Original: "https://[2001:db8::1]:8443/", Canonical: "https://[2001:db8::1]:8443/",
			Scheme: "https", Host: "2001:db8::1", Port: "8443", RegistrableDomain: "2001:db8::1", IsIP: true,
		}},
		{"http://co.uk/", URL{ // a public suffix itself
			Original: "http://co.uk/", Canonical: "http://co.uk/",
			Scheme: "http", Host: "co.uk", RegistrableDomain: "co.uk",
		}},
		{"http://localhost.test/", URL{
			Original: "http://localhost.test/", Canonical: "http://localhost.test/",
			Scheme: "http", Host: "localhost.test", RegistrableDomain: "localhost.test",
		}},
		{"http://a.b.example.invalid/", URL{
			Original: "http://a.b.example.invalid/", Canonical: "http://a.b.example.invalid/",
			Scheme: "http", Host: "a.b.example.invalid", RegistrableDomain: "example.invalid",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Canonicalize(tt.in)
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.in, err)
			}
			tt.want.DedupeKey = sha256.Sum256([]byte(tt.want.Canonical))
			if got != tt.want {
				t.Errorf("Canonicalize(%q) =\n %+v\nwant\n %+v", tt.in, got, tt.want)
			}
			if got.DedupeKeyHex() != hex.EncodeToString(tt.want.DedupeKey[:]) || len(got.DedupeKeyHex()) != 64 {
				t.Errorf("DedupeKeyHex() = %q", got.DedupeKeyHex())
			}
			if got.String() != got.Canonical {
				t.Errorf("String() = %q, want %q", got.String(), got.Canonical)
			}
		})
	}
}

func TestDedupeKeySameResource(t *testing.T) {
	same := []string{
		"http://www.example.com/a/b",
		"HTTP://WWW.EXAMPLE.COM:80/a/./b#top",
		"www.example.com/a//b",
		"http://user@www.example.com/a/c/../b",
		"http://www.example.com./%61/b",
		"http://www.example.com/a/b#x",
	}
	first, err := Canonicalize(same[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range same[1:] {
		u, err := Canonicalize(in)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", in, err)
		}
		if u.DedupeKey != first.DedupeKey {
			t.Errorf("Canonicalize(%q) = %q, want the key of %q", in, u.Canonical, first.Canonical)
		}
	}
	for _, in := range []string{"https://www.example.com/a/b", "http://www.example.com:8080/a/b", "http://www.example.com/A/b", "http://www.example.com/a/b?"} {
		u, err := Canonicalize(in)
		if err != nil {
			t.Fatalf("Canonicalize(%q): %v", in, err)
		}
		if u.DedupeKey == first.DedupeKey {
			t.Errorf("Canonicalize(%q) has the same key as %q", in, first.Canonical)
		}
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string // msg: a part of the message
	}{
		{"empty", "", "Enter a URL"},
		{"blank", " \t\n ", "Enter a URL"},
		{"too long", "http://example.com/" + strings.Repeat("a", MaxLength), "too long"},
		{"canonical too long", "http://example.com/" + strings.Repeat(" ", MaxLength/2) + "x", "too long"},
		{"javascript", "javascript:alert(1)", `"javascript"`},
		{"javascript number", "javascript:1", `"javascript"`},
		{"ftp", "ftp://ftp.example.com/", `"ftp"`},
		{"file", "file:///etc/passwd", `"file"`},
		{"data", "data:text/html,<b>x</b>", `"data"`},
		{"mailto", "mailto:someone@example.com", `"mailto"`},
		{"long scheme", strings.Repeat("x", 30) + ":y", "Only http and https"},
		{"no slashes", "http:example.com", `followed by "//"`},
		{"one slash", "https:/example.com", `followed by "//"`},
		{"no host", "http:///path", "no host"},
		{"only userinfo", "http://user@/", "no host"},
		{"only dots", "http://.../", "no host"},
		{"only a path", "/path/only", "no host"},
		{"only a query", "?q=1", "no host"},
		{"fragment only", "#frag", "no host"},
		{"port not a number", "http://example.com:http/", "port"},
		{"port too large", "http://example.com:65536/", "port"},
		{"port zero", "http://example.com:0/", "port"},
		{"port huge", "http://example.com:99999999999999999999/", "port"},
		{"space in host", "http://exa mple.com/", "not allowed"},
		{"escaped space in host", "http://exa%20mple.com/", "not allowed"},
		{"slash in host", "http://exa%2Fmple.com/", "not allowed"},
		{"caret in host", "http://W!eird<>Ho$^.com/", "not allowed"},
		{"backslash in host", `http://example.com\evil.test/`, "not allowed"},
		{"invalid UTF-8 in host", "http://\xff.example/", "not allowed"},
		{"bad IDN", "http://xn--a.\u00e9xample/", "internationalised"},
		{"bad IDN bidi", "http://\u05d0a.example/", "internationalised"},
		{"IPv4 part too large", "http://276.2.3/", "IPv4"},
		{"IPv4 too many parts", "http://1.2.3.4.5/", "IPv4"},
		{"IPv4 too large", "http://4294967296/", "IPv4"},
		{"IPv4 bad octal", "http://09.1.2.3/", "IPv4"},
		{"domain ending in a number", "http://example.123/", "IPv4"},
		{"IPv6 unclosed", "http://[2001:db8::1/", "IPv6"},
		{"IPv6 invalid", "http://[2001:db8::g]/", "IPv6"},
		{"IPv6 holding IPv4", "http://[1.2.3.4]/", "IPv6"},
		{"IPv6 zone", "http://[fe80::1%25eth0]/", "IPv6"},
		{"IPv6 garbage after bracket", "http://[::1]x/", "IPv6"},
		{"IPv6 without brackets", "http://::1/", "not allowed"},
		{"host too long", "http://" + strings.Repeat("a.", 127) + "example/", "too long"},
		{"label too long", "http://" + strings.Repeat("a", 64) + ".example/", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize(tt.in)
			if err == nil {
				t.Fatalf("Canonicalize(%q) = %q, want an error", tt.in, got.Canonical)
			}
			checkError(t, err)
			if msg := alliance.ErrorMessage(err); !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not contain %q", msg, tt.msg)
			}
			if got != (URL{}) {
				t.Errorf("got %+v with the error, want the zero URL", got)
			}
		})
	}
}

func TestCanonicalizeMaxLength(t *testing.T) {
	prefix := "http://example.com/"
	in := prefix + strings.Repeat("a", MaxLength-len(prefix))
	u, err := Canonicalize(in)
	if err != nil {
		t.Fatalf("a URL of exactly MaxLength bytes: %v", err)
	}
	if u.Canonical != in {
		t.Errorf("canonical differs from input")
	}
}

// TestUnescapeDeep checks the worst case of repeated unescaping: one level
// peeled per pass.
func TestUnescapeDeep(t *testing.T) {
	in := "http://example.com/%" + strings.Repeat("25", (MaxLength-30)/2)
	u, err := Canonicalize(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://example.com/%25"; u.Canonical != want {
		t.Errorf("got %q, want %q", u.Canonical, want)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"%41", "A"},
		{"%4", "%4"},
		{"%%414", "\xa4"},
		{"%2%35", "%"},
		{"%%3235", "#5"},
		{"%zz%", "%zz%"},
		{"a%2525b", "a%b"},
	}
	for _, tt := range tests {
		if got := unescape(tt.in); got != tt.want {
			t.Errorf("unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// The reference: full passes until nothing changes.
		if got, want := unescape(tt.in), unescapeReference(tt.in); got != want {
			t.Errorf("unescape(%q) = %q, reference %q", tt.in, got, want)
		}
	}
}

// unescapeReference decodes s in whole left-to-right passes until a pass
// changes nothing.
func unescapeReference(s string) string {
	for {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '%' && i+2 < len(s) {
				if hi, ok := unhex(s[i+1]); ok {
					if lo, ok := unhex(s[i+2]); ok {
						b.WriteByte(hi<<4 | lo)
						i += 2
						continue
					}
				}
			}
			b.WriteByte(s[i])
		}
		if b.String() == s {
			return s
		}
		s = b.String()
	}
}

// checkError checks that err is a user-facing validation error of the url field.
func checkError(t *testing.T, err error) {
	t.Helper()
	if code := alliance.ErrorCode(err); code != alliance.EINVALID {
		t.Errorf("error code = %q, want %q (%v)", code, alliance.EINVALID, err)
	}
	if field := alliance.ErrorField(err); field != Field {
		t.Errorf("error field = %q, want %q", field, Field)
	}
}

// checkValid checks the invariants of a canonical URL: it parses with
// net/url into the same parts, and canonicalising it again changes nothing.
func checkValid(t *testing.T, u URL) {
	t.Helper()
	p, err := url.Parse(u.Canonical)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", u.Canonical, err)
	}
	if p.Scheme != u.Scheme || p.Hostname() != u.Host || p.Port() != u.Port || p.User != nil || p.Fragment != "" {
		t.Errorf("url.Parse(%q) = scheme %q host %q port %q; URL has %q %q %q",
			u.Canonical, p.Scheme, p.Hostname(), p.Port(), u.Scheme, u.Host, u.Port)
	}
	if len(u.Canonical) > MaxLength {
		t.Errorf("canonical URL is %d bytes, over MaxLength", len(u.Canonical))
	}
	for i := 0; i < len(u.Canonical); i++ {
		if c := u.Canonical[i]; c <= ' ' || c >= 0x7f || c == '#' {
			t.Fatalf("canonical URL %q has byte %#x at %d", u.Canonical, c, i)
		}
	}
	again, err := Canonicalize(u.Canonical)
	if err != nil {
		t.Fatalf("Canonicalize(%q) (a canonical URL): %v", u.Canonical, err)
	}
	again.Original = u.Original
	if again != u {
		t.Errorf("not idempotent:\n %+v\n %+v", u, again)
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	const in = "https://www.Example.com/path/to/page.html?id=12345&lang=en#top"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonicalize(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalizeHard(b *testing.B) {
	inputs := map[string]string{
		"IDN":         "http://BÜCHER.example/a/./b/../c%2541?q=%2520",
		"deep escape": "http://example.com/%" + strings.Repeat("25", (MaxLength-30)/2),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Canonicalize(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
