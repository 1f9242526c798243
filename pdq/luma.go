package pdq

import (
	"image"
	"image/color"
)

// The reference's luma weights are float constants initialised from
// double literals (const float luma_from_R_coeff = 0.299;). Going through
// a float64 variable reproduces that double-then-float rounding; for these
// three values it equals direct float32 rounding, which a test checks.
var (
	lumaR64, lumaG64, lumaB64 = 0.299, 0.587, 0.114
	lumaR, lumaG, lumaB       = float32(lumaR64), float32(lumaG64), float32(lumaB64)
)

// Each product coeff*sample is rounded to float32 on its own in the
// reference (no FMA on x86-64), so it can be tabulated; the luma is then
// (R + G) + B in that order.
var lumaTabR, lumaTabG, lumaTabB = func() (r, g, b [256]float32) {
	for v := range 256 {
		f := float32(v)
		r[v] = float32(lumaR * f)
		g[v] = float32(lumaG * f)
		b[v] = float32(lumaB * f)
	}
	return
}()

// lumaRGB is the reference's fillFloatLumaFromRGB for one pixel:
// 0.299f*R + 0.587f*G + 0.114f*B, left to right, in float32.
func lumaRGB(r, g, b uint8) float32 {
	return float32(lumaTabR[r]+lumaTabG[g]) + lumaTabB[b]
}

// grid maps output pixels to source pixels: the identity, or CImg's
// nearest-neighbour resize, whose source index for output x of n is
// floor(x*W/n) (CImg resize, interpolation_type 1).
type grid struct {
	srcW, srcH int
	w, h       int   // output size
	xs         []int // source column (relative to the image origin) per output column
}

// newGrid builds the grid for a profile, reusing xs's storage.
func newGrid(srcW, srcH int, p Profile, xs []int) grid {
	g := grid{srcW: srcW, srcH: srcH, w: srcW, h: srcH}
	if p == ProfileCPPCLI && (srcW > cliMaxSide || srcH > cliMaxSide) {
		g.w, g.h = cliMaxSide, cliMaxSide
	}
	g.xs = growInts(xs, g.w)
	for x := range g.xs {
		g.xs[x] = g.srcX(x)
	}
	return g
}

func (g *grid) srcX(x int) int {
	if g.w == g.srcW {
		return x
	}
	return int(int64(x) * int64(g.srcW) / int64(g.w))
}

func (g *grid) srcY(y int) int {
	if g.h == g.srcH {
		return y
	}
	return int(int64(y) * int64(g.srcH) / int64(g.h))
}

func (g *grid) identityX() bool { return g.w == g.srcW }

// lumaSource serves rows of a caller's luma buffer.
type lumaSource struct {
	grid
	pix []float32
}

func (s *lumaSource) row(r int, scratch []float32) []float32 {
	base := s.srcY(r) * s.srcW
	src := s.pix[base : base+s.srcW]
	if s.identityX() {
		return src
	}
	for x, sx := range s.xs {
		scratch[x] = src[sx]
	}
	return scratch[:s.w]
}

// imageSource serves luma rows computed from an image.Image, with fast
// paths for the standard library's concrete types.
type imageSource struct {
	grid
	img  image.Image
	minX int
	minY int
	r16  func(uint16) uint8 // 16-bit reduction for colour samples
	g16  func(uint16) uint8 // 16-bit reduction for grey samples
	pal  [256]float32       // luma of each palette entry (Paletted)
	cxs  []int              // chroma column per output column (YCbCr)
}

func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// init points s at img, reusing the storage of xs and cxs.
func (s *imageSource) init(img image.Image, opts Options, xs, cxs []int) {
	b := img.Bounds()
	*s = imageSource{
		grid: newGrid(b.Dx(), b.Dy(), opts.Profile, xs),
		img:  img,
		minX: b.Min.X,
		minY: b.Min.Y,
		r16:  opts.reduce16(false),
		g16:  opts.reduce16(true),
		cxs:  cxs[:0],
	}
	switch m := img.(type) {
	case *image.Paletted:
		for i := range s.pal {
			if i < len(m.Palette) {
				s.pal[i] = lumaColor(m.Palette[i], s)
			}
		}
	case *image.YCbCr:
		s.cxs = chromaColumns(m, s, cxs)
	case *image.NYCbCrA:
		s.cxs = chromaColumns(&m.YCbCr, s, cxs)
	}
}

// chromaColumns gives, per output column, the offset of its chroma sample
// within a chroma row, as image.YCbCr.COffset computes it.
func chromaColumns(m *image.YCbCr, s *imageSource, cxs []int) []int {
	cxs = growInts(cxs, len(s.xs))
	for x, sx := range s.xs {
		ax := s.minX + sx
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
			cxs[x] = ax/2 - m.Rect.Min.X/2
		case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
			cxs[x] = ax/4 - m.Rect.Min.X/4
		default: // 444, 440
			cxs[x] = ax - m.Rect.Min.X
		}
	}
	return cxs
}

func chromaRow(m *image.YCbCr, ay int) int {
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio410:
		return (ay/2 - m.Rect.Min.Y/2) * m.CStride
	}
	return (ay - m.Rect.Min.Y) * m.CStride
}

