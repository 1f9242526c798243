package worldmap_test

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/worldmap"
)

// notOnMap are founding members missing from the map: none, since the
// states too small for Natural Earth's 1:110m scale are drawn as dots.
var notOnMap = map[string]bool{}

func TestCountries(t *testing.T) {
	cs := worldmap.Countries()
	if len(cs) < 170 {
		t.Fatalf("Countries() has %d entries, want >= 170", len(cs))
	}
	byCode := map[string]worldmap.Country{}
	for i, c := range cs {
		if i > 0 && cs[i-1].Code >= c.Code {
			t.Errorf("not sorted or duplicate: %s after %s", c.Code, cs[i-1].Code)
		}
		byCode[c.Code] = c
	}
	want := []string{"SE", "NL", "US", "AU", "JP", "NZ"}
	for _, cc := range alliance.FoundingMembers {
		if !notOnMap[cc] {
			want = append(want, cc)
		}
	}
	for _, cc := range want {
		if _, ok := byCode[cc]; !ok {
			t.Errorf("country %s missing", cc)
		}
	}
	for cc := range notOnMap {
		if _, ok := byCode[cc]; ok {
			t.Errorf("%s is on the map now: drop it from notOnMap", cc)
		}
	}
	for _, c := range cs {
		t.Run(c.Code, func(t *testing.T) {
			if !alliance.ValidCountryCode(c.Code) {
				t.Errorf("code %q is not ISO 3166-1 alpha-2", c.Code)
			}
			if want := alliance.CountryName(c.Code); c.Name != want {
				t.Errorf("name %q, want %q as in package alliance", c.Name, want)
			}
			checkPath(t, c.Path)
		})
	}
	cs[0].Name = "changed"
	if worldmap.Countries()[0].Name == "changed" {
		t.Error("Countries() returns shared state")
	}
}

var pathChars = regexp.MustCompile(`^M[0-9Mlz., -]+z$`)

// checkPath checks the path's alphabet and walks it, an absolute moveto
// then relative linetos per ring, to check that every point lies in the map
// box (shapes that cross the antimeridian are clipped to it).
func checkPath(t *testing.T, d string) {
	t.Helper()
	if !pathChars.MatchString(d) {
		t.Fatalf("path %.60q... is not M/l/z path data", d)
	}
	const eps = 0.05 // relative steps summed in floating point
	points := 0
	for _, ring := range strings.Split(strings.TrimSuffix(d, "z"), "z") {
		head, tail, ok := strings.Cut(strings.TrimPrefix(ring, "M"), "l")
		if !ok || !strings.HasPrefix(ring, "M") {
			t.Fatalf("ring %.40q does not start with M...l", ring)
		}
		x, y := pair(t, head)
		for _, p := range strings.Fields(tail) {
			dx, dy := pair(t, p)
			x, y = x+dx, y+dy
			if x < -eps || x > worldmap.Width+eps || y < -eps || y > worldmap.Height+eps {
				t.Fatalf("point (%.1f, %.1f) outside the map box", x, y)
			}
			points++
		}
	}
	if points < 2 {
		t.Errorf("path has %d points", points)
	}
}

func pair(t *testing.T, s string) (float64, float64) {
	t.Helper()
	a, b, ok := strings.Cut(s, ",")
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("bad coordinate pair %q", s)
	}
	return x, y
}

// shape is a parsed <path class="country">.
type shape struct {
	class []string
	title string
	href  string
}

// parsed is what the tests read back from the SVG.
type parsed struct {
	root    xml.StartElement
	title   string
	desc    string
	shapes  map[string]shape
	caption string
	legend  []string // class of each swatch, then its label
}

