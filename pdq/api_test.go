package pdq

import (
	"errors"
	"image"
	"image/color"
	"sync"
	"testing"
)

// noiseNRGBA is an opaque test image: a gradient with pseudo-random noise.
func noiseNRGBA(w, h int, seed uint64) *image.NRGBA {
	return goldenImage(goldenCase{gradRGB, w, h, seed}).(*image.NRGBA)
}

func mustHash(t *testing.T, img image.Image, opts Options) Result {
	t.Helper()
	r, err := HashImage(img, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBadInputs(t *testing.T) {
	var nilNRGBA *image.NRGBA
	short := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	short.Pix = short.Pix[:50]
	tests := []struct {
		name string
		img  image.Image
		opts Options
	}{
		{"nil", nil, Options{}},
		{"typed nil", nilNRGBA, Options{}},
		{"zero width", image.NewNRGBA(image.Rect(0, 0, 0, 10)), Options{}},
		{"zero height", image.NewGray(image.Rect(0, 0, 10, 0)), Options{}},
		{"empty", image.NewRGBA(image.Rectangle{}), Options{}},
		{"short pix", short, Options{}},
		{"unknown profile", noiseNRGBA(8, 8, 1), Options{Profile: "java"}},
		{"unknown sample16", noiseNRGBA(8, 8, 1), Options{Sample16: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := HashImage(tc.img, tc.opts); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("HashImage: %v", err)
			}
			if _, err := DihedralImage(tc.img, tc.opts); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("DihedralImage: %v", err)
			}
			if _, _, _, err := ImageLuma(tc.img, tc.opts); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("ImageLuma: %v", err)
			}
		})
	}

	lumaTests := []struct {
		name string
		luma []float32
		w, h int
		p    Profile
	}{
		{"nil", nil, 0, 0, ""},
		{"negative", make([]float32, 4), -2, -2, ""},
		{"short", make([]float32, 99), 10, 10, ""},
		{"long", make([]float32, 101), 10, 10, ""},
		{"overflow", make([]float32, 1), 1 << 40, 1 << 40, ""},
		{"profile", make([]float32, 100), 10, 10, "cli"},
	}
	for _, tc := range lumaTests {
		t.Run("luma "+tc.name, func(t *testing.T) {
			if _, err := HashLuma(tc.luma, tc.w, tc.h, tc.p); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("HashLuma: %v", err)
			}
			if _, err := DihedralLuma(tc.luma, tc.w, tc.h, tc.p); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("DihedralLuma: %v", err)
			}
		})
	}
}

// TestTooSmall follows the reference: a side under MinDim gives the zero
// hash and quality 0, not an error.
func TestTooSmall(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {4, 100}, {100, 4}} {
		img := noiseNRGBA(sz[0], sz[1], 3)
		r := mustHash(t, img, Options{})
		if !r.Hash.IsZero() || r.Quality != 0 {
			t.Errorf("%v: %v", sz, r)
		}
		d, err := DihedralImage(img, Options{})
		if err != nil || d != (Dihedral{}) {
			t.Errorf("%v: dihedral %v %v", sz, d, err)
		}
	}
	if r := mustHash(t, noiseNRGBA(5, 5, 3), Options{}); r.Hash.IsZero() {
		t.Error("5×5 should hash")
	}
}

func TestQualityFlatImage(t *testing.T) {
	for _, sz := range [][2]int{{5, 5}, {64, 64}, {100, 37}, {800, 600}} {
		gray := image.NewGray(image.Rect(0, 0, sz[0], sz[1]))
		for i := range gray.Pix {
			gray.Pix[i] = 200
		}
		rgb := image.NewNRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for i := range rgb.Pix {
			rgb.Pix[i] = uint8(40 + i%4*30)
		}
		for _, img := range []image.Image{gray, rgb} {
			for _, p := range []Profile{ProfileHMA, ProfileCPPCLI} {
				if q := mustHash(t, img, Options{Profile: p}).Quality; q != 0 {
					t.Errorf("%T %v %s: quality %d, want 0", img, sz, p, q)
				}
			}
		}
	}
	if q := mustHash(t, goldenImage(goldenCase{noiseRGB, 300, 200, 4}), Options{}).Quality; q != 100 {
		t.Errorf("noise image quality %d, want 100", q)
	}
}

