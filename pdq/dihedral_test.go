package pdq

import (
	"math"
	"testing"
)

// transformLuma applies a dihedral transform to a w×h luma buffer, using
// the orientation the reference's names stand for (rot90 turns the image
// counter-clockwise, flipx mirrors it top to bottom, flipp transposes).
func transformLuma(t Transform, l []float32, w, h int) ([]float32, int, int) {
	at := func(x, y int) float32 { return l[y*w+x] }
	ow, oh := w, h
	if t == Rotate90 || t == Rotate270 || t == FlipPlus1 || t == FlipMinus1 {
		ow, oh = h, w
	}
	out := make([]float32, w*h)
	for y := range oh {
		for x := range ow {
			var v float32
			switch t {
			case Original:
				v = at(x, y)
			case Rotate90:
				v = at(w-1-y, x)
			case Rotate180:
				v = at(w-1-x, h-1-y)
			case Rotate270:
				v = at(y, h-1-x)
			case FlipX:
				v = at(x, h-1-y)
			case FlipY:
				v = at(w-1-x, y)
			case FlipPlus1:
				v = at(y, x)
			case FlipMinus1:
				v = at(w-1-y, h-1-x)
			}
			out[y*ow+x] = v
		}
	}
	return out, ow, oh
}

// shapesLuma draws a smooth, asymmetric test pattern with integer values.
func shapesLuma(w, h int) []float32 {
	l := make([]float32, w*h)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			v := 100 + 60*math.Sin(7*fx+2*fy*fy) + 40*math.Cos(5*fy-3*fx)
			if (fx-0.3)*(fx-0.3)+(fy-0.6)*(fy-0.6) < 0.04 {
				v += 50
			}
			l[y*w+x] = float32(math.Round(v))
		}
	}
	return l
}

// TestDihedralMatchesTransformedImage hashes each transformed image and
// compares it with the variant derived from the original's DCT. They agree
// up to float rounding only where the blur and the decimation are
// symmetric: each side 64·k with k ≡ 1 (mod 4), so the window is odd and
// the sample grid is centred.
func TestDihedralMatchesTransformedImage(t *testing.T) {
	for _, sz := range [][2]int{{64, 64}, {320, 320}, {64, 320}, {576, 320}} {
		w, h := sz[0], sz[1]
		l := shapesLuma(w, h)
		d, err := DihedralLuma(l, w, h, ProfileHMA)
		if err != nil {
			t.Fatal(err)
		}
		if d.Quality < 50 {
			t.Fatalf("%dx%d: test pattern quality %d is too low to be meaningful", w, h, d.Quality)
		}
		for tr := Original; tr <= FlipMinus1; tr++ {
			tl, tw, th := transformLuma(tr, l, w, h)
			got, err := DihedralLuma(tl, tw, th, ProfileHMA)
			if err != nil {
				t.Fatal(err)
			}
			if dist := got.Hashes[Original].Distance(d.Hashes[tr]); dist != 0 {
				t.Errorf("%dx%d %v: hash of the transformed image is %d bits from the derived variant", w, h, tr, dist)
			}
		}
	}
}
