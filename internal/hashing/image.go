package hashing

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"strings"
	"sync"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"alliance/internal/jpegdec"
	"alliance/pdq"
)

// decoder is one supported image format; its functions read the whole
// input from memory.
type decoder struct {
	name   string
	config func([]byte) (image.Config, error)
	decode func([]byte) (image.Image, error)
}

// fromReader adapts an io.Reader decoding function.
func fromReader[T any](f func(io.Reader) (T, error)) func([]byte) (T, error) {
	return func(b []byte) (T, error) { return f(bytes.NewReader(b)) }
}

// decoders maps a sniffed MIME type to its decoder. GIF yields its first
// frame, in the frame's own rectangle.
var decoders = map[string]decoder{
	"image/jpeg": {"jpeg", jpegdec.DecodeConfigBytes, jpegdec.DecodeBytes},
	"image/png":  {"png", fromReader(png.DecodeConfig), fromReader(png.Decode)},
	"image/gif":  {"gif", fromReader(gif.DecodeConfig), fromReader(gif.Decode)},
	"image/webp": {"webp", fromReader(webp.DecodeConfig), fromReader(webp.Decode)},
	"image/bmp":  {"bmp", fromReader(bmp.DecodeConfig), fromReader(bmp.Decode)},
	"image/tiff": {"tiff", fromReader(tiff.DecodeConfig), fromReader(tiff.Decode)},
}

// hashImage sniffs b and, when it is a supported image, checks its header
// against the pixel limit, decodes it and fills in the PDQ fields of res.
// Other content gets its ContentType only.
func hashImage(b []byte, opts Options, res *Result) error {
	res.ContentType = sniff(b)
	dec, ok := decoders[res.ContentType]
	if !ok {
		return nil
	}
	res.Format = dec.name
	cfg, err := safeConfig(dec, b)
	if err != nil {
		return decodeError(dec.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return fmt.Errorf("hashing: %w: %s image is %d×%d", ErrDecode, dec.name, cfg.Width, cfg.Height)
	}
	res.Width, res.Height = cfg.Width, cfg.Height
	if px := int64(cfg.Width) * int64(cfg.Height); px > opts.MaxPixels {
		return fmt.Errorf("hashing: %w: %s image is %d×%d (%d pixels), more than %d",
			ErrTooManyPixels, dec.name, cfg.Width, cfg.Height, px, opts.MaxPixels)
	}

	sampled := dec.name == "jpeg" && opts.Profile == pdq.ProfileCPPCLI && (cfg.Width > cliSide || cfg.Height > cliSide)
	var img image.Image
	if sampled {
		// The CLI profile hashes only the pixels its nearest-neighbour
		// resize picks; the JPEG decoder converts just those.
		img, err = safeDecode(decoder{decode: func(b []byte) (image.Image, error) {
			return jpegdec.DecodeSampled(b, cliGrid)
		}}, b)
	} else {
		img, err = safeDecode(dec, b)
	}
	defer wipe(img)
	if err != nil {
		return decodeError(dec.name, err)
	}
	if sz := img.Bounds().Size(); !sampled && (sz.X > cfg.Width || sz.Y > cfg.Height) {
		// The limit was checked on the header; a decoder that returns more
		// than the header announced is not trusted with the result.
		return fmt.Errorf("hashing: %w: %s image decoded to %v, header says %d×%d",
			ErrDecode, dec.name, sz, cfg.Width, cfg.Height)
	}
	var rgb *image.NRGBA
	switch m := img.(type) {
	case *image.CMYK:
		rgb = cmykToNRGBA(m)
	case *image.YCbCr:
		if dec.name == "webp" && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			rgb = webpToNRGBA(m)
		}
	case *image.NYCbCrA:
		if dec.name == "webp" && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			rgb = webpToNRGBA(&m.YCbCr)
		}
	}
	if rgb != nil {
		defer wipe(rgb)
		img = rgb
	}
	return hashPDQ(img, opts, res)
}

// hashPDQ computes the PDQ fields of res from img.
func hashPDQ(img image.Image, opts Options, res *Result) error {
	po := pdq.Options{Profile: opts.Profile}
	if !opts.Dihedral {
		r, err := pdq.HashImage(img, po)
		if err != nil {
			return fmt.Errorf("hashing: pdq: %w", err)
		}
		res.PDQ, res.PDQQuality, res.Profile = &r.Hash, r.Quality, opts.Profile
		return nil
	}
	d, err := pdq.DihedralImage(img, po)
	if err != nil {
		return fmt.Errorf("hashing: pdq: %w", err)
	}
	res.Dihedral = &d.Hashes
	h := d.Hashes[pdq.Original]
	if b := img.Bounds(); b.Dx() == 64 && b.Dy() == 64 {
		// Only here does the plain hash differ from the dihedral one: the
		// reference skips the blur for a 64×64 input in the plain hash.
		r, err := pdq.HashImage(img, po)
		if err != nil {
			return fmt.Errorf("hashing: pdq: %w", err)
		}
		h = r.Hash
	}
	res.PDQ, res.PDQQuality, res.Profile = &h, d.Quality, opts.Profile
	return nil
}

