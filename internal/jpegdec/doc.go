// Package jpegdec is a pure-Go JPEG decoder whose output matches
// libjpeg-turbo's with its default settings, the decoder behind
// ImageMagick, PIL and so the PDQ reference hashes: the "islow" integer
// inverse DCT (jidctint.c), "fancy" triangular chroma upsampling
// (jdsample.c: h2v1, h1v2 and h2v2; replication for other factors or
// chroma two samples wide or less), and libjpeg's integer YCbCr→RGB tables
// (jdcolor.c). The standard library's image/jpeg differs in all three, so
// the same file decodes a few levels apart per pixel, which moves PDQ
// hashes by a few bits.
//
// The bitstream parsing (markers, Huffman tables, progressive scans,
// restart intervals) is forked from Go 1.26's image/jpeg, under its BSD
// licence (LICENSE.golang); the changes are noted at the top of each
// forked file. The decoder works on the whole input in memory (Decode
// reads its io.Reader to the end; DecodeBytes and DecodeSampled take the
// bytes), which lets the entropy decoder refill a 64-bit bit buffer
// several bytes at a time, as libjpeg-turbo does; with that, decoding to
// RGB takes about as long as image/jpeg takes to decode to YCbCr. The
// colour space is guessed by libjpeg's rules (JFIF, then the Adobe
// transform, then the component identifiers), and any sampling factors
// that divide the largest are accepted, as by libjpeg. Unlike libjpeg, a
// truncated or corrupt stream is an error rather than a warning with grey
// fill-in, and only 8-bit baseline, extended and progressive Huffman
// JPEGs are supported (no arithmetic coding, lossless or 12-bit). EXIF
// orientation is not applied (libjpeg does not either).
//
// The IDCT, upsampling and colour conversion are ports of the Independent
// JPEG Group's algorithms, used under the IJG licence: this software is
// based in part on the work of the Independent JPEG Group.
//
// Memory: a decode holds the component planes (padded to whole MCUs),
// then the output image (4 bytes a pixel for colour); a progressive image
// also holds 2 bytes per coefficient until its last scan is read. The
// planes and coefficients are cleared once converted. Callers that take
// untrusted input check DecodeConfigBytes's dimensions first.
package jpegdec