// hidden hides an image's concrete type, forcing the generic At path.
type hidden struct{ image.Image }

// TestImageTypes checks each fast path against an NRGBA (or Gray) image
// holding the 8-bit values that the reference would be given.
func TestImageTypes(t *testing.T) {
	const w, h = 203, 131
	base := noiseNRGBA(w, h, 7)
	rect := base.Rect
	each := func(f func(x, y int, p []uint8)) *image.NRGBA {
		m := image.NewNRGBA(rect)
		for y := range h {
			for x := range w {
				p := m.Pix[m.PixOffset(x, y):][:4]
				f(x, y, p)
				p[3] = 0xff
			}
		}
		return m
	}
	gray := image.NewGray(rect)
	for i := range gray.Pix {
		gray.Pix[i] = base.Pix[4*i+1]
	}

	ycc := image.NewYCbCr(rect, image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			ycc.Y[ycc.YOffset(x, y)] = base.Pix[base.PixOffset(x, y)]
			ycc.Cb[ycc.COffset(x, y)] = uint8(x * 3)
			ycc.Cr[ycc.COffset(x, y)] = uint8(255 - y*2)
		}
	}
	yccRGB := each(func(x, y int, p []uint8) {
		c := ycc.YCbCrAt(x, y)
		p[0], p[1], p[2] = color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	})

	pal := image.NewPaletted(rect, nil)
	for i := range 200 {
		pal.Palette = append(pal.Palette, color.RGBA{uint8(i), uint8(255 - i), uint8(i * 7), 255})
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8((i * 31) % 200)
	}
	palRGB := each(func(x, y int, p []uint8) {
		c := pal.Palette[pal.ColorIndexAt(x, y)].(color.RGBA)
		p[0], p[1], p[2] = c.R, c.G, c.B
	})

	cmyk := image.NewCMYK(rect)
	for i := range cmyk.Pix {
		cmyk.Pix[i] = base.Pix[i] / 2
	}
	cmykRGB := each(func(x, y int, p []uint8) {
		c := cmyk.CMYKAt(x, y)
		p[0], p[1], p[2] = color.CMYKToRGB(c.C, c.M, c.Y, c.K)
	})

	opaqueRGBA := image.NewRGBA(rect)
	copy(opaqueRGBA.Pix, base.Pix)

	// Alpha is ignored: the same straight colour with any alpha hashes alike.
	translucent := image.NewNRGBA(rect)
	copy(translucent.Pix, base.Pix)
	for i := 3; i < len(translucent.Pix); i += 4 {
		translucent.Pix[i] = uint8(i)
	}
	// A premultiplied image is hashed as its straight colour.
	premul := image.NewRGBA(rect)
	for y := range h {
		for x := range w {
			premul.Set(x, y, translucent.NRGBAAt(x, y))
		}
	}
	premulRGB := each(func(x, y int, p []uint8) {
		c := color.NRGBAModel.Convert(premul.RGBAAt(x, y)).(color.NRGBA)
		p[0], p[1], p[2] = c.R, c.G, c.B
	})

	nrgba64 := image.NewNRGBA64(rect)
	rgba64 := image.NewRGBA64(rect)
	for y := range h {
		for x := range w {
			c := base.NRGBAAt(x, y)
			junk := uint16(x*7 + y)
			c64 := color.NRGBA64{uint16(c.R)<<8 | junk&0xff, uint16(c.G)<<8 | junk>>3&0xff, uint16(c.B) << 8, 0xffff}
			nrgba64.SetNRGBA64(x, y, c64)
			rgba64.SetRGBA64(x, y, color.RGBA64(c64))
		}
	}

	tests := []struct {
		name string
		img  image.Image
		want image.Image
	}{
		{"RGBA opaque", opaqueRGBA, base},
		{"NRGBA translucent", translucent, base},
		{"RGBA premultiplied", premul, premulRGB},
		{"YCbCr 4:2:0", ycc, yccRGB},
		{"NYCbCrA", &image.NYCbCrA{YCbCr: *ycc, A: make([]uint8, w*h), AStride: w}, yccRGB},
		{"Paletted", pal, palRGB},
		{"CMYK", cmyk, cmykRGB},
		{"NRGBA64 high byte", nrgba64, base},
		{"RGBA64 high byte", rgba64, base},
		{"generic NRGBA", hidden{base}, base},
		{"generic Gray", hidden{gray}, gray},
		{"generic YCbCr", hidden{ycc}, yccRGB},
		{"generic NRGBA64", hidden{nrgba64}, base},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []Profile{ProfileHMA, ProfileCPPCLI} {
				opts := Options{Profile: p, Sample16: Sample16HighByte}
				if got, want := mustHash(t, tc.img, opts), mustHash(t, tc.want, opts); got != want {
					t.Errorf("%s: %v, want %v", p, got, want)
				}
			}
		})
	}
}

