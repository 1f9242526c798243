package jpegdec

// The inverse DCT below is libjpeg's "islow" algorithm (jidctint.c, the
// default JDCT_ISLOW of libjpeg and libjpeg-turbo): a scaled integer
// version of the Loeffler–Ligtenberg–Moschytz IDCT with 13-bit constants,
// two passes (columns, then rows) and 2 extra bits of precision between
// them. It is a port of the algorithm, which is copyright (C) 1991-1998
// Thomas G. Lane and the Independent JPEG Group and used under the IJG
// licence: this software is based in part on the work of the Independent
// JPEG Group. libjpeg-turbo's SIMD versions of it give the same samples.

// blockSize is the number of coefficients in an 8×8 block.
const blockSize = 8 * 8

// block holds one block's coefficients in natural (row-major) order while
// it is being decoded and dequantized.
type block [blockSize]int32

// coefBlock is a block as libjpeg stores it between progressive scans: as
// 16-bit JCOEFs, which also halves the memory a large progressive image
// needs.
type coefBlock [blockSize]int16

const (
	constBits = 13
	pass1Bits = 2

	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// rangeLimit is libjpeg's IDCT_range_limit table, indexed by the
// descaled output (centred on zero) masked to 10 bits (RANGE_MASK): it
// adds 128 and clamps to 0..255 for -384..383 and, like libjpeg, wraps
// around for wilder values from corrupt data.
var rangeLimit = func() (t [1024]uint8) {
	for i := range t {
		switch {
		case i < 128:
			t[i] = uint8(i + 128)
		case i < 512:
			t[i] = 255
		case i < 896:
			t[i] = 0
		default:
			t[i] = uint8(i - 896)
		}
	}
	return t
}()

// idctIslow is jpeg_idct_islow for a dequantized block: it writes the 8×8
// samples to dst, stride bytes a row. The arithmetic is 32-bit, as in
// libjpeg-turbo's SIMD versions of it (which also keep the workspace in 16
// bits): for the coefficients a forward DCT of 8-bit samples produces,
// intermediates stay under 2**31 and the result equals the C code's JLONG
// arithmetic; crafted coefficients may wrap where the C code would not,
// which changes samples but cannot fault.
func idctIslow(b *block, dst []byte, stride int) {
	var ws [blockSize]int32

	// Pass 1: process columns from input, store into work array. Results
	// are scaled up by sqrt(8) compared to a true IDCT, and by 2**pass1Bits.
	for c := range 8 {
		if b[8+c] == 0 && b[16+c] == 0 && b[24+c] == 0 && b[32+c] == 0 &&
			b[40+c] == 0 && b[48+c] == 0 && b[56+c] == 0 {
			// AC terms all zero: the output is the scaled DC term, which is
			// also what the full computation gives.
			dc := b[c] << pass1Bits
			for r := range 8 {
				ws[8*r+c] = dc
			}
			continue
		}

		// Even part.
		z2 := int32(b[16+c])
		z3 := int32(b[48+c])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*-fix1_847759065
		tmp3 := z1 + z2*fix0_765366865

		z2 = int32(b[c])
		z3 = int32(b[32+c])
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part.
		tmp0 = int32(b[56+c])
		tmp1 = int32(b[40+c])
		tmp2 = int32(b[24+c])
		tmp3 = int32(b[8+c])

		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602

		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 *= -fix1_961570560
		z4 *= -fix0_390180644

		z3 += z5
		z4 += z5

		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const n = constBits - pass1Bits
		ws[c] = (descale(tmp10+tmp3, n))
		ws[56+c] = (descale(tmp10-tmp3, n))
		ws[8+c] = (descale(tmp11+tmp2, n))
		ws[48+c] = (descale(tmp11-tmp2, n))
		ws[16+c] = (descale(tmp12+tmp1, n))
		ws[40+c] = (descale(tmp12-tmp1, n))
		ws[24+c] = (descale(tmp13+tmp0, n))
		ws[32+c] = (descale(tmp13-tmp0, n))
	}

	// Pass 2: process rows from the work array into the output, removing
	// the factor of 8 and the pass-1 scaling.
	for r := range 8 {
		w := ws[8*r : 8*r+8 : 8*r+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := rangeLimit[descale(int32(w[0]), pass1Bits+3)&1023]
			for i := range out {
				out[i] = v
			}
			continue
		}

		// Even part.
		z2 := int32(w[2])
		z3 := int32(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*-fix1_847759065
		tmp3 := z1 + z2*fix0_765366865

		tmp0 := (int32(w[0]) + int32(w[4])) << constBits
		tmp1 := (int32(w[0]) - int32(w[4])) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part.
		tmp0 = int32(w[7])
		tmp1 = int32(w[5])
		tmp2 = int32(w[3])
		tmp3 = int32(w[1])

		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602

		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 *= -fix1_961570560
		z4 *= -fix0_390180644

		z3 += z5
		z4 += z5

		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		const n = constBits + pass1Bits + 3
		out[0] = rangeLimit[descale(tmp10+tmp3, n)&1023]
		out[7] = rangeLimit[descale(tmp10-tmp3, n)&1023]
		out[1] = rangeLimit[descale(tmp11+tmp2, n)&1023]
		out[6] = rangeLimit[descale(tmp11-tmp2, n)&1023]
		out[2] = rangeLimit[descale(tmp12+tmp1, n)&1023]
		out[5] = rangeLimit[descale(tmp12-tmp1, n)&1023]
		out[3] = rangeLimit[descale(tmp13+tmp0, n)&1023]
		out[4] = rangeLimit[descale(tmp13-tmp0, n)&1023]
	}
}

// descale is libjpeg's DESCALE: x / 2**n rounded, with an arithmetic shift.
func descale(x int32, n uint) int32 { return (x + 1<<(n-1)) >> n }
