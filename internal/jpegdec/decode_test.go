package jpegdec

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"testing"
)

// genImage is a generated test picture: gradients plus noise.
func genImage(w, h int, gray bool) image.Image {
	seed := uint32(7)
	noise := func() int {
		seed = seed*1664525 + 1013904223
		return int(seed>>28) - 8
	}
	if gray {
		m := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.Pix[y*m.Stride+x] = uint8(max(0, min(255, (x*255)/max(1, w-1)+noise())))
			}
		}
		return m
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := m.Pix[m.PixOffset(x, y):][:4]
			p[0] = uint8(max(0, min(255, (x*255)/max(1, w-1)+noise())))
			p[1] = uint8(max(0, min(255, (y*255)/max(1, h-1)+noise())))
			p[2] = uint8(max(0, min(255, 128+(x+y)%32+noise())))
			p[3] = 0xff
		}
	}
	return m
}

func encode(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAgainstStandardLibrary decodes generated JPEGs (4:2:0 colour and
// grey, odd sizes for the edge cases of upsampling) with both decoders:
// they differ in IDCT, upsampling and colour conversion, so single pixels
// can be far apart where chroma changes sharply (box versus triangular
// upsampling), but on average they are within a few levels even on these
// steep gradients (a gross error, such as swapped chroma, is far more). Grey
// images, where only the IDCT differs, are close everywhere.
func TestAgainstStandardLibrary(t *testing.T) {
	tests := []struct {
		name     string
		w, h     int
		gray     bool
		maxDiff  int
		meanDiff float64
	}{
		{"colour 64x48", 64, 48, false, 64, 5},
		{"colour 33x17", 33, 17, false, 64, 5},
		{"colour 3x3", 3, 3, false, 64, 5},
		{"colour 1x1", 1, 1, false, 64, 5},
		{"grey 31x9", 31, 9, true, 2, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, genImage(tc.w, tc.h, tc.gray), 95)
			got, err := Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if tc.gray {
				if _, ok := got.(*image.Gray); !ok {
					t.Fatalf("got %T, want *image.Gray", got)
				}
			} else if _, ok := got.(*image.NRGBA); !ok {
				t.Fatalf("got %T, want *image.NRGBA", got)
			}
			maxd, mean, _ := pixelDiff(t, got, want)
			if maxd > tc.maxDiff || mean > tc.meanDiff {
				t.Errorf("difference from image/jpeg: max %d, mean %.3f; want ≤ %d, ≤ %.1f", maxd, mean, tc.maxDiff, tc.meanDiff)
			}
			cfg, err := DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != tc.w || cfg.Height != tc.h || cfg.ColorModel != got.ColorModel() {
				t.Errorf("DecodeConfig %dx%d %v, decoded %v %v", cfg.Width, cfg.Height, cfg.ColorModel, got.Bounds(), got.ColorModel())
			}
		})
	}
}

// TestDecodeSampled checks that sampling equals picking pixels from the
// full decode, including repeated and edge coordinates.
func TestDecodeSampled(t *testing.T) {
	for _, gray := range []bool{false, true} {
		data := encode(t, genImage(70, 45, gray), 90)
		full, err := Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		xs := []int{0, 1, 1, 35, 68, 69}
		ys := []int{44, 0, 22, 23, 23}
		got, err := DecodeSampled(data, func(w, h int) ([]int, []int) {
			if w != 70 || h != 45 {
				t.Errorf("sample got %dx%d", w, h)
			}
			return xs, ys
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Bounds() != image.Rect(0, 0, len(xs), len(ys)) {
			t.Fatalf("bounds %v", got.Bounds())
		}
		for j, y := range ys {
			for i, x := range xs {
				g := color.NRGBAModel.Convert(got.At(i, j))
				w := color.NRGBAModel.Convert(full.At(x, y))
				if g != w {
					t.Fatalf("gray=%v: pixel (%d,%d) = %v, full (%d,%d) = %v", gray, i, j, g, x, y, w)
				}
			}
		}
		if _, err := DecodeSampled(data, func(w, h int) ([]int, []int) {
			return []int{w}, []int{0}
		}); !errors.Is(err, errBadSample) {
			t.Errorf("out-of-range sample: %v", err)
		}
	}
}

// TestUpsamplers checks the fancy upsamplers on flat input (which must
// stay flat: the alternating rounding has no drift) and on a step.
func TestUpsamplers(t *testing.T) {
	flat := bytes.Repeat([]byte{77}, 5)
	out := make([]byte, 10)
	for name, f := range map[string]func(){
		"h2v1": func() { h2v1Fancy(out, flat) },
		"h2v2": func() { h2v2Fancy(out, flat, flat) },
		"h1v2": func() { h1v2Fancy(out[:5], flat, flat, 1); h1v2Fancy(out[5:], flat, flat, 2) },
	} {
		clear(out)
		f()
		for i, v := range out {
			if v != 77 {
				t.Errorf("%s: flat input gave %d at %d", name, v, i)
			}
		}
	}
	// A step from 0 to 200: the samples next to it are blended 3:1.
	h2v1Fancy(out, []byte{0, 0, 200, 200, 200})
	if want := []byte{0, 0, 0, 50, 150, 200, 200, 200, 200, 200}; !bytes.Equal(out, want) {
		t.Errorf("h2v1 step: %v, want %v", out, want)
	}
	// Vertically: 3/4 of the near row and 1/4 of the far one, then the
	// same horizontally, over 16 with +8 / +7 rounding.
	h2v2Fancy(out, []byte{160, 160, 160, 160, 160}, []byte{0, 0, 0, 0, 0})
	for i, v := range out {
		if v != 120 {
			t.Errorf("h2v2 vertical blend at %d: %d, want 120", i, v)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t, genImage(40, 30, false), 90)
	sof := bytes.Index(good, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 in the generated JPEG")
	}
	withByte := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		data []byte
		want func(error) bool
	}{
		{"empty", nil, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"not a JPEG", []byte("GIF89a"), func(err error) bool { return err != nil }},
		{"truncated", good[:len(good)/2], func(err error) bool { return err != nil }},
		{"no EOI", good[:len(good)-2], func(err error) bool { return err != nil }},
		{"lossless SOF3", withByte(sof+1, 0xc3), func(err error) bool {
			var u UnsupportedError
			return errors.As(err, &u)
		}},
		{"zero height", func() []byte { b := withByte(sof+5, 0); b[sof+6] = 0; return b }(), func(err error) bool {
			var u UnsupportedError
			return errors.As(err, &u)
		}},
		{"12-bit", withByte(sof+4, 12), func(err error) bool {
			var u UnsupportedError
			return errors.As(err, &u)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(tc.data))
			if err == nil || !tc.want(err) || img != nil {
				t.Errorf("Decode: %T, %v", img, err)
			}
		})
	}
}
