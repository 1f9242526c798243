// Package hashing owns turning a file or a byte stream into the hashes the
// network matches on: the exact hashes MD5, SHA-1 and SHA-256 of the bytes,
// and, for images, the PDQ perceptual hash with its quality (and, on
// request, its eight dihedral variants), under a recorded profile.
//
// Input is read once, through all three digests and into memory, under a
// size limit; images are recognised by their content (magic bytes, never
// the file name), their dimensions are read from the header and checked
// against a pixel limit before any pixel buffer is allocated, and they are
// decoded and hashed. The bytes and decoded pixels live in memory only:
// nothing is written to disk or logged, reused buffers are cleared before
// reuse, and pixel buffers are cleared once hashed.
//
// Decoding follows the reference stacks (ImageMagick and PIL, on
// libjpeg-turbo and libwebp), so that hashes match theirs: JPEG goes
// through internal/jpegdec, which reproduces libjpeg-turbo's default
// output exactly; PNG, GIF (first frame), WebP, BMP and TIFF go through
// the standard library and golang.org/x/image, with lossy WebP's chroma
// upsampling and colour conversion done as libwebp does them. CMYK is
// converted to RGB as ImageMagick does. Alpha is ignored, 16-bit samples
// follow the profile (see pdq.Sample16), and EXIF orientation is not
// applied, as in the references. On the shared conformance images every
// hash equals the reference's, in both profiles.
//
// With the cpp-cli profile a JPEG larger than 512×512 is converted only
// at the pixels the profile's nearest-neighbour resize keeps, which gives
// the same hash for less work.
package hashing
