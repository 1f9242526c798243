package hashing

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"sync"

	"alliance/pdq"
)

// Default limits.
const (
	// DefaultMaxSize is the largest input read, in bytes.
	DefaultMaxSize = 64 << 20
	// DefaultMaxPixels is the largest image decoded, in pixels
	// (width×height as the header states it).
	DefaultMaxPixels = 50_000_000
)

// Errors wrapped by what Hash* return; the message adds the detail.
var (
	// ErrTooLarge: the input has more bytes than Options.MaxSize. No hash
	// is computed.
	ErrTooLarge = errors.New("too large")
	// ErrTooManyPixels: an image's header announces more pixels than
	// Options.MaxPixels; it is not decoded. The exact hashes are valid.
	ErrTooManyPixels = errors.New("too many pixels")
	// ErrDecode: the input looks like a supported image format but
	// cannot be decoded (truncated, corrupt, or a variant the decoders
	// do not support). The exact hashes are valid.
	ErrDecode = errors.New("cannot decode image")
)

// Options tunes hashing. The zero value is usable: ProfileHMA, no dihedral
// hashes, the default limits.
type Options struct {
	// Profile selects the PDQ pre-processing; "" means pdq.ProfileHMA.
	Profile pdq.Profile
	// Dihedral also computes the hashes of the eight rotations and
	// reflections of an image.
	Dihedral bool
	// MaxSize is the largest input in bytes; 0 means DefaultMaxSize.
	MaxSize int64
	// MaxPixels is the largest image in pixels; 0 means DefaultMaxPixels.
	MaxPixels int64
}

