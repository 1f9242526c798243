package worldmap

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Width and Height are the size of the map area in SVG user units; the
// legend is drawn below it, inside the same viewBox.
const (
	Width  = 960
	Height = 480
)

// legendHeight is the band below the map that holds the legend.
const legendHeight = 60

// Steps is the number of classes of the colour scale (q0..q4).
const Steps = 5

// Colours are the fallback fills of classes q0..q4 (a light-to-dark blue
// ramp), used when the page's CSS does not style the classes.
var Colours = [Steps]string{"#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"}

// NoDataColour is the fallback fill of countries without a value.
const NoDataColour = "#d9d9d9"

// Country is one shape of the map.
type Country struct {
	Code string // ISO 3166-1 alpha-2
	Name string // English short name
	Path string // SVG path data in the 960×480 map box
}

//go:embed countries.json
var countriesJSON []byte

var loadCountries = sync.OnceValue(func() []Country {
	var raw []struct{ Code, Name, Path string }
	if err := json.Unmarshal(countriesJSON, &raw); err != nil {
		// The file is embedded at build time and checked by the tests, so
		// this is a broken build, not bad input.
		panic(fmt.Sprintf("worldmap: parse embedded countries.json: %v", err))
	}
	out := make([]Country, len(raw))
	for i, r := range raw {
		out[i] = Country(r)
	}
	// The 1:110m outlines leave out the smallest states; those drawn as
	// points get a dot, so that a member such as Malta is on the map.
	for _, p := range smallStates {
		if !slices.ContainsFunc(out, func(c Country) bool { return c.Code == p.Code }) {
			out = append(out, Country{Code: p.Code, Name: p.Name, Path: dot(p.Lon, p.Lat)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
})

// Countries returns the countries on the map, sorted by code. The slice is
// a copy the caller may change.
func Countries() []Country {
	c := loadCountries()
	return append([]Country(nil), c...)
}

// smallStates are states too small for the 1:110m outlines, placed by
// the longitude and latitude of their capital.
var smallStates = []struct {
	Code, Name string
	Lon, Lat   float64
}{
	{"MT", "Malta", 14.51, 35.90},
	{"SG", "Singapore", 103.82, 1.35},
	{"BH", "Bahrain", 50.59, 26.22},
	{"MV", "Maldives", 73.51, 4.18},
	{"LI", "Liechtenstein", 9.52, 47.14},
	{"MC", "Monaco", 7.42, 43.74},
	{"SM", "San Marino", 12.46, 43.94},
	{"AD", "Andorra", 1.52, 42.51},
	{"MU", "Mauritius", 57.55, -20.35},
}

// dotRadius is the radius of a small state's dot, in map units: large
// enough to see and to click.
const dotRadius = 2.5

// dot is an SVG path of an octagon round a longitude and latitude, in the
// same projection and path form (moveto, relative linetos) as the outlines.
func dot(lon, lat float64) string {
	x, y := (lon+180)*Width/360, (90-lat)*Height/180
	var b strings.Builder
	px, py := math.Round((x+dotRadius)*10)/10, math.Round(y*10)/10
	fmt.Fprintf(&b, "M%g,%gl", px, py)
	for i := 1; i < 8; i++ {
		a := float64(i) * math.Pi / 4
		nx, ny := math.Round((x+dotRadius*math.Cos(a))*10)/10, math.Round((y+dotRadius*math.Sin(a))*10)/10
		if i > 1 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%g,%g", math.Round((nx-px)*10)/10, math.Round((ny-py)*10)/10)
		px, py = nx, ny
	}
	b.WriteString("z")
	return b.String()
}

// Options says what to draw.
type Options struct {
	// Values by alpha-2 code; countries without a value are drawn grey ("no
	// data"). Values must be finite. Codes not on the map are ignored.
	Values map[string]float64
	// Members are outlined with a thicker stroke (class "member").
	Members map[string]bool
	// Title and Desc become the SVG's <title> and <desc>, its accessible
	// name and description. Title defaults to "World map".
	Title, Desc string
	// Legend is the caption of the legend, e.g. "Median days to removal".
	Legend string
	// Format writes a value for titles and the legend; default "%.0f".
	Format func(float64) string
	// Link, if set, returns the href of a country's shape ("" for none).
	// Only relative, http and https URLs are accepted.
	Link func(code string) string
	// ID prefixes the element ids (for aria-labelledby), so that several
	// maps can share a page. Letters, digits, '-' and '_'; default "worldmap".
	ID string
}

var idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// maxText bounds the caller's texts so that a runaway string cannot blow up
// the page.
const maxText = 1000

// Render draws the map: an <svg role="img"> with one <path class="country">
// per country (classes q0..q4 for the value's step, "nodata" without a
// value, "member" for members), a data-code attribute, a fallback fill, a
// <title> "Name: value", and a legend of the steps with their ranges.
func Render(o Options) (template.HTML, error) {
	id := o.ID
	if id == "" {
		id = "worldmap"
	}
	if !idPattern.MatchString(id) {
		return "", fmt.Errorf("worldmap: invalid id %q", id)
	}
	title := o.Title
	if title == "" {
		title = "World map"
	}
	for name, s := range map[string]string{"title": title, "desc": o.Desc, "legend": o.Legend} {
		if len(s) > maxText {
			return "", fmt.Errorf("worldmap: %s is %d bytes, limit %d", name, len(s), maxText)
		}
	}
	format := o.Format
	if format == nil {
		format = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	}
	for code, v := range o.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("worldmap: value for %q is not finite", code)
		}
	}

	countries := loadCountries()
	sc := newScale(countries, o.Values)

	var b strings.Builder
	b.Grow(140 << 10)
	titleID, descID := id+"-title", id+"-desc"
	labelled := titleID
	if o.Desc != "" {
		labelled += " " + descID
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="worldmap" role="img" viewBox="0 0 %d %d" overflow="hidden" aria-labelledby="%s">`,
		Width, Height+legendHeight, esc(labelled))
	fmt.Fprintf(&b, `<title id="%s">%s</title>`, esc(titleID), esc(title))
	if o.Desc != "" {
		fmt.Fprintf(&b, `<desc id="%s">%s</desc>`, esc(descID), esc(o.Desc))
	}
	// Shapes that cross the antimeridian are drawn twice, once beyond each
	// edge; the clip keeps them inside the map box.
	fmt.Fprintf(&b, `<clipPath id="%s-clip"><rect width="%d" height="%d"/></clipPath>`, esc(id), Width, Height)
	fmt.Fprintf(&b, `<g class="countries" clip-path="url(#%s-clip)">`, esc(id))
	// Members are painted last so that neighbours do not cover their
	// thicker outline.
	ordered := make([]Country, 0, len(countries))
	for _, c := range countries {
		if !o.Members[c.Code] {
			ordered = append(ordered, c)
		}
	}
	for _, c := range countries {
		if o.Members[c.Code] {
			ordered = append(ordered, c)
		}
	}
	for _, c := range ordered {
		href := ""
		if o.Link != nil {
			href = o.Link(c.Code)
			if err := checkHref(href); err != nil {
				return "", fmt.Errorf("worldmap: link for %s: %w", c.Code, err)
			}
		}
		class, fill, label := "country nodata", NoDataColour, c.Name+": no data"
		v, ok := o.Values[c.Code]
		if ok {
			q := sc.step(v)
			class, fill = "country q"+strconv.Itoa(q), Colours[q]
			label = c.Name + ": " + format(v)
		}
		stroke, width := "#ffffff", "0.3"
		if o.Members[c.Code] {
			class += " member"
			stroke, width = "#222222", "0.9"
			label += " (member)"
		}
		if href != "" {
			fmt.Fprintf(&b, `<a href="%s">`, esc(href))
		}
		fmt.Fprintf(&b, `<path class="%s" data-code="%s"`, class, esc(c.Code))
		if ok {
			fmt.Fprintf(&b, ` data-value="%s"`, strconv.FormatFloat(v, 'g', -1, 64))
		}
		fmt.Fprintf(&b, ` fill="%s" stroke="%s" stroke-width="%s" d="%s"><title>%s</title></path>`,
			fill, stroke, width, esc(c.Path), esc(label))
		if href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</g>`)
	writeLegend(&b, o.Legend, sc, format)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), nil
}

// scale maps values to steps by equal intervals between the smallest and
// the largest value on the map.
type scale struct {
	min, max float64
	n        int // number of values on the map
}

func newScale(countries []Country, values map[string]float64) scale {
	s := scale{min: math.Inf(1), max: math.Inf(-1)}
	for _, c := range countries {
		if v, ok := values[c.Code]; ok {
			s.min, s.max = math.Min(s.min, v), math.Max(s.max, v)
			s.n++
		}
	}
	return s
}

// single reports whether all values are equal, so there is one step only.
func (s scale) single() bool { return s.n > 0 && s.min == s.max }

func (s scale) step(v float64) int {
	if s.single() {
		return Steps - 1
	}
	q := int((v - s.min) / (s.max - s.min) * Steps)
	return max(0, min(q, Steps-1))
}

// bounds returns the range of step q.
func (s scale) bounds(q int) (lo, hi float64) {
	w := (s.max - s.min) / Steps
	lo, hi = s.min+float64(q)*w, s.min+float64(q+1)*w
	if q == Steps-1 {
		hi = s.max
	}
	return lo, hi
}

func writeLegend(b *strings.Builder, caption string, s scale, format func(float64) string) {
	y := Height + 12
	b.WriteString(`<g class="legend" font-family="sans-serif" font-size="11" fill="#222222">`)
	if caption != "" {
		fmt.Fprintf(b, `<text class="legend-caption" x="10" y="%d">%s</text>`, y+10, esc(caption))
	}
	type entry struct{ class, fill, label string }
	var entries []entry
	switch {
	case s.n == 0:
	case s.single():
		entries = append(entries, entry{"q" + strconv.Itoa(Steps-1), Colours[Steps-1], format(s.min)})
	default:
		for q := range Steps {
			lo, hi := s.bounds(q)
			entries = append(entries, entry{"q" + strconv.Itoa(q), Colours[q], format(lo) + "–" + format(hi)})
		}
	}
	entries = append(entries, entry{"nodata", NoDataColour, "No data"})
	x := 10
	for _, e := range entries {
		fmt.Fprintf(b, `<g class="legend-step"><rect class="%s" x="%d" y="%d" width="14" height="14" fill="%s" stroke="#888888" stroke-width="0.5"/><text x="%d" y="%d">%s</text></g>`,
			e.class, x, y+20, e.fill, x+18, y+31, esc(e.label))
		x += 150
	}
	b.WriteString(`</g>`)
}

// checkHref accepts "" and relative, http and https URLs: the link ends up
// in an href, where a javascript: URL would run.
func checkHref(h string) error {
	if h == "" {
		return nil
	}
	if len(h) > 2048 {
		return fmt.Errorf("href is %d bytes, limit 2048", len(h))
	}
	u, err := url.Parse(h)
	if err != nil {
		return fmt.Errorf("parse href %q: %w", h, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https":
		return nil
	}
	return fmt.Errorf("href %q: scheme %q not allowed", h, u.Scheme)
}

// esc escapes text for XML element content and quoted attributes, dropping
// what XML 1.0 cannot carry (control characters, invalid UTF-8) so that the
// output stays well-formed whatever the caller passes.
func esc(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r != 0x7f && r != 0xfffe && r != 0xffff) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, ""))
	return template.HTMLEscapeString(s)
}
