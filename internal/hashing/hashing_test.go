package hashing

import (
	"bytes"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"alliance/internal/jpegdec"
	"alliance/pdq"
)

func TestExactHashes(t *testing.T) {
	tests := []struct {
		in                string
		md5, sha1, sha256 string
	}{
		{"", "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72", "a9993e364706816aba3e25717850c26c9cd0d89d",
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, []byte(tc.in), 0o600); err != nil {
			t.Fatal(err)
		}
		for name, hash := range map[string]func() (Result, error){
			"bytes":  func() (Result, error) { return HashBytes([]byte(tc.in), Options{}) },
			"reader": func() (Result, error) { return HashReader(strings.NewReader(tc.in), Options{}) },
			"file":   func() (Result, error) { return HashFile(path, Options{}) },
		} {
			t.Run(name+"/"+tc.in, func(t *testing.T) {
				res, err := hash()
				if err != nil {
					t.Fatal(err)
				}
				if res.MD5 != tc.md5 || res.SHA1 != tc.sha1 || res.SHA256 != tc.sha256 || res.Size != int64(len(tc.in)) {
					t.Errorf("got %+v", res)
				}
				if res.PDQ != nil || res.Format != "" || res.Profile != "" || !strings.HasPrefix(res.ContentType, "text/plain") {
					t.Errorf("non-image got %+v", res)
				}
			})
		}
	}
}