func (o Options) normalise() (Options, error) {
	p, err := pdq.ParseProfile(string(o.Profile))
	if err != nil {
		return o, err
	}
	o.Profile = p
	if o.MaxSize < 0 || o.MaxPixels < 0 {
		return o, fmt.Errorf("hashing: negative limit (max size %d, max pixels %d)", o.MaxSize, o.MaxPixels)
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	return o, nil
}

// Result is what hashing found out about one input.
type Result struct {
	// MD5, SHA1 and SHA256 are the lowercase hex digests of the bytes.
	MD5, SHA1, SHA256 string
	// Size is the number of bytes.
	Size int64
	// ContentType is the MIME type sniffed from the content, e.g.
	// "image/jpeg" or "text/plain; charset=utf-8".
	ContentType string
	// Format names the image decoder used ("jpeg", "png", "gif", "webp",
	// "bmp", "tiff"); empty for input that is not a supported image.
	Format string
	// Width and Height are the image's dimensions from its header; zero
	// when Format is empty or the header could not be read.
	Width, Height int
	// PDQ is the perceptual hash, nil unless the image was decoded. An
	// image with a side under pdq.MinDim has the zero hash and quality 0,
	// as in the reference.
	PDQ *pdq.Hash
	// PDQQuality is the hash's quality, 0–100; the reference suggests not
	// trusting hashes under 50.
	PDQQuality int
	// Profile is the profile PDQ was computed under; empty when PDQ is nil.
	Profile pdq.Profile
	// Dihedral holds the hashes of the eight dihedral transforms, indexed
	// by pdq.Transform, when Options.Dihedral asked for them.
	Dihedral *[8]pdq.Hash
}

// HashBytes hashes b, which stays the caller's: it is not modified or kept.
func HashBytes(b []byte, opts Options) (Result, error) {
	opts, err := opts.normalise()
	if err != nil {
		return Result{}, err
	}
	if int64(len(b)) > opts.MaxSize {
		return Result{}, tooLarge(int64(len(b)), opts.MaxSize)
	}
	var d digests
	d.init()
	d.Write(b)
	res := d.result(int64(len(b)))
	return res, hashImage(b, opts, &res)
}

// HashReader reads r once, to its end or to the size limit, and hashes
// what it read. The bytes are held in memory only while hashing.
func HashReader(r io.Reader, opts Options) (Result, error) {
	opts, err := opts.normalise()
	if err != nil {
		return Result{}, err
	}
	return hashReader(r, -1, opts)
}

// HashFile hashes the file at path. Its size is checked before reading.
func HashFile(path string, opts Options) (Result, error) {
	opts, err := opts.normalise()
	if err != nil {
		return Result{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	if !fi.Mode().IsRegular() {
		return Result{}, fmt.Errorf("hashing: %s is not a regular file", path)
	}
	if fi.Size() > opts.MaxSize {
		return Result{}, tooLarge(fi.Size(), opts.MaxSize)
	}
	return hashReader(f, fi.Size(), opts)
}

func tooLarge(n, limit int64) error {
	if n < 0 {
		return fmt.Errorf("hashing: %w: more than %d bytes", ErrTooLarge, limit)
	}
	return fmt.Errorf("hashing: %w: %d bytes, more than %d", ErrTooLarge, n, limit)
}

// hashReader streams r once through the three digests and into a pooled
// memory buffer (sizeHint bytes expected, or -1), then hashes the image.
func hashReader(r io.Reader, sizeHint int64, opts Options) (Result, error) {
	buf := getBuffer(sizeHint, opts.MaxSize)
	defer putBuffer(buf)
	chunk := chunks.Get().(*[]byte)
	defer func() {
		clear(*chunk)
		chunks.Put(chunk)
	}()

	var d digests
	d.init()
	// One byte past the limit tells a file at the limit from a larger one.
	lr := &io.LimitedReader{R: r, N: opts.MaxSize + 1}
	n, err := io.CopyBuffer(io.MultiWriter(&d, buf), lr, *chunk)
	if err != nil {
		return Result{}, fmt.Errorf("hashing: read: %w", err)
	}
	if n > opts.MaxSize {
		return Result{}, tooLarge(-1, opts.MaxSize)
	}
	res := d.result(n)
	return res, hashImage(buf.b, opts, &res)
}

// digests computes the three exact hashes in one pass.
type digests struct {
	md5, sha1, sha256 hash.Hash
}

func (d *digests) init() {
	d.md5, d.sha1, d.sha256 = md5.New(), sha1.New(), sha256.New()
}

func (d *digests) Write(p []byte) (int, error) {
	d.md5.Write(p)
	d.sha1.Write(p)
	d.sha256.Write(p)
	return len(p), nil
}

func (d *digests) result(size int64) Result {
	return Result{
		MD5:    hex.EncodeToString(d.md5.Sum(nil)),
		SHA1:   hex.EncodeToString(d.sha1.Sum(nil)),
		SHA256: hex.EncodeToString(d.sha256.Sum(nil)),
		Size:   size,
	}
}

// memBuffer is an append-only in-memory sink for the input bytes.
type memBuffer struct{ b []byte }

func (m *memBuffer) Write(p []byte) (int, error) {
	m.b = append(m.b, p...)
	return len(p), nil
}

// maxPooled is the largest buffer kept for reuse; larger ones are cleared
// and left to the garbage collector, so that one big file does not pin
// its size in every worker.
const maxPooled = 8 << 20

var (
	buffers = sync.Pool{New: func() any { return new(memBuffer) }}
	chunks  = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
)

func getBuffer(sizeHint, limit int64) *memBuffer {
	m := buffers.Get().(*memBuffer)
	if sizeHint >= 0 && int64(cap(m.b)) < sizeHint+1 {
		// The +1 lets the copy see EOF without growing the buffer.
		m.b = make([]byte, 0, min(sizeHint+1, limit+1))
	}
	m.b = m.b[:0]
	return m
}

// putBuffer wipes the buffer's whole capacity (the input bytes must not
// outlive the call) and pools it if it is not too big.
func putBuffer(m *memBuffer) {
	clear(m.b[:cap(m.b)])
	m.b = m.b[:0]
	if cap(m.b) > maxPooled {
		m.b = nil
	}
	buffers.Put(m)
}

// sniff returns the input's MIME type, from its first bytes only.
func sniff(b []byte) string {
	// http.DetectContentType does not know TIFF.
	if bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")) {
		return "image/tiff"
	}
	return http.DetectContentType(b)
}
