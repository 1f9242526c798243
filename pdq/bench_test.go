package pdq

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
)

// Benchmarks on generated images (gradient plus noise) at the size of the
// bridge photographs, 1600×1004, and at the CLI's 512×512.
//
//	go test -run '^$' -bench . -benchmem ./pdq

var benchSizes = [][2]int{{1600, 1004}, {512, 512}}

func benchName(sz [2]int) string { return fmt.Sprintf("%dx%d", sz[0], sz[1]) }

// benchImage is an opaque test picture: smooth gradients and waves (so the
// hash has quality 100, like a photograph) with per-channel noise.
func benchImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := splitmix64(42)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			base := 90 + 60*math.Sin(9*fx+4*fy*fy) + 50*math.Cos(7*fy-5*fx)
			p := m.Pix[m.PixOffset(x, y):][:4]
			for ch := range 3 {
				v := base + float64(ch*20) + float64(rng.next()%16)
				p[ch] = uint8(max(0, min(255, v)))
			}
			p[3] = 0xff
		}
	}
	return m
}

func benchYCbCr(img *image.NRGBA) *image.YCbCr {
	b := img.Bounds()
	m := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			m.Y[m.YOffset(x, y)] = yy
			m.Cb[m.COffset(x, y)] = cb
			m.Cr[m.COffset(x, y)] = cr
		}
	}
	return m
}

func BenchmarkLuma(b *testing.B) {
	for _, sz := range benchSizes {
		img := benchImage(sz[0], sz[1])
		for _, in := range []struct {
			name string
			img  image.Image
		}{{"NRGBA", img}, {"YCbCr", benchYCbCr(img)}} {
			b.Run(benchName(sz)+"/"+in.name, func(b *testing.B) {
				var src imageSource
				src.init(in.img, Options{}, nil, nil)
				row := make([]float32, src.w)
				for b.Loop() {
					for r := range src.h {
						src.row(r, row)
					}
				}
			})
		}
	}
}

// BenchmarkBlur is the Jarosz filter and decimation from a ready luma
// buffer to the 64×64 samples.
func BenchmarkBlur(b *testing.B) {
	for _, sz := range benchSizes {
		luma, w, h, err := ImageLuma(benchImage(sz[0], sz[1]), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(benchName(sz), func(b *testing.B) {
			src := &lumaSource{grid: newGrid(w, h, ProfileHMA, nil), pix: luma}
			var e engine
			for b.Loop() {
				e.downsample(src, h, w)
			}
		})
	}
}

func BenchmarkDCT(b *testing.B) {
	var e engine
	for i := range 64 {
		for j := range 64 {
			e.a64[i][j] = float32((i*31 + j*17) % 255)
		}
	}
	for b.Loop() {
		dct64To16(&e.a64, &e.t, &e.b)
	}
}

// BenchmarkHash is the whole hash of an image, luma to hex-ready bits.
func BenchmarkHash(b *testing.B) {
	for _, sz := range benchSizes {
		img := benchImage(sz[0], sz[1])
		luma, w, h, err := ImageLuma(img, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(benchName(sz)+"/NRGBA", func(b *testing.B) {
			for b.Loop() {
				if _, err := HashImage(img, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		ycc := benchYCbCr(img)
		b.Run(benchName(sz)+"/YCbCr", func(b *testing.B) {
			for b.Loop() {
				if _, err := HashImage(ycc, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(benchName(sz)+"/luma", func(b *testing.B) {
			for b.Loop() {
				if _, err := HashLuma(luma, w, h, ProfileHMA); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(benchName(sz)+"/NRGBA-cpp-cli", func(b *testing.B) {
			for b.Loop() {
				if _, err := HashImage(img, Options{Profile: ProfileCPPCLI}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(benchName(sz)+"/NRGBA-dihedral", func(b *testing.B) {
			for b.Loop() {
				if _, err := DihedralImage(img, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
