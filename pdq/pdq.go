package pdq

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
)

// MinDim is the reference's MIN_HASHABLE_DIM: an image with a side under
// it gets the zero hash and quality 0, without error, as in the reference.
const MinDim = 5

// ErrInvalidInput is wrapped by every error about unusable input (nil or
// empty image, a luma buffer of the wrong length, an unknown option).
var ErrInvalidInput = errors.New("pdq: invalid input")

// Result is a PDQ hash with its quality score.
type Result struct {
	Hash Hash
	// Quality is 0–100; the reference suggests not trusting hashes of
	// images under 50.
	Quality int
}

// Transform names one of the eight dihedral transforms (rotations and
// reflections) of an image, in the reference's order.
type Transform int

const (
	// Original is the image as given.
	Original Transform = iota
	// Rotate90 is the image rotated 90° counter-clockwise.
	Rotate90
	// Rotate180 is the image rotated 180°.
	Rotate180
	// Rotate270 is the image rotated 270° counter-clockwise.
	Rotate270
	// FlipX is the image mirrored top to bottom (about the horizontal axis).
	FlipX
	// FlipY is the image mirrored left to right (about the vertical axis).
	FlipY
	// FlipPlus1 is the image transposed (reflected about the main diagonal).
	FlipPlus1
	// FlipMinus1 is the image reflected about the anti-diagonal.
	FlipMinus1
)

var transformNames = [8]string{"orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm"}

// String gives the transform's short name, as in the column names of the
// reference CLI's dihedral output: orig, rot90, rot180, rot270, flipx,
// flipy, flipp, flipm.
func (t Transform) String() string {
	if t >= 0 && int(t) < len(transformNames) {
		return transformNames[t]
	}
	return fmt.Sprintf("Transform(%d)", int(t))
}

// Dihedral holds the hashes of all eight dihedral transforms of an image,
// indexed by Transform, and the quality they share.
type Dihedral struct {
	Hashes  [8]Hash
	Quality int
}

var engines = sync.Pool{New: func() any { return new(engine) }}

func getEngine() *engine { return engines.Get().(*engine) }

// putEngine wipes what the engine holds about the image before pooling
// it: pixels read for hashing must not outlive the call (the project's
// zero-content rule), and that includes the blurred rows and the 64×64
// thumbnail, not only the reference to the caller's image.
func putEngine(e *engine) {
	e.isrc.img, e.lsrc.pix = nil, nil
	e.wipe()
	engines.Put(e)
}

// HashImage computes the PDQ hash and quality of img. Alpha is ignored:
// the straight (not premultiplied) RGB is hashed. Grey images take the
// reference's grey path (luma = sample), colour images its RGB path.
func HashImage(img image.Image, opts Options) (res Result, err error) {
	defer recoverImage(&err)
	if err := checkImage(img, opts); err != nil {
		return Result{}, err
	}
	e := getEngine()
	defer putEngine(e)
	src := e.imageSource(img, opts)
	return e.hash(src, src.w, src.h), nil
}

// DihedralImage computes the hashes of the eight dihedral transforms of
// img from one DCT, as the reference's pdqDihedralHash256esFromFloatLuma.
func DihedralImage(img image.Image, opts Options) (d Dihedral, err error) {
	defer recoverImage(&err)
	if err := checkImage(img, opts); err != nil {
		return Dihedral{}, err
	}
	e := getEngine()
	defer putEngine(e)
	src := e.imageSource(img, opts)
	return e.dihedral(src, src.w, src.h), nil
}

// HashLuma computes the PDQ hash and quality of a luma buffer: width×height
// float32 values, row-major, as the reference's pdqHash256FromFloatLuma
// takes. With ProfileCPPCLI a buffer with a side over 512 is first
// resized by nearest neighbour, which equals resizing the pixels and then
// taking their luma. The buffer is not modified.
func HashLuma(luma []float32, width, height int, p Profile) (Result, error) {
	if err := checkLuma(luma, width, height, p); err != nil {
		return Result{}, err
	}
	e := getEngine()
	defer putEngine(e)
	src := e.lumaSource(luma, width, height, p)
	return e.hash(src, src.w, src.h), nil
}

