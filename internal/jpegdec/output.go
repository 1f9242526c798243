package jpegdec

import "image"

// This file turns the decoded component planes into the samples that
// libjpeg-turbo returns with its default settings (do_fancy_upsampling on,
// which also rules out merged upsampling): jdsample.c's upsampling,
// chosen per component as jinit_upsampler chooses it, then jdcolor.c's
// colour conversion. The arithmetic follows libjpeg (copyright (C)
// 1991-1996 Thomas G. Lane, the Independent JPEG Group, and for the
// h1v2 method D. R. Commander, libjpeg-turbo), used under the IJG licence;
// libjpeg-turbo's SIMD versions give the same samples.

type colorSpace int

const (
	csGray colorSpace = iota
	csYCbCr
	csRGB
	csCMYK
	csYCCK
)

// upsampler produces full-resolution rows of one component.
type upsampler struct {
	pix    []byte
	stride int
	dw, dh int // downsampled_width and downsampled_height
	fh, fv int // upsampling factors (max_h_samp_factor / h_samp_factor, …)
	method int
	buf    []byte // output row, when the method computes one
}

const (
	upFull = iota
	upBox
	upH2V1Fancy
	upH1V2Fancy
	upH2V2Fancy
)

func (d *decoder) upsampler(i, width int) *upsampler {
	c := &d.comp[i]
	u := &upsampler{
		pix: d.planes[i], stride: d.stride[i],
		dw: c.dw, dh: c.dh,
		fh: d.hMax / c.h, fv: d.vMax / c.v,
	}
	switch {
	case u.fh == 1 && u.fv == 1:
		u.method = upFull
	case u.fh == 2 && u.fv == 1 && c.dw > 2:
		u.method = upH2V1Fancy
	case u.fh == 1 && u.fv == 2:
		u.method = upH1V2Fancy
	case u.fh == 2 && u.fv == 2 && c.dw > 2:
		u.method = upH2V2Fancy
	default:
		// h2v1_upsample, h2v2_upsample and int_upsample all replicate.
		u.method = upBox
	}
	if u.method != upFull {
		// The fancy methods write whole pairs: 2*dw may pass width by one.
		u.buf = make([]byte, max(width, u.fh*u.dw))
	}
	return u
}

// row returns the full-resolution samples of image row y (at least width
// of them).
func (u *upsampler) row(y int) []byte {
	switch u.method {
	case upFull:
		return u.pix[y*u.stride:]
	case upBox:
		in := u.pix[(y/u.fv)*u.stride:]
		out := u.buf
		if u.fh == 1 {
			return in
		}
		for x := range out {
			out[x] = in[x/u.fh]
		}
		return out
	}
	cy := y / u.fv
	in := u.pix[cy*u.stride : cy*u.stride+u.dw]
	if u.method == upH2V1Fancy {
		h2v1Fancy(u.buf, in)
		return u.buf
	}
	// The vertical methods blend in the neighbouring row on the side of y:
	// above for the upper output row of a pair, below for the lower. At
	// the image's top and bottom edges libjpeg's context rows repeat the
	// first and last real row (jdmainct.c).
	ny, upper := cy+1, y%2 == 1
	if !upper {
		ny = cy - 1
	}
	ny = max(0, min(ny, u.dh-1))
	far := u.pix[ny*u.stride : ny*u.stride+u.dw]
	if u.method == upH1V2Fancy {
		bias := int32(1)
		if upper {
			bias = 2
		}
		h1v2Fancy(u.buf, in, far, bias)
		return u.buf
	}
	h2v2Fancy(u.buf, in, far)
	return u.buf
}