// lumaColor is the luma of one colour from a generic image, with alpha
// dropped: grey models take the grey path, everything else the RGB one.
func lumaColor(c color.Color, s *imageSource) float32 {
	switch c := c.(type) {
	case color.Gray:
		return float32(c.Y)
	case color.Gray16:
		return float32(s.g16(c.Y))
	case color.RGBA64, color.NRGBA64:
		n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
		return lumaRGB(s.r16(n.R), s.r16(n.G), s.r16(n.B))
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return lumaRGB(n.R, n.G, n.B)
}

// unpremultiply recovers straight colour from a premultiplied pixel the
// way color.NRGBAModel does; fully opaque pixels are returned unchanged.
func unpremultiply(r, g, b, a uint8) (uint8, uint8, uint8) {
	if a == 0xff {
		return r, g, b
	}
	n := color.NRGBAModel.Convert(color.RGBA{r, g, b, a}).(color.NRGBA)
	return n.R, n.G, n.B
}

func (s *imageSource) row(r int, dst []float32) []float32 {
	dst = dst[:s.w]
	sy := s.srcY(r)
	ay := s.minY + sy
	switch m := s.img.(type) {
	case *image.NRGBA:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		if s.identityX() {
			p = p[:4*len(dst)]
			for x := range dst {
				q := p[4*x : 4*x+3 : 4*x+3]
				dst[x] = lumaRGB(q[0], q[1], q[2])
			}
			break
		}
		for x, sx := range s.xs {
			q := p[4*sx : 4*sx+3 : 4*sx+3]
			dst[x] = lumaRGB(q[0], q[1], q[2])
		}
	case *image.RGBA:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		for x, sx := range s.xs {
			q := p[4*sx : 4*sx+4 : 4*sx+4]
			if q[3] == 0xff {
				dst[x] = lumaRGB(q[0], q[1], q[2])
			} else {
				dst[x] = lumaRGB(unpremultiply(q[0], q[1], q[2], q[3]))
			}
		}
	case *image.Gray:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		if s.identityX() {
			for x, v := range p[:len(dst)] {
				dst[x] = float32(v)
			}
			break
		}
		for x, sx := range s.xs {
			dst[x] = float32(p[sx])
		}
	case *image.Gray16:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		for x, sx := range s.xs {
			dst[x] = float32(s.g16(uint16(p[2*sx])<<8 | uint16(p[2*sx+1])))
		}
	case *image.YCbCr:
		s.rowYCbCr(m, ay, dst)
	case *image.NYCbCrA:
		s.rowYCbCr(&m.YCbCr, ay, dst)
	case *image.Paletted:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		for x, sx := range s.xs {
			dst[x] = s.pal[p[sx]]
		}
	case *image.CMYK:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		for x, sx := range s.xs {
			q := p[4*sx : 4*sx+4 : 4*sx+4]
			dst[x] = lumaRGB(color.CMYKToRGB(q[0], q[1], q[2], q[3]))
		}
	case *image.NRGBA64:
		p := m.Pix[m.PixOffset(s.minX, ay):]
		for x, sx := range s.xs {
			q := p[8*sx : 8*sx+6 : 8*sx+6]
			dst[x] = lumaRGB(
				s.r16(uint16(q[0])<<8|uint16(q[1])),
				s.r16(uint16(q[2])<<8|uint16(q[3])),
				s.r16(uint16(q[4])<<8|uint16(q[5])))
		}
	case *image.RGBA64:
		for x, sx := range s.xs {
			dst[x] = lumaColor(m.RGBA64At(s.minX+sx, ay), s)
		}
	default:
		for x, sx := range s.xs {
			dst[x] = lumaColor(s.img.At(s.minX+sx, ay), s)
		}
	}
	return dst
}

// rowYCbCr converts each pixel to RGB exactly as color.YCbCrToRGB (Go's
// JPEG colour transform) does, then takes the RGB luma like any other
// pixel. ycbcrToRGB is a copy of that integer formula small enough to be
// inlined; a test checks all 2^24 inputs against the standard library.
func (s *imageSource) rowYCbCr(m *image.YCbCr, ay int, dst []float32) {
	yp := m.Y[(ay-m.Rect.Min.Y)*m.YStride+(s.minX-m.Rect.Min.X):]
	c := chromaRow(m, ay)
	cb, cr := m.Cb[c:], m.Cr[c:]
	cxs := s.cxs[:len(dst)]
	xs := s.xs[:len(dst)]
	for x := range dst {
		sx, cx := xs[x], cxs[x]
		dst[x] = lumaRGB(ycbcrToRGB(yp[sx], cb[cx], cr[cx]))
	}
}

func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101 // 65536*Y plus a rounding term of 257*Y
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := (yy + 91881*cr1) >> 16
	g := (yy - 22554*cb1 - 46802*cr1) >> 16
	b := (yy + 116130*cb1) >> 16
	return uint8(max(0, min(r, 255))), uint8(max(0, min(g, 255))), uint8(max(0, min(b, 255)))
}