// TestFormats hashes a generated image in every supported format. For the
// lossless ones the PDQ hash must equal the hash of the pixels encoded.
func TestFormats(t *testing.T) {
	src := genNRGBA(120, 90, 1)
	want, err := pdq.HashImage(src, pdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		format, contentType string
		lossless            bool
	}{
		{"png", "image/png", true},
		{"bmp", "image/bmp", true},
		{"tiff", "image/tiff", true},
		{"gif", "image/gif", false},
		{"jpeg", "image/jpeg", false},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			data := encodeAs(t, tc.format, src)
			res, err := HashBytes(data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Format != tc.format || res.ContentType != tc.contentType || res.Width != 120 || res.Height != 90 {
				t.Errorf("got format %q, type %q, %d×%d", res.Format, res.ContentType, res.Width, res.Height)
			}
			if res.PDQ == nil || res.Profile != pdq.ProfileHMA || res.Dihedral != nil {
				t.Fatalf("got PDQ %v, profile %q, dihedral %v", res.PDQ, res.Profile, res.Dihedral)
			}
			d := res.PDQ.Distance(want.Hash)
			if tc.lossless && (d != 0 || res.PDQQuality != want.Quality) {
				t.Errorf("lossless %s: distance %d, quality %d (want %d)", tc.format, d, res.PDQQuality, want.Quality)
			}
			if !tc.lossless && d > 32 {
				t.Errorf("lossy %s: distance %d from the source pixels", tc.format, d)
			}
		})
	}
	// A 1×1 WebP: under pdq.MinDim, so the zero hash with quality 0, as in
	// the reference.
	res, err := HashBytes([]byte(webpLossless1x1), Options{})
	if err != nil || res.Format != "webp" || res.PDQ == nil || *res.PDQ != (pdq.Hash{}) || res.PDQQuality != 0 {
		t.Errorf("1×1 webp: %+v, %v", res, err)
	}
	// 16-bit PNG: the profile's 16-bit rule applies (hma clamps grey).
	g16 := genGray16(40, 30)
	data := encodeAs(t, "png", g16)
	for _, p := range []pdq.Profile{pdq.ProfileHMA, pdq.ProfileCPPCLI} {
		res, err := HashBytes(data, Options{Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		w, err := pdq.HashImage(g16, pdq.Options{Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		if *res.PDQ != w.Hash || res.PDQQuality != w.Quality {
			t.Errorf("%s 16-bit: got %s q=%d, want %s q=%d", p, res.PDQ, res.PDQQuality, w.Hash, w.Quality)
		}
	}
}

func TestJPEGUsesLibjpegTurboDecoder(t *testing.T) {
	data := encodeAs(t, "jpeg", genNRGBA(77, 51, 3))
	img, err := jpegdec.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []pdq.Profile{pdq.ProfileHMA, pdq.ProfileCPPCLI} {
		want, err := pdq.HashImage(img, pdq.Options{Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		res, err := HashBytes(data, Options{Profile: p})
		if err != nil {
			t.Fatal(err)
		}
		if *res.PDQ != want.Hash || res.PDQQuality != want.Quality || res.Profile != p {
			t.Errorf("%s: got %s q=%d, want %s q=%d", p, res.PDQ, res.PDQQuality, want.Hash, want.Quality)
		}
	}
}

// TestCLISampling checks the cpp-cli shortcut for large JPEGs (decoding
// only the pixels the 512×512 resize keeps) against hashing the whole
// decoded image under the profile, for both hash and dihedral hashes.
func TestCLISampling(t *testing.T) {
	for _, sz := range [][2]int{{700, 300}, {300, 700}, {1030, 1030}, {513, 20}, {600, 512}} {
		data := encodeAs(t, "jpeg", genNRGBA(sz[0], sz[1], 5))
		full, err := jpegdec.DecodeBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		opts := pdq.Options{Profile: pdq.ProfileCPPCLI}
		want, err := pdq.HashImage(full, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantD, err := pdq.DihedralImage(full, opts)
		if err != nil {
			t.Fatal(err)
		}
		res, err := HashBytes(data, Options{Profile: pdq.ProfileCPPCLI, Dihedral: true})
		if err != nil {
			t.Fatal(err)
		}
		if *res.PDQ != want.Hash || res.PDQQuality != want.Quality || *res.Dihedral != wantD.Hashes {
			t.Errorf("%v: sampled %s q=%d, full %s q=%d (dihedral equal: %v)",
				sz, res.PDQ, res.PDQQuality, want.Hash, want.Quality, *res.Dihedral == wantD.Hashes)
		}
		if res.Width != sz[0] || res.Height != sz[1] {
			t.Errorf("%v: size %d×%d", sz, res.Width, res.Height)
		}
	}
}

func TestDihedral(t *testing.T) {
	for _, sz := range [][2]int{{100, 80}, {64, 64}} {
		src := genNRGBA(sz[0], sz[1], 9)
		res, err := HashBytes(encodeAs(t, "png", src), Options{Dihedral: true})
		if err != nil {
			t.Fatal(err)
		}
		want, err := pdq.HashImage(src, pdq.Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantD, err := pdq.DihedralImage(src, pdq.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The plain hash stays the plain hash, also for 64×64 input, where
		// the reference's dihedral original differs from it.
		if *res.PDQ != want.Hash || res.Dihedral == nil || *res.Dihedral != wantD.Hashes {
			t.Errorf("%v: PDQ %s (want %s), dihedral %v (want %v)", sz, res.PDQ, want.Hash, res.Dihedral, wantD.Hashes)
		}
	}
}

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	small := []byte("0123456789")
	smallPath := filepath.Join(dir, "small")
	if err := os.WriteFile(smallPath, small, 0o600); err != nil {
		t.Fatal(err)
	}
	png := encodeAs(t, "png", genNRGBA(20, 10, 2))
	tests := []struct {
		name    string
		hash    func() (Result, error)
		wantErr error
		exact   bool // exact hashes still reported
	}{
		{"bytes at the size limit", func() (Result, error) { return HashBytes(small, Options{MaxSize: 10}) }, nil, true},
		{"bytes over the size limit", func() (Result, error) { return HashBytes(small, Options{MaxSize: 9}) }, ErrTooLarge, false},
		{"reader at the size limit", func() (Result, error) { return HashReader(bytes.NewReader(small), Options{MaxSize: 10}) }, nil, true},
		{"endless reader", func() (Result, error) { return HashReader(zeros{}, Options{MaxSize: 1 << 20}) }, ErrTooLarge, false},
		{"file over the size limit", func() (Result, error) { return HashFile(smallPath, Options{MaxSize: 9}) }, ErrTooLarge, false},
		{"image at the pixel limit", func() (Result, error) { return HashBytes(png, Options{MaxPixels: 200}) }, nil, true},
		{"image over the pixel limit", func() (Result, error) { return HashBytes(png, Options{MaxPixels: 199}) }, ErrTooManyPixels, true},
		{"PNG bomb header", func() (Result, error) { return HashBytes(pngHeaderOnly(30000, 30000), Options{}) }, ErrTooManyPixels, true},
		{"JPEG bomb header", func() (Result, error) { return HashBytes(jpegHeaderOnly(65000, 65000), Options{}) }, ErrTooManyPixels, true},
		{"PNG header without data", func() (Result, error) { return HashBytes(pngHeaderOnly(30, 30), Options{}) }, ErrDecode, true},
		{"directory", func() (Result, error) { return HashFile(dir, Options{}) }, nil, false},
		{"missing file", func() (Result, error) { return HashFile(filepath.Join(dir, "none"), Options{}) }, os.ErrNotExist, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.hash()
			switch {
			case tc.name == "directory":
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Fatalf("err = %v", err)
				}
			case tc.wantErr == nil && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := res.SHA256 != ""; got != tc.exact {
				t.Errorf("exact hashes reported: %v, want %v (%+v)", got, tc.exact, res)
			}
			if errors.Is(err, ErrTooManyPixels) && (res.PDQ != nil || res.Width == 0) {
				t.Errorf("refused image: %+v", res)
			}
		})
	}
}

// zeros is an endless reader.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDecodeErrors(t *testing.T) {
	jpg := encodeAs(t, "jpeg", genNRGBA(40, 30, 4))
	sof := bytes.Index(jpg, []byte{0xff, 0xc0})
	lossless := bytes.Clone(jpg)
	lossless[sof+1] = 0xc3
	png := encodeAs(t, "png", genNRGBA(40, 30, 4))
	gif := encodeAs(t, "gif", genNRGBA(40, 30, 4))
	tests := []struct {
		name, data, format, msg string
	}{
		{"truncated jpeg", string(jpg[:len(jpg)/2]), "jpeg", "truncated"},
		{"truncated png", string(png[:len(png)-30]), "png", "truncated"},
		{"truncated gif", string(gif[:len(gif)/2]), "gif", ""},
		{"lossless jpeg", string(lossless), "jpeg", "unsupported JPEG feature"},
		{"bmp magic only", "BM" + strings.Repeat("\x00", 60), "bmp", ""},
		{"webp magic only", "RIFF\x00\x00\x00\x00WEBPVP8 ", "webp", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := HashBytes([]byte(tc.data), Options{})
			if !errors.Is(err, ErrDecode) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want ErrDecode with %q", err, tc.msg)
			}
			if res.Format != tc.format || res.SHA256 == "" || res.PDQ != nil {
				t.Errorf("got %+v", res)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Profile: "pdq-fast"}, {MaxSize: -1}, {MaxPixels: -1}} {
		if _, err := HashBytes(nil, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	res, err := HashBytes(encodeAs(t, "png", genNRGBA(30, 30, 1)), Options{Profile: " CPP-CLI "})
	if err != nil || res.Profile != pdq.ProfileCPPCLI {
		t.Errorf("profile %q, %v", res.Profile, err)
	}
}

func TestCMYKToNRGBA(t *testing.T) {
	m := image.NewCMYK(image.Rect(0, 0, 5, 1))
	copy(m.Pix, []byte{
		0, 0, 0, 0, // white
		255, 255, 255, 0, // ink everywhere: black
		0, 0, 0, 255, // black
		128, 64, 0, 0, // 255-128 = 127 exactly; 191; 255
		100, 50, 25, 60, // rounded products of (255-c)(255-k)/255
	})
	got := cmykToNRGBA(m).Pix
	want := []byte{255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 127, 191, 255, 255, 119, 157, 176, 255}
	if !bytes.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestBuffersWiped(t *testing.T) {
	m := getBuffer(100, 1000)
	m.Write([]byte("secret content"))
	backing := m.b[:cap(m.b)]
	putBuffer(m)
	if bytes.Contains(backing, []byte("secret")) {
		t.Error("pooled buffer still holds the input")
	}
	// A file hashed through HashReader leaves no copy in the chunk pool.
	if _, err := HashReader(strings.NewReader("more secret content"), Options{}); err != nil {
		t.Fatal(err)
	}
	c := chunks.Get().(*[]byte)
	if bytes.Contains(*c, []byte("secret")) {
		t.Error("pooled chunk still holds the input")
	}
	chunks.Put(c)
}

// TestConcurrent hashes different images from many goroutines (run with
// -race) and checks the results equal sequential ones.
func TestConcurrent(t *testing.T) {
	var inputs [][]byte
	for i, f := range []string{"png", "jpeg", "gif", "bmp", "tiff", "jpeg", "png", "jpeg"} {
		inputs = append(inputs, encodeAs(t, f, genNRGBA(50+i*7, 40+i*3, uint32(i))))
	}
	want := make([]Result, len(inputs))
	for i, b := range inputs {
		var err error
		if want[i], err = HashBytes(b, Options{Dihedral: true}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		for i, b := range inputs {
			wg.Go(func() {
				got, err := HashReader(bytes.NewReader(b), Options{Dihedral: true})
				if err != nil || *got.PDQ != *want[i].PDQ || *got.Dihedral != *want[i].Dihedral || got.SHA256 != want[i].SHA256 {
					t.Errorf("input %d: got %+v, %v", i, got, err)
				}
			})
		}
	}
	wg.Wait()
}

var _ io.Reader = zeros{}

// TestWebPConversion checks libwebp's upsampler and clipping on flat and
// stepped chroma; the conformance test checks real files.
func TestWebPConversion(t *testing.T) {
	out := make([]uint8, 6)
	upsampleWebP(out, []uint8{100, 100, 100}, []uint8{100, 100, 100})
	for i, v := range out {
		if v != 100 {
			t.Fatalf("flat chroma gave %d at %d", v, i)
		}
	}
	// Near row 160, far row 0: 3/4 of 160 everywhere.
	upsampleWebP(out, []uint8{160, 160, 160}, []uint8{0, 0, 0})
	for i, v := range out {
		if v != 120 {
			t.Fatalf("vertical blend gave %d at %d, want 120", v, i)
		}
	}
	// Odd width: the last output sample pairs with the last chroma sample.
	out = out[:5]
	upsampleWebP(out, []uint8{0, 0, 160}, []uint8{0, 0, 160})
	if want := []uint8{0, 0, 0, 40, 120}; !bytes.Equal(out, want) {
		t.Errorf("step: %v, want %v", out, want)
	}
	for _, tc := range []struct {
		in   int32
		want uint8
	}{{-1, 0}, {0, 0}, {63, 0}, {64, 1}, {255 << 6, 255}, {256 << 6, 255}, {1 << 20, 255}} {
		if got := clip8(tc.in); got != tc.want {
			t.Errorf("clip8(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	// Grey (U = V = 128) maps Y through libwebp's 16..235 expansion.
	m := image.NewYCbCr(image.Rect(0, 0, 3, 3), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = 16
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
	m.Y[4] = 235
	got := webpToNRGBA(m)
	if c := got.NRGBAAt(0, 0); c.R != 0 || c.G != 0 || c.B != 0 || c.A != 255 {
		t.Errorf("Y=16: %v", c)
	}
	if c := got.NRGBAAt(1, 1); c.R != 255 || c.G != 255 || c.B != 255 {
		t.Errorf("Y=235: %v", c)
	}
}
