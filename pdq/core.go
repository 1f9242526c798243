package pdq

import "math"

// A note on floating point, which is the whole difficulty of a bit-exact
// port. The reference does all image arithmetic in float32, one rounding
// per operation, in source order, and the reference outputs were made on
// x86-64 where g++ emits no fused multiply-add by default. Go computes
// float32 expressions in float32, but the spec lets a compiler fuse
// x*y + z into one FMA, and the compiler does so on arm64, ppc64le, s390x
// and riscv64 (and on amd64 with GOAMD64=v3). An explicit float32(x*y)
// conversion forces the product to be rounded on its own and rules the
// fusion out, so every product that feeds a sum is written that way.
// Do not "simplify" those conversions away, and do not reorder any sum:
// each one must accumulate in exactly the reference's order.

// dctMatrix is the reference's 16×64 DCT-II matrix (rows 1..16 of the
// 64-point DCT). The reference computes each entry in double, the scale
// factor already rounded to float, and stores the product as float. Every
// entry sits millions of double ulps away from a float32 rounding
// boundary, so the last-ulp differences between libm cos implementations
// cannot change it.
var dctMatrix = func() (d [16][64]float32) {
	scale := float64(float32(math.Sqrt(2.0 / 64.0)))
	for i := range 16 {
		for j := range 64 {
			d[i][j] = float32(scale * math.Cos(math.Pi/2/64*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// dct64To16 computes B = D·A·Dᵀ, keeping the reference's summation order
// for every element: T[i][j] = Σk D[i][k]·A[k][j], then
// B[i][j] = Σk T[i][k]·D[j][k], k ascending. The first product runs
// row-major over A so that 64 independent sums advance together.
func dct64To16(a *[64][64]float32, t *[16][64]float32, b *[16][16]float32) {
	for i := range 16 {
		ti := &t[i]
		*ti = [64]float32{}
		di := &dctMatrix[i]
		for k := range 64 {
			d := di[k]
			ak := &a[k]
			for j := range 64 {
				ti[j] = ti[j] + float32(d*ak[j]) // no FMA: see the note above
			}
		}
	}
	for i := range 16 {
		ti := &t[i]
		for j := range 16 {
			dj := &dctMatrix[j]
			var sum float32
			for k := range 64 {
				sum = sum + float32(ti[k]*dj[k])
			}
			b[i][j] = sum
		}
	}
}

// qualityMetric is the reference's gradient-sum heuristic on the 64×64
// downsample: each neighbour difference is scaled to percent of 255 in
// float32 and truncated toward zero.
func qualityMetric(a *[64][64]float32) int {
	sum := 0
	for i := range 63 {
		for j := range 64 {
			d := int(float32((a[i][j]-a[i+1][j])*100) / 255)
			sum += abs(d)
		}
	}
	for i := range 64 {
		for j := range 63 {
			d := int(float32((a[i][j]-a[i][j+1])*100) / 255)
			sum += abs(d)
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// torben returns the median of m by Torben Mogensen's method, exactly as
// the reference does (including its choice among the two middle values
// for an even count).
func torben(m []float32) float32 {
	n := len(m)
	lo, hi := m[0], m[0]
	for _, v := range m[1:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	half := (n + 1) / 2
	var less, greater, equal int
	var guess, maxLT, minGT float32
	for {
		guess = (lo + hi) / 2
		less, greater, equal = 0, 0, 0
		maxLT, minGT = lo, hi
		for _, v := range m {
			switch {
			case v < guess:
				less++
				if v > maxLT {
					maxLT = v
				}
			case v > guess:
				greater++
				if v < minGT {
					minGT = v
				}
			default:
				equal++
			}
		}
		if less <= half && greater <= half {
			break
		}
		if less > greater {
			hi = maxLT
		} else {
			lo = minGT
		}
	}
	switch {
	case less >= half:
		return maxLT
	case less+equal >= half:
		return guess
	}
	return minGT
}

// bitsFromDCT sets bit i*16+j when coefficient (i, j) exceeds the median.
func bitsFromDCT(b *[16][16]float32) Hash {
	var flat [256]float32
	for i := range 16 {
		copy(flat[i*16:], b[i][:])
	}
	med := torben(flat[:])
	var h Hash
	for i := range 16 {
		for j := range 16 {
			if b[i][j] > med {
				h.setBit(i*16 + j)
			}
		}
	}
	return h
}

// dihedralHashes derives the hashes of the seven other dihedral
// transforms from the original's DCT coefficients, as the reference's
// dct16OriginalTo* functions do: a transform of the image only transposes
// the coefficient matrix and flips the sign of odd rows or columns.
func dihedralHashes(b *[16][16]float32) [8]Hash {
	var out [8]Hash
	var aux [16][16]float32
	out[Original] = bitsFromDCT(b)
	for t := Rotate90; t <= FlipMinus1; t++ {
		for i := range 16 {
			for j := range 16 {
				v := b[i][j]
				switch t {
				case Rotate90:
					if j&1 == 0 {
						v = -v
					}
					aux[j][i] = v
				case Rotate180:
					if (i+j)&1 == 1 {
						v = -v
					}
					aux[i][j] = v
				case Rotate270:
					if i&1 == 0 {
						v = -v
					}
					aux[j][i] = v
				case FlipX:
					if i&1 == 0 {
						v = -v
					}
					aux[i][j] = v
				case FlipY:
					if j&1 == 0 {
						v = -v
					}
					aux[i][j] = v
				case FlipPlus1:
					aux[j][i] = v
				case FlipMinus1:
					if (i+j)&1 == 1 {
						v = -v
					}
					aux[j][i] = v
				}
			}
		}
		out[t] = bitsFromDCT(&aux)
	}
	return out
}