// parse decodes svg strictly as XML and collects countries and legend.
func parse(t *testing.T, svg string) parsed {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	p := parsed{shapes: map[string]shape{}}
	var stack []xml.StartElement
	var cur *shape
	var curCode, href string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			tok = tok.Copy()
			if len(stack) == 0 {
				p.root = tok
			}
			stack = append(stack, tok)
			text.Reset()
			switch {
			case tok.Name.Local == "a":
				href = attr(tok, "href")
			case tok.Name.Local == "path" && slices.Contains(strings.Fields(attr(tok, "class")), "country"):
				curCode = attr(tok, "data-code")
				cur = &shape{class: strings.Fields(attr(tok, "class")), href: href}
			case tok.Name.Local == "rect" && len(stack) > 2 && attr(stack[len(stack)-2], "class") == "legend-step":
				p.legend = append(p.legend, attr(tok, "class"))
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			parent := ""
			if len(stack) > 1 {
				parent = stack[len(stack)-2].Name.Local
			}
			switch el := stack[len(stack)-1]; {
			case el.Name.Local == "title" && parent == "svg":
				p.title = text.String()
			case el.Name.Local == "desc" && parent == "svg":
				p.desc = text.String()
			case el.Name.Local == "title" && parent == "path" && cur != nil:
				cur.title = text.String()
			case el.Name.Local == "path" && cur != nil:
				if _, dup := p.shapes[curCode]; dup {
					t.Errorf("two shapes for %s", curCode)
				}
				p.shapes[curCode], cur = *cur, nil
			case el.Name.Local == "a":
				href = ""
			case el.Name.Local == "text" && attr(el, "class") == "legend-caption":
				p.caption = text.String()
			case el.Name.Local == "text" && parent == "g":
				p.legend = append(p.legend, text.String())
			}
			stack = stack[:len(stack)-1]
		}
	}
	return p
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestRender(t *testing.T) {
	values := map[string]float64{"SE": 1, "NL": 3, "US": 6, "JP": 8.6, "AU": 11, "XX": 99}
	out, err := worldmap.Render(worldmap.Options{
		Values:  values,
		Members: map[string]bool{"SE": true, "NL": true, "BR": true},
		Title:   "Median days to removal, 2013",
		Desc:    "Days from notice to removal, by hosting country.",
		Legend:  "Median days to removal",
		Format:  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " d" },
		Link:    func(cc string) string { return "/countries/" + cc + "/report?period=2013" },
	})
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, string(out))
	if p.root.Name.Local != "svg" || attr(p.root, "role") != "img" || attr(p.root, "aria-labelledby") != "worldmap-title worldmap-desc" {
		t.Errorf("root element %v", p.root)
	}
	if p.title != "Median days to removal, 2013" || p.desc != "Days from notice to removal, by hosting country." {
		t.Errorf("title %q, desc %q", p.title, p.desc)
	}
	if len(p.shapes) != len(worldmap.Countries()) {
		t.Errorf("%d shapes, want %d", len(p.shapes), len(worldmap.Countries()))
	}
	tests := []struct {
		code, step, title string
		member            bool
	}{
		{"SE", "q0", "Sweden: 1.0 d (member)", true},
		{"NL", "q1", "Netherlands: 3.0 d (member)", true},
		{"US", "q2", "United States: 6.0 d", false},
		{"JP", "q3", "Japan: 8.6 d", false},
		{"AU", "q4", "Australia: 11.0 d", false},
		{"BR", "nodata", "Brazil: no data (member)", true},
		{"FR", "nodata", "France: no data", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			s, ok := p.shapes[tt.code]
			if !ok {
				t.Fatal("no shape")
			}
			if !slices.Contains(s.class, tt.step) {
				t.Errorf("class %v, want %s", s.class, tt.step)
			}
			if got := slices.Contains(s.class, "member"); got != tt.member {
				t.Errorf("class %v, member %v, want %v", s.class, got, tt.member)
			}
			if s.title != tt.title {
				t.Errorf("title %q, want %q", s.title, tt.title)
			}
			if want := "/countries/" + tt.code + "/report?period=2013"; s.href != want {
				t.Errorf("href %q, want %q", s.href, want)
			}
		})
	}
	if se, zw := strings.Index(string(out), `data-code="SE"`), strings.Index(string(out), `data-code="ZW"`); se < zw {
		t.Error("members are not painted after the other countries")
	}
	if p.caption != "Median days to removal" {
		t.Errorf("legend caption %q", p.caption)
	}
	wantLegend := []string{
		"q0", "1.0 d–3.0 d", "q1", "3.0 d–5.0 d", "q2", "5.0 d–7.0 d",
		"q3", "7.0 d–9.0 d", "q4", "9.0 d–11.0 d", "nodata", "No data",
	}
	if !slices.Equal(p.legend, wantLegend) {
		t.Errorf("legend %q, want %q", p.legend, wantLegend)
	}
}

