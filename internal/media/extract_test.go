package media

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestExtractMedia(t *testing.T) {
	base, _ := url.Parse("https://site.example.test/dir/page.html?q=1")
	const b = "https://site.example.test"
	img := func(u, src string) Candidate { return Candidate{URL: u, Source: src, Kind: KindImage} }
	vid := func(u, src string) Candidate { return Candidate{URL: u, Source: src, Kind: KindVideo} }
	for _, tt := range []struct {
		name      string
		page      string
		limit     int
		want      []Candidate
		truncated bool
	}{
		{name: "img src relative and absolute", page: `<img src="a.png"><IMG SRC='/b.png'><img src=//cdn.example.test/c.png>`,
			want: []Candidate{img(b+"/dir/a.png", "img"), img(b+"/b.png", "img"), img("https://cdn.example.test/c.png", "img")}},
		{name: "srcset every URL", page: `<img src="a.png" srcset="a.png 1x, b.png 2x,c.png 3x , d.png">`,
			want: []Candidate{img(b+"/dir/a.png", "img"), img(b+"/dir/b.png", "srcset"), img(b+"/dir/c.png", "srcset"), img(b+"/dir/d.png", "srcset")}},
		{name: "srcset commas inside URLs and descriptors", page: `<img srcset="x.png?a=1,2 100w, data:image/png;base64,AAAA 1x, y.png, z.png (junk, more) 2x,,w.png">`,
			want: []Candidate{img(b+"/dir/x.png?a=1,2", "srcset"), img(b+"/dir/y.png", "srcset"), img(b+"/dir/z.png", "srcset"), img(b+"/dir/w.png", "srcset")}},
		{name: "a link to a non-image does not hide the same URL in img", page: `<a href="/f.txt">f</a><img src="/f.txt">`,
			want: []Candidate{img(b+"/f.txt", "img")}},
		{name: "data-src", page: `<img data-src="/lazy.webp" src="data:image/gif;base64,R0lGOD">`,
			want: []Candidate{img(b+"/lazy.webp", "data-src")}},
		{name: "picture sources", page: `<picture><source srcset="/p.webp" type="image/webp"><source src="/ignored.png"><img src="/p.jpg"></picture>`,
			want: []Candidate{img(b+"/p.webp", "srcset"), img(b+"/p.jpg", "img")}},
		{name: "links to images only", page: `<a href="/x.JPG?size=big#top">x</a><a href="/page.html">p</a><a href="/y.tiff">y</a><a href="/dir/">d</a><a href="/z.png/">z</a><a href="mailto:a@example.test">m</a>`,
			want: []Candidate{img(b+"/x.JPG?size=big", "a"), img(b+"/y.tiff", "a")}},
		{name: "meta tags", page: `<meta property="og:image" content="/og.png"><meta property="OG:IMAGE:URL" content="/og2.png"><meta name="twitter:image" content="/tw.png"><meta property="og:title" content="/not.png"><meta property="og:image:secure_url" content="https://site.example.test/og3.png">`,
			want: []Candidate{img(b+"/og.png", "og:image"), img(b+"/og2.png", "og:image"), img(b+"/tw.png", "twitter:image"), img(b+"/og3.png", "og:image")}},
		{name: "video, poster, sources", page: `<video src="/v.mp4" poster="/v.jpg"><source src="/v.webm" type="video/webm"></video><audio><source src="/a.ogg"></audio>`,
			want: []Candidate{img(b+"/v.jpg", "poster"), vid(b+"/v.mp4", "video"), vid(b+"/v.webm", "source"), vid(b+"/a.ogg", "source")}},
		{name: "base href", page: `<head><base href="https://other.example.test/root/"><base href="/ignored/"></head><img src="i.png"><a href="../j.gif">j</a>`,
			want: []Candidate{img("https://other.example.test/root/i.png", "img"), img("https://other.example.test/j.gif", "a")}},
		{name: "base href with a bad scheme is ignored", page: `<base href="javascript:void(0)"><img src="i.png">`,
			want: []Candidate{img(b+"/dir/i.png", "img")}},
		{name: "schemes and fragments", page: `<img src="javascript:alert(1)"><img src="ftp://files.example.test/a.png"><img src="DATA:image/png,x"><img src="HTTP://Site.Example.Test/Up.png#frag"><img src="#only"><img src="https://site.example.test/dir/page.html?q=1#x">`,
			want: []Candidate{img("http://site.example.test/Up.png", "img")}},
		{name: "duplicates keep first place", page: `<img src="/a.png"><img src="/a.png#x"><a href="/a.png">a</a><video poster="/a.png"></video><img src="/b.png">`,
			want: []Candidate{img(b+"/a.png", "img"), img(b+"/b.png", "img")}},
		{name: "whitespace and tabs in URLs", page: "<img src=\"  /sp ace.png\n\"><img src=\"/t\tab.png\">",
			want: []Candidate{img(b+"/sp%20ace.png", "img"), img(b+"/tab.png", "img")}},
		{name: "script and comments are not markup", page: `<script>var s = '<img src="/s.png">';</script><!-- <img src="/c.png"> --><img src="/real.png">`,
			want: []Candidate{img(b+"/real.png", "img")}},
		{name: "entities decoded", page: `<img src="/a.png?x=1&amp;y=2">`,
			want: []Candidate{img(b+"/a.png?x=1&y=2", "img")}},
		{name: "limit", page: `<img src="/1.png"><img src="/2.png"><img src="/3.png">`, limit: 2,
			want: []Candidate{img(b+"/1.png", "img"), img(b+"/2.png", "img")}, truncated: true},
		{name: "limit exactly reached is not truncated", page: `<img src="/1.png"><img src="/2.png"><img src="/1.png">`, limit: 2,
			want: []Candidate{img(b+"/1.png", "img"), img(b+"/2.png", "img")}},
		{name: "unclosed and broken markup", page: `<div><p><img src="/a.png" <img src=/b.png><video><img src="/c.png"`,
			want: []Candidate{img(b+"/a.png", "img")}},
		{name: "invalid UTF-8 and NUL", page: "<img src=\"/\xff\xfe\x00.png\"><img src=\"/ok.png\">",
			want: []Candidate{img(b+"/%FF%FE%EF%BF%BD.png", "img"), img(b+"/ok.png", "img")}},
		{name: "query escaped, host to ASCII", page: "<img src=\"/q.png?a=b c&d=\xff&quot;&e=%41&f=\u00e9\"><img src=\"https://\u00c9x\u00e4mple.test/i.png\"><img src=\"http://\u00e9x.test:8080/p.png\">",
			want: []Candidate{img(b+"/q.png?a=b%20c&d=%FF%22&e=%41&f=%C3%A9", "img"), img("https://xn--xmple-gra7a.test/i.png", "img"), img("http://xn--x-9fa.test:8080/p.png", "img")}},
		{name: "empty page", page: ``},
		{name: "not HTML at all", page: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, truncated := ExtractMedia([]byte(tt.page), base, tt.limit)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || truncated != tt.truncated {
				t.Fatalf("got %v truncated %v\nwant %v truncated %v", got, truncated, tt.want, tt.truncated)
			}
		})
	}
}

