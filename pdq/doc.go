// Package pdq owns the PDQ perceptual hash: turning an image or a luma
// buffer into a 256-bit hash with a quality score (0–100), the eight
// dihedral variants of that hash, the reference hex format, and the Hamming
// distance between two hashes.
//
// The computation is bit-exact with Meta's reference C++ core
// (ThreatExchange pdq/cpp) as compiled for x86-64 without fused
// multiply-add: float32 arithmetic in the reference's operation order,
// the reference's luma weights, the two-pass Jarosz box filter, the 64×64
// decimation, the 16×64 DCT matrix built in double and rounded to float,
// Torben's median, and the gradient-sum quality metric.
//
// Two profiles select what happens before hashing: [ProfileHMA] (the
// default) hashes at full resolution, as python-threatexchange, HMA and
// the Java port do; [ProfileCPPCLI] first squashes an image with a side
// over 512 pixels to 512×512 by CImg's nearest-neighbour resize, as the
// reference pdq-photo-hasher does.
//
// Bit-exactness holds for identical decoded pixels. Decoders differ far
// more than hashers do (JPEG IDCT and colour conversion, 16-bit handling),
// so the same file decoded by Go, PIL or ImageMagick can hash a few bits
// apart. Grey images take the reference's grey path (luma = sample) and
// colour images its float32 RGB path. python-threatexchange's binding
// instead computes luma in float64 with NumPy, and feeds grey images
// through the RGB formula; on some pixels that lands one float32 ulp away,
// which can, rarely, flip a bit near the median. [Sample16] selects how
// 16-bit samples are reduced to the 8 bits the reference hashes.
//
// The package is a pure library: it imports only the standard library and
// nothing else from this module. It does not decode files; callers hand it
// decoded pixels and drop them afterwards.
package pdq
