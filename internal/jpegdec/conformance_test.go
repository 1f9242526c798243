package jpegdec

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pixelDiff compares two images of the same size channel by channel
// (R, G, B; alpha ignored): the largest difference, the mean absolute
// difference and the number of differing samples.
func pixelDiff(t *testing.T, got, want image.Image) (maxd int, mean float64, n int) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	var sum int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
			w := color.NRGBAModel.Convert(want.At(x, y)).(color.NRGBA)
			for _, d := range []int{int(g.R) - int(w.R), int(g.G) - int(w.G), int(g.B) - int(w.B)} {
				d = max(d, -d)
				sum += d
				maxd = max(maxd, d)
				if d != 0 {
					n++
				}
			}
		}
	}
	return maxd, float64(sum) / float64(3*b.Dx()*b.Dy()), n
}

// TestMatchesLibjpegTurbo decodes every JPEG that has ImageMagick +
// libjpeg-turbo 2.1.5 decoded pixels in the shared conformance data and
// requires the same pixels. The standard library's figures are logged
// for comparison.
func TestMatchesLibjpegTurbo(t *testing.T) {
	dir := filepath.Join(testdataDir(t), "pdq")
	pnms, err := filepath.Glob(filepath.Join(dir, "decoded-pnm", "*.pnm"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, pnm := range pnms {
		base := strings.TrimSuffix(filepath.Base(pnm), ".pnm")
		if !strings.HasSuffix(base, ".jpg") && !strings.HasSuffix(base, ".jpeg") {
			continue
		}
		// The pnm name is the upstream path with "/" replaced by "_";
		// directory names here contain no "_" but file names may.
		src := findSource(t, dir, base)
		n++
		t.Run(filepath.Base(src), func(t *testing.T) {
			want, err := readPNM(pnm)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			maxd, mean, diffs := pixelDiff(t, got, want)
			std, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			smax, smean, _ := pixelDiff(t, std, want)
			t.Logf("%T %v: max %d, mean %.4f, %d samples differ (image/jpeg: max %d, mean %.4f)",
				got, got.Bounds().Size(), maxd, mean, diffs, smax, smean)
			if diffs != 0 {
				t.Errorf("%d samples differ from libjpeg-turbo (max %d, mean %.4f)", diffs, maxd, mean)
			}
		})
	}
	if n == 0 {
		t.Fatal("no decoded JPEGs found")
	}
}

// findSource maps a decoded-pnm base name back to its image file.
func findSource(t *testing.T, dir, base string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !e.IsDir() && strings.ReplaceAll(filepath.ToSlash(rel), "/", "_") == base {
			found = path
		}
		return nil
	})
	if err != nil || found == "" {
		t.Fatalf("no source image for %s (%v)", base, err)
	}
	return found
}