func TestSample16(t *testing.T) {
	const w, h = 90, 70
	g16 := image.NewGray16(image.Rect(0, 0, w, h))
	rng := splitmix64(11)
	for i := 0; i < len(g16.Pix); i += 2 {
		v := uint16(rng.next() % 700) // some above 255, as in an I;16 PNG
		g16.Pix[i], g16.Pix[i+1] = uint8(v>>8), uint8(v)
	}
	reduced := func(f func(uint16) uint8) *image.Gray {
		m := image.NewGray(g16.Rect)
		for i := range m.Pix {
			m.Pix[i] = f(uint16(g16.Pix[2*i])<<8 | uint16(g16.Pix[2*i+1]))
		}
		return m
	}
	clamp := reduced(func(v uint16) uint8 { return uint8(min(v, 255)) })
	low := reduced(func(v uint16) uint8 { return uint8(v) })
	high := reduced(func(v uint16) uint8 { return uint8(v >> 8) })
	tests := []struct {
		opts Options
		want *image.Gray
	}{
		{Options{}, clamp}, // hma: as PIL
		{Options{Profile: ProfileCPPCLI}, low},
		{Options{Sample16: Sample16Clamp255}, clamp},
		{Options{Sample16: Sample16LowByte}, low},
		{Options{Sample16: Sample16HighByte}, high},
	}
	for _, tc := range tests {
		t.Run(tc.opts.Profile.String()+"/"+tc.opts.Sample16.String(), func(t *testing.T) {
			if got, want := mustHash(t, g16, tc.opts), mustHash(t, tc.want, tc.opts); got != want {
				t.Errorf("%v, want %v", got, want)
			}
		})
	}
	if mustHash(t, clamp, Options{}) == mustHash(t, low, Options{}) {
		t.Fatal("test image does not tell the modes apart")
	}
}

// TestSubImage checks that images whose bounds do not start at the origin
// hash like a copy of the same pixels.
func TestSubImage(t *testing.T) {
	big := noiseNRGBA(300, 260, 9)
	r := image.Rect(17, 23, 17+220, 23+201)
	crop := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := range r.Dy() {
		copy(crop.Pix[y*crop.Stride:], big.Pix[big.PixOffset(r.Min.X, r.Min.Y+y):][:4*r.Dx()])
	}
	ycc := image.NewYCbCr(big.Rect, image.YCbCrSubsampleRatio422)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 13)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i*3), uint8(i*5)
	}
	yccCrop := each8(r.Dx(), r.Dy(), func(x, y int) (uint8, uint8, uint8) {
		c := ycc.YCbCrAt(r.Min.X+x, r.Min.Y+y)
		return color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	})
	tests := []struct {
		name      string
		sub, want image.Image
	}{
		{"NRGBA", big.SubImage(r), crop},
		{"YCbCr", ycc.SubImage(r), yccCrop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []Profile{ProfileHMA, ProfileCPPCLI} {
				if got, want := mustHash(t, tc.sub, Options{Profile: p}), mustHash(t, tc.want, Options{Profile: p}); got != want {
					t.Errorf("%s: %v, want %v", p, got, want)
				}
			}
		})
	}
}