// cliSide is the C++ CLI's DOWNSAMPLE_DIMS: it resizes an image with a side
// over 512 to 512×512 before hashing.
const cliSide = 512

// cliGrid returns the source columns and rows that the CLI's resize
// (CImg's nearest neighbour, source index floor(i·size/512)) picks for a
// width×height image; pdq.ProfileCPPCLI uses the same rule, so hashing the
// picked pixels under that profile equals hashing the whole image.
func cliGrid(width, height int) (xs, ys []int) {
	pick := func(n int) []int {
		v := make([]int, cliSide)
		for i := range v {
			v[i] = int(int64(i) * int64(n) / cliSide)
		}
		return v
	}
	return pick(width), pick(height)
}

// safeConfig and safeDecode run a decoder, turning a panic on malformed
// input into an error: one bad file must not take a worker down.
func safeConfig(dec decoder, b []byte) (cfg image.Config, err error) {
	defer recoverPanic(&err)
	return dec.config(b)
}

func safeDecode(dec decoder, b []byte) (img image.Image, err error) {
	defer recoverPanic(&err)
	img, err = dec.decode(b)
	if err == nil && img == nil {
		err = errors.New("no image")
	}
	return img, err
}

func recoverPanic(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("decoder panic: %v", r)
	}
}

// decodeError wraps a decoder's error in ErrDecode, naming truncation
// plainly.
func decodeError(format string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		// image/png's word for image data that ends early.
		strings.Contains(err.Error(), "not enough pixel data") {
		return fmt.Errorf("hashing: %w: %s image is truncated", ErrDecode, format)
	}
	return fmt.Errorf("hashing: %w: %s: %v", ErrDecode, format, err)
}

// cmykToNRGBA converts CMYK (ink amounts) to RGB as ImageMagick 6 (Q16)
// does when it writes the PNM the reference CLI reads: in quantum units,
// R = QuantumRange − (C·(QuantumRange−K)/QuantumRange + K), rounded to a
// 16-bit quantum, then scaled to 8 bits with ScaleQuantumToChar. PIL's
// conversion differs from it by at most one level.
func cmykToNRGBA(m *image.CMYK) *image.NRGBA {
	t := cmykTable()
	b := m.Bounds()
	out := image.NewNRGBA(b)
	w := b.Dx()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, y):][:4*w]
		dst := out.Pix[out.PixOffset(b.Min.X, y):][:4*w]
		for x := 0; x < 4*w; x += 4 {
			k := int(src[x+3]) << 8
			dst[x] = t[k|int(src[x])]
			dst[x+1] = t[k|int(src[x+1])]
			dst[x+2] = t[k|int(src[x+2])]
			dst[x+3] = 0xff
		}
	}
	return out
}

// cmykTable holds the converted value for each (K, ink) pair at K<<8|ink.
var cmykTable = sync.OnceValue(func() *[1 << 16]uint8 {
	const qr = 65535.0
	var t [1 << 16]uint8
	for k := range 256 {
		for c := range 256 {
			kq, cq := float64(k*257), float64(c*257)
			v := qr - (cq/qr*(qr-kq) + kq)
			var q uint64
			switch {
			case v <= 0:
			case v >= qr:
				q = 65535
			default:
				q = uint64(v + 0.5)
			}
			q += 128
			t[k<<8|c] = uint8((q - q>>8) >> 8)
		}
	}
	return &t
})

// wipe clears the pixel buffers of a decoded image: decoded content must
// not outlive the hash.
func wipe(img image.Image) {
	switch m := img.(type) {
	case *image.NRGBA:
		clear(m.Pix)
	case *image.RGBA:
		clear(m.Pix)
	case *image.NRGBA64:
		clear(m.Pix)
	case *image.RGBA64:
		clear(m.Pix)
	case *image.Gray:
		clear(m.Pix)
	case *image.Gray16:
		clear(m.Pix)
	case *image.Alpha:
		clear(m.Pix)
	case *image.Alpha16:
		clear(m.Pix)
	case *image.CMYK:
		clear(m.Pix)
	case *image.Paletted:
		clear(m.Pix)
	case *image.YCbCr:
		clear(m.Y)
		clear(m.Cb)
		clear(m.Cr)
	case *image.NYCbCrA:
		clear(m.Y)
		clear(m.Cb)
		clear(m.Cr)
		clear(m.A)
	}
}