func TestRenderEdgeCases(t *testing.T) {
	tests := []struct {
		name       string
		opts       worldmap.Options
		wantStep   map[string]string // code → class expected
		wantLegend []string
		otherClass string // class of every country not in wantStep
	}{
		{
			name:       "equal values, one step",
			opts:       worldmap.Options{Values: map[string]float64{"SE": 7, "DE": 7, "GH": 7}},
			wantStep:   map[string]string{"SE": "q4", "DE": "q4", "GH": "q4"},
			wantLegend: []string{"q4", "7", "nodata", "No data"},
			otherClass: "nodata",
		},
		{
			name:       "empty values",
			opts:       worldmap.Options{Values: map[string]float64{}},
			wantLegend: []string{"nodata", "No data"},
			otherClass: "nodata",
		},
		{
			name:       "zero options",
			wantLegend: []string{"nodata", "No data"},
			otherClass: "nodata",
		},
		{
			name:       "negative and default format",
			opts:       worldmap.Options{Values: map[string]float64{"SE": -10, "NO": 0}},
			wantStep:   map[string]string{"SE": "q0", "NO": "q4"},
			wantLegend: []string{"q0", "-10–-8", "q1", "-8–-6", "q2", "-6–-4", "q3", "-4–-2", "q4", "-2–0", "nodata", "No data"},
			otherClass: "nodata",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := worldmap.Render(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			p := parse(t, string(out))
			if p.title != "World map" {
				t.Errorf("default title %q", p.title)
			}
			for code, s := range p.shapes {
				want := tt.otherClass
				if w, ok := tt.wantStep[code]; ok {
					want = w
				}
				if !slices.Contains(s.class, want) {
					t.Errorf("%s: class %v, want %s", code, s.class, want)
				}
				if s.href != "" {
					t.Errorf("%s: href %q without Link", code, s.href)
				}
			}
			if !slices.Equal(p.legend, tt.wantLegend) {
				t.Errorf("legend %q, want %q", p.legend, tt.wantLegend)
			}
		})
	}
}

func TestRenderEscapes(t *testing.T) {
	title := `<script>alert("x")</script> & 'q'` + "\x01\x7f"
	out, err := worldmap.Render(worldmap.Options{
		Values: map[string]float64{"SE": 1},
		Title:  title,
		Desc:   "a]]>b",
		Legend: "<b>days</b>",
		Format: func(float64) string { return "<i>1</i>" },
		ID:     "map-2",
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "<script") || strings.Contains(s, "<b>") || strings.Contains(s, "<i>") {
		t.Error("caller text not escaped")
	}
	p := parse(t, s)
	if want := `<script>alert("x")</script> & 'q'`; p.title != want {
		t.Errorf("title %q, want %q", p.title, want)
	}
	if p.desc != "a]]>b" || p.caption != "<b>days</b>" || p.shapes["SE"].title != "Sweden: <i>1</i>" {
		t.Errorf("desc %q, caption %q, SE title %q", p.desc, p.caption, p.shapes["SE"].title)
	}
	if got := attr(p.root, "aria-labelledby"); got != "map-2-title map-2-desc" {
		t.Errorf("aria-labelledby %q", got)
	}
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name string
		opts worldmap.Options
	}{
		{"NaN value", worldmap.Options{Values: map[string]float64{"SE": math.NaN()}}},
		{"infinite value", worldmap.Options{Values: map[string]float64{"SE": math.Inf(1)}}},
		{"javascript link", worldmap.Options{Link: func(string) string { return "javascript:alert(1)" }}},
		{"data link", worldmap.Options{Link: func(string) string { return "DATA:text/html,x" }}},
		{"bad id", worldmap.Options{ID: `x" onload="y`}},
		{"long title", worldmap.Options{Title: strings.Repeat("x", 1001)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := worldmap.Render(tt.opts)
			if err == nil || out != "" {
				t.Errorf("Render = %d bytes, %v; want an error", len(out), err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "worldmap: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	values := map[string]float64{}
	for i, c := range worldmap.Countries() {
		values[c.Code] = float64(i)
	}
	for b.Loop() {
		if _, err := worldmap.Render(worldmap.Options{Values: values}); err != nil {
			b.Fatal(err)
		}
	}
}