// h2v1Fancy is jdsample.c's h2v1_fancy_upsample: each output sample is
// 3/4 of the nearer input sample plus 1/4 of the further one, with
// alternating rounding; len(in) > 2.
func h2v1Fancy(out, in []byte) {
	n := len(in)
	out = out[:2*n]
	out[0] = in[0]
	out[1] = uint8((int32(in[0])*3 + int32(in[1]) + 2) >> 2)
	for c := 1; c < n-1; c++ {
		v := int32(in[c]) * 3
		out[2*c] = uint8((v + int32(in[c-1]) + 1) >> 2)
		out[2*c+1] = uint8((v + int32(in[c+1]) + 2) >> 2)
	}
	out[2*n-2] = uint8((int32(in[n-1])*3 + int32(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h1v2Fancy is jdsample.c's h1v2_fancy_upsample (libjpeg-turbo):
// 3/4 of the nearer row plus 1/4 of the further one.
func h1v2Fancy(out, near, far []byte, bias int32) {
	far = far[:len(near)]
	out = out[:len(near)]
	for c := range near {
		out[c] = uint8((int32(near[c])*3 + int32(far[c]) + bias) >> 2)
	}
}

// h2v2Fancy is jdsample.c's h2v2_fancy_upsample for one output row: the
// vertical 3:1 blend of the nearer and further rows, then the horizontal
// 3:1 blend, with libjpeg's rounding (+8 and +7 alternately, over 16);
// len(near) > 2.
func h2v2Fancy(out, near, far []byte) {
	n := len(near)
	far = far[:n]
	out = out[:2*n]
	this := int32(near[0])*3 + int32(far[0])
	next := int32(near[1])*3 + int32(far[1])
	out[0] = uint8((this*4 + 8) >> 4)
	out[1] = uint8((this*3 + next + 7) >> 4)
	last := this
	this = next
	for c := 2; c < n; c++ {
		next = int32(near[c])*3 + int32(far[c])
		out[2*c-2] = uint8((this*3 + last + 8) >> 4)
		out[2*c-1] = uint8((this*3 + next + 7) >> 4)
		last = this
		this = next
	}
	out[2*n-2] = uint8((this*3 + last + 8) >> 4)
	out[2*n-1] = uint8((this*4 + 7) >> 4)
}

// YCbCr→RGB tables of jdcolor.c's build_ycc_rgb_table (SCALEBITS 16):
// R = Y + crR[Cr], B = Y + cbB[Cb], G = Y + (cbG[Cb] + crG[Cr]) >> 16.
var crR, cbB, crG, cbG = func() (crR, cbB, crG, cbG [256]int32) {
	const (
		scaleBits = 16
		oneHalf   = 1 << (scaleBits - 1)
	)
	fix := func(x float64) int64 { return int64(x*(1<<scaleBits) + 0.5) }
	for i := range 256 {
		x := int64(i - 128)
		crR[i] = int32((fix(1.40200)*x + oneHalf) >> scaleBits)
		cbB[i] = int32((fix(1.77200)*x + oneHalf) >> scaleBits)
		crG[i] = int32(-fix(0.71414) * x)
		cbG[i] = int32(-fix(0.34414)*x + oneHalf)
	}
	return
}()

func clamp255(v int32) uint8 { return uint8(max(0, min(v, 255))) }

// output converts the planes to the image Decode returns or, when xs
// and ys are set, to the image of the pixels at those columns and rows.
func (d *decoder) output(xs, ys []int) image.Image {
	w, h := d.width, d.height
	if xs != nil {
		w, h = len(xs), len(ys)
	}
	rect := image.Rect(0, 0, w, h)
	srcY := func(y int) int { return y }
	if ys != nil {
		srcY = func(y int) int { return ys[y] }
	}
	cs := d.cs
	if cs == csGray && xs == nil {
		return &image.Gray{Pix: d.planes[0][:(h-1)*d.stride[0]+w], Stride: d.stride[0], Rect: rect}
	}
	var ups [maxComponents]*upsampler
	for i := range d.nComp {
		ups[i] = d.upsampler(i, d.width)
	}
	defer d.wipePlanes()
	if cs == csGray {
		m := image.NewGray(rect)
		for y := range h {
			gather(m.Pix[y*m.Stride:y*m.Stride+w], ups[0].row(srcY(y)), xs)
		}
		return m
	}
	// rows holds the gathered samples of each component for one output
	// row when sampling; otherwise the upsampled rows are used in place.
	var rows [maxComponents][]byte
	if xs != nil {
		for i := range d.nComp {
			rows[i] = make([]byte, w)
		}
	}
	row := func(i, y int) []byte {
		r := ups[i].row(srcY(y))
		if xs == nil {
			return r[:w]
		}
		gather(rows[i], r, xs)
		return rows[i]
	}
	if d.nComp == 3 {
		m := image.NewNRGBA(rect)
		for y := range h {
			r0, r1, r2 := row(0, y), row(1, y), row(2, y)
			dst := m.Pix[y*m.Stride : y*m.Stride+4*w]
			if cs == csRGB {
				for x := range w {
					p := dst[4*x : 4*x+4 : 4*x+4]
					p[0], p[1], p[2], p[3] = r0[x], r1[x], r2[x], 0xff
				}
				continue
			}
			yccToRGBA(dst, r0, r1, r2)
		}
		return m
	}
	// CMYK and YCCK: libjpeg returns (Adobe-inverted) CMYK; the standard
	// library's CMYK holds ink amounts, 255 minus those samples.
	m := image.NewCMYK(rect)
	for y := range h {
		r0, r1, r2, r3 := row(0, y), row(1, y), row(2, y), row(3, y)
		dst := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for x := range w {
			p := dst[4*x : 4*x+4 : 4*x+4]
			if cs == csYCCK {
				// ycck_cmyk_convert gives 255-R, 255-G, 255-B and K; its
				// ink amounts are therefore R, G, B and 255-K.
				yy, cb, cr := int32(r0[x]), r1[x], r2[x]
				p[0] = clamp255(yy + crR[cr])
				p[1] = clamp255(yy + (cbG[cb]+crG[cr])>>16)
				p[2] = clamp255(yy + cbB[cb])
				p[3] = 255 - r3[x]
				continue
			}
			p[0], p[1], p[2], p[3] = 255-r0[x], 255-r1[x], 255-r2[x], 255-r3[x]
		}
	}
	return m
}

// gather copies src[xs[i]] to dst[i], or src to dst when xs is nil.
func gather(dst, src []byte, xs []int) {
	if xs == nil {
		copy(dst, src)
		return
	}
	for i, x := range xs[:len(dst)] {
		dst[i] = src[x]
	}
}

// clampTab is libjpeg's sample_range_limit for the colour converter,
// offset by clampOffset: clampTab[v+clampOffset] is v clamped to 0..255
// for -384 <= v < 640, which covers every Y plus chroma term. A table beats
// two comparisons here.
var clampTab = func() (t [1024]uint8) {
	for i := range t {
		t[i] = uint8(max(0, min(i-clampOffset, 255)))
	}
	return t
}()

const clampOffset = 384

// yccToRGBA is jdcolor.c's ycc_rgb_convert for one row, writing opaque
// RGBA.
func yccToRGBA(dst, ys, cbs, crs []byte) {
	cbs = cbs[:len(ys)]
	crs = crs[:len(ys)]
	dst = dst[:4*len(ys)]
	for x, yv := range ys {
		yy, cb, cr := int32(yv)+clampOffset, cbs[x], crs[x]
		p := dst[4*x : 4*x+4 : 4*x+4]
		p[0] = clampTab[uint32(yy+crR[cr])&1023]
		p[1] = clampTab[uint32(yy+(cbG[cb]+crG[cr])>>16)&1023]
		p[2] = clampTab[uint32(yy+cbB[cb])&1023]
		p[3] = 0xff
	}
}

// wipePlanes clears and drops the component planes once the output image
// holds the samples: decoded content must not linger in memory the
// decoder no longer needs.
func (d *decoder) wipePlanes() {
	for i := range d.planes {
		clear(d.planes[i])
		d.planes[i] = nil
	}
}