// DihedralLuma is DihedralImage for a luma buffer; see HashLuma.
func DihedralLuma(luma []float32, width, height int, p Profile) (Dihedral, error) {
	if err := checkLuma(luma, width, height, p); err != nil {
		return Dihedral{}, err
	}
	e := getEngine()
	defer putEngine(e)
	src := e.lumaSource(luma, width, height, p)
	return e.dihedral(src, src.w, src.h), nil
}

// ImageLuma returns the full-resolution luma of img as the hash sees it
// (row-major, width×height), without any profile resize; opts selects the
// 16-bit handling. HashLuma(ImageLuma(img)) equals HashImage(img).
func ImageLuma(img image.Image, opts Options) (luma []float32, width, height int, err error) {
	defer recoverImage(&err)
	if err := checkImage(img, opts); err != nil {
		return nil, 0, 0, err
	}
	var src imageSource
	src.init(img, opts, nil, nil)
	if src.w != src.srcW || src.h != src.srcH {
		// The profile matters here only for its 16-bit default.
		src.grid = newGrid(src.srcW, src.srcH, ProfileHMA, src.xs)
	}
	luma = make([]float32, src.w*src.h)
	for r := range src.h {
		src.row(r, luma[r*src.w:(r+1)*src.w])
	}
	return luma, src.w, src.h, nil
}

// recoverImage turns a panic from a malformed image value (a typed nil
// pointer, a Pix slice shorter than its Rect claims) into an error, so
// that one bad input cannot take a worker down. Pooled engines hold no
// state between calls, so nothing is left inconsistent.
func recoverImage(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: malformed image: %v", ErrInvalidInput, r)
	}
}

func checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: image is %d×%d", ErrInvalidInput, w, h)
	}
	if w > math.MaxInt32/h {
		return fmt.Errorf("%w: image %d×%d is too large", ErrInvalidInput, w, h)
	}
	return nil
}

func checkImage(img image.Image, opts Options) error {
	if img == nil {
		return fmt.Errorf("%w: nil image", ErrInvalidInput)
	}
	if err := opts.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	b := img.Bounds()
	return checkSize(b.Dx(), b.Dy())
}

func checkLuma(luma []float32, w, h int, p Profile) error {
	if !p.valid() {
		return fmt.Errorf("%w: unknown profile %q", ErrInvalidInput, string(p))
	}
	if err := checkSize(w, h); err != nil {
		return err
	}
	if len(luma) != w*h {
		return fmt.Errorf("%w: luma has %d values, want %d×%d", ErrInvalidInput, len(luma), w, h)
	}
	return nil
}

func (e *engine) imageSource(img image.Image, opts Options) *imageSource {
	e.isrc.init(img, opts, e.xs, e.cxs)
	e.xs, e.cxs = e.isrc.xs, e.isrc.cxs
	return &e.isrc
}

func (e *engine) lumaSource(luma []float32, w, h int, p Profile) *lumaSource {
	e.lsrc = lumaSource{grid: newGrid(w, h, p, e.xs), pix: luma}
	e.xs = e.lsrc.xs
	return &e.lsrc
}

// hash is pdqHash256FromFloatLuma on rows×cols luma from src.
func (e *engine) hash(src rowSource, cols, rows int) Result {
	if rows < MinDim || cols < MinDim {
		return Result{}
	}
	if rows == 64 && cols == 64 {
		e.copy64(src)
	} else {
		e.downsample(src, rows, cols)
	}
	q := qualityMetric(&e.a64)
	dct64To16(&e.a64, &e.t, &e.b)
	return Result{Hash: bitsFromDCT(&e.b), Quality: q}
}

// dihedral is pdqDihedralHash256esFromFloatLuma. Unlike the plain hash it
// has no 64×64 shortcut: the reference always blurs here, so a 64×64
// input can give an Original hash that differs from HashLuma's.
func (e *engine) dihedral(src rowSource, cols, rows int) Dihedral {
	if rows < MinDim || cols < MinDim {
		return Dihedral{}
	}
	e.downsample(src, rows, cols)
	q := qualityMetric(&e.a64)
	dct64To16(&e.a64, &e.t, &e.b)
	return Dihedral{Hashes: dihedralHashes(&e.b), Quality: q}
}
