package jpegdec

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"testing"
)

// benchJPEG encodes a generated w×h picture (smooth waves plus
// per-channel noise) with image/jpeg at quality 90, 4:2:0. At 1600×1004
// it is about 390 KB, like the 361 KB bridge photograph of the PDQ test
// data (the generator is internal/hashing's genNRGBA).
func benchJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	seed := uint32(42)
	phase := float64(seed%97) / 10
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			base := 110 + 60*math.Sin(7*fx+3*fy+phase) + 40*math.Cos(5*fy-4*fx) + 20*math.Sin(40*fx*fy)
			p := m.Pix[m.PixOffset(x, y):][:4]
			for c := range 3 {
				seed = seed*1664525 + 1013904223
				noise := 24 * (float64(seed>>24)/255 - 0.5)
				p[c] = uint8(max(0, min(255, base+float64(c*25)+noise)))
			}
			p[3] = 0xff
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecode compares this decoder (output: RGB after libjpeg's
// upsampling and colour conversion) with image/jpeg (output: planar
// YCbCr, no conversion) on the same file.
//
//	go test -run '^$' -bench Decode -benchmem ./internal/jpegdec
func BenchmarkDecode(b *testing.B) {
	data := benchJPEG(b, 1600, 1004)
	b.Run("jpegdec", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := DecodeBytes(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