func TestExtractMediaNoBase(t *testing.T) {
	got, _ := ExtractMedia([]byte(`<img src="/rel.png"><img src="https://site.example.test/abs.png">`), nil, 0)
	if len(got) != 1 || got[0].URL != "https://site.example.test/abs.png" {
		t.Fatalf("got %v", got)
	}
}

// TestExtractMediaBounds feeds pages that are large in different ways and
// checks that the work stays bounded.
func TestExtractMediaBounds(t *testing.T) {
	base, _ := url.Parse("http://site.example.test/")
	huge := strings.Repeat("x", 8<<20)
	for _, tt := range []struct {
		name      string
		page      string
		wantN     int
		truncated bool
	}{
		{"many tokens", strings.Repeat("<b>", MaxTokens) + `<img src="/late.png">`, 0, true},
		{"many links", strings.Repeat(`<a href="/x.png">x</a>`, 50_000) + `<img src="/late.png">`, 2, false},
		{"deep nesting", strings.Repeat("<div>", 90_000) + `<img src="/deep.png">` + strings.Repeat("</div>", 90_000), 1, false},
		{"huge attribute", `<img src="/` + huge + `.png"><img src="/after.png">`, 1, false},
		{"huge srcset", `<img srcset="` + strings.Repeat("/a.png 1x, ", 1<<20) + `"><img src="/after.png">`, 1, false},
		{"huge text", huge + `<img src="/after.png">`, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got, truncated := ExtractMedia([]byte(tt.page), base, 50)
			if len(got) != tt.wantN || truncated != tt.truncated {
				t.Fatalf("%d candidates truncated %v, want %d %v", len(got), truncated, tt.wantN, tt.truncated)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// FuzzExtractMedia checks the invariants of ExtractMedia on any input: no
// panic, at most limit candidates, each an absolute http(s) URL without
// fragment, printable ASCII (escaped), no duplicates.
func FuzzExtractMedia(f *testing.F) {
	for _, s := range []string{
		`<img src="a.png" srcset="b.png 1x, c.png 2x"><a href="d.jpg">d</a>`,
		`<base href="http://b.example.test/x/"><video poster="p.jpg"><source src="v.mp4"></video>`,
		`<meta property="og:image" content="//cdn.example.test/o.png">`,
	} {
		f.Add([]byte(s), uint8(50))
	}
	base, _ := url.Parse("https://site.example.test/dir/page.html")
	f.Fuzz(func(t *testing.T, page []byte, limit uint8) {
		got, truncated := ExtractMedia(page, base, int(limit))
		max := int(limit)
		if max == 0 {
			max = DefaultMaxMediaPerPage
		}
		if len(got) > max {
			t.Fatalf("%d candidates, limit %d", len(got), max)
		}
		if truncated && len(got) < max && len(page) < MaxTokens {
			// Truncation below the limit only happens on the token bound,
			// which needs at least MaxTokens bytes.
			t.Fatalf("truncated with %d < %d candidates", len(got), max)
		}
		seen := map[string]bool{}
		for _, c := range got {
			u, err := url.Parse(c.URL)
			if err != nil {
				t.Fatalf("candidate %q does not parse: %v", c.URL, err)
			}
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || !isPrintableASCII(c.URL) {
				t.Fatalf("bad candidate %q", c.URL)
			}
			if len(c.URL) > MaxURLLen || seen[c.URL] {
				t.Fatalf("candidate %q too long or repeated", c.URL)
			}
			seen[c.URL] = true
			if c.Source == "" || (c.Kind != KindImage && c.Kind != KindVideo) {
				t.Fatalf("candidate %+v", c)
			}
		}
	})
}