func each8(w, h int, f func(x, y int) (uint8, uint8, uint8)) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := m.Pix[m.PixOffset(x, y):][:4]
			p[0], p[1], p[2] = f(x, y)
			p[3] = 0xff
		}
	}
	return m
}

// TestCLIResize checks the CImg nearest-neighbour rule directly: output
// pixel x of 512 comes from source pixel floor(x*W/512).
func TestCLIResize(t *testing.T) {
	src := noiseNRGBA(1153, 300, 5) // one side over 512: both become 512
	want := each8(512, 512, func(x, y int) (uint8, uint8, uint8) {
		c := src.NRGBAAt(x*1153/512, y*300/512)
		return c.R, c.G, c.B
	})
	if got, w := mustHash(t, src, Options{Profile: ProfileCPPCLI}), mustHash(t, want, Options{}); got != w {
		t.Fatalf("%v, want %v", got, w)
	}
	small := noiseNRGBA(512, 200, 5) // no side over 512: untouched
	if mustHash(t, small, Options{Profile: ProfileCPPCLI}) != mustHash(t, small, Options{}) {
		t.Fatal("512-wide image was resized")
	}
}

// TestHash64Shortcut pins the reference's two code paths for 64×64 input:
// the plain hash copies the luma, the dihedral hashes blur it with a
// window of 1, whose running sum is not exact for fractional luma.
func TestHash64Shortcut(t *testing.T) {
	luma, _, _, err := ImageLuma(goldenImage(goldenCase{flatRGB, 64, 64, 5}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := &lumaSource{grid: newGrid(64, 64, ProfileHMA, nil), pix: luma}
	var copied, blurred engine
	copied.copy64(src)
	blurred.downsample(src, 64, 64)
	for i := range 64 {
		if copied.a64[i] != [64]float32(luma[64*i:]) {
			t.Fatal("copy64 changed the luma")
		}
	}
	if blurred.a64 == copied.a64 {
		t.Fatal("a window-1 blur of fractional luma should differ by rounding")
	}
}

// TestConcurrent runs hashes in parallel to exercise the engine pool.
func TestConcurrent(t *testing.T) {
	imgs := []image.Image{noiseNRGBA(300, 200, 1), noiseNRGBA(64, 64, 2), noiseNRGBA(700, 90, 3), noiseNRGBA(30, 30, 4)}
	want := make([]Result, len(imgs))
	for i, img := range imgs {
		want[i] = mustHash(t, img, Options{})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for k := range 10 {
				i := (g + k) % len(imgs)
				got, err := HashImage(imgs[i], Options{})
				if err != nil || got != want[i] {
					errs <- "mismatch"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestYCbCrToRGBExhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive check skipped in -short mode")
	}
	for y := range 256 {
		for cb := range 256 {
			for cr := range 256 {
				r, g, b := ycbcrToRGB(uint8(y), uint8(cb), uint8(cr))
				wr, wg, wb := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				if r != wr || g != wg || b != wb {
					t.Fatalf("(%d,%d,%d): %d,%d,%d want %d,%d,%d", y, cb, cr, r, g, b, wr, wg, wb)
				}
			}
		}
	}
}

// TestLumaCoefficients checks that the float luma weights are what the
// reference's `const float c = 0.299;` (double literal, then float) gives.
func TestLumaCoefficients(t *testing.T) {
	if lumaR != float32(0.299) || lumaG != float32(0.587) || lumaB != float32(0.114) {
		t.Fatal("double-then-float rounding differs from direct float rounding")
	}
	if lumaRGB(255, 255, 255) != float32(float32(float32(0.299)*255)+float32(float32(0.587)*255))+float32(float32(0.114)*255) {
		t.Fatal("lumaRGB table")
	}
}
