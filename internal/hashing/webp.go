package hashing

import "image"

// webpToNRGBA converts a lossy WebP's 4:2:0 YCbCr to RGB as libwebp does
// by default (WebPDecode's "fancy upsampling", src/dsp/upsampling.c, and
// its 14-bit fixed-point conversion, src/dsp/yuv.h), which is what
// ImageMagick and PIL return and so what the references hash;
// golang.org/x/image/webp leaves the conversion to image/color, which
// replicates chroma and rounds differently. Alpha, if any, is dropped.
//
// Each chroma value is interpolated from the 2×2 nearest chroma samples
// with weights 9, 3, 3, 1 (over 16, rounded in two steps as libwebp
// does); the nearer chroma row of output row y is y/2 and the other is
// the one on y's side of it, repeated at the image's edges, as libwebp
// pairs rows.
func webpToNRGBA(m *image.YCbCr) *image.NRGBA {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	cw, ch := (w+1)/2, (h+1)/2
	us := make([]uint8, w)
	vs := make([]uint8, w)
	for y := range h {
		near := y / 2
		far := near - 1
		if y%2 == 1 {
			far = near + 1
		}
		far = max(0, min(far, ch-1))
		cbN := m.Cb[near*m.CStride:][:cw]
		cbF := m.Cb[far*m.CStride:][:cw]
		crN := m.Cr[near*m.CStride:][:cw]
		crF := m.Cr[far*m.CStride:][:cw]
		upsampleWebP(us, cbN, cbF)
		upsampleWebP(vs, crN, crF)
		yrow := m.Y[y*m.YStride:][:w]
		dst := out.Pix[y*out.Stride:][:4*w]
		for x, yv := range yrow {
			yy := multHi(int32(yv), 19077)
			u, v := int32(us[x]), int32(vs[x])
			p := dst[4*x : 4*x+4 : 4*x+4]
			p[0] = clip8(yy + multHi(v, 26149) - 14234)
			p[1] = clip8(yy - multHi(u, 6419) - multHi(v, 13320) + 8708)
			p[2] = clip8(yy + multHi(u, 33050) - 17685)
			p[3] = 0xff
		}
	}
	clear(us)
	clear(vs)
	return out
}

// upsampleWebP fills out (one output row's chroma, len(out) samples) from
// the nearer and further chroma rows, as libwebp's UPSAMPLE_FUNC.
func upsampleWebP(out, near, far []uint8) {
	n := len(out)
	tl, l := uint32(near[0]), uint32(far[0])
	out[0] = uint8((3*tl + l + 2) >> 2)
	for x := 1; x <= (n-1)>>1; x++ {
		t, c := uint32(near[x]), uint32(far[x])
		avg := tl + t + l + c + 8
		diag12 := (avg + 2*(t+l)) >> 3
		diag03 := (avg + 2*(tl+c)) >> 3
		out[2*x-1] = uint8((diag12 + tl) >> 1)
		out[2*x] = uint8((diag03 + t) >> 1)
		tl, l = t, c
	}
	if n%2 == 0 {
		out[n-1] = uint8((3*tl + l + 2) >> 2)
	}
}

// multHi and clip8 are libwebp's MultHi and VP8Clip8 (YUV_FIX2 = 6).
func multHi(v, coeff int32) int32 { return (v * coeff) >> 8 }

func clip8(v int32) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}
