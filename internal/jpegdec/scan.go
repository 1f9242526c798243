// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE.golang file.
//
// Forked from Go 1.26's image/jpeg/scan.go for Alliance: non-interleaved
// scans walk each component's own block extent and count restart
// intervals in blocks; sequential blocks take a fast path written after
// libjpeg-turbo's decode_mcu; progressive coefficients are kept as 16-bit
// JCOEFs; the inverse DCT is libjpeg's islow (idct.go). See doc.go.

package jpegdec

// allocPlanes allocates one sample plane per component, padded to whole
// MCUs so that every decoded block has a place, as libjpeg's buffers are.
func (d *decoder) allocPlanes() {
	for i, c := range d.comp[:d.nComp] {
		d.stride[i] = 8 * c.h * d.mxx
		d.planes[i] = make([]byte, d.stride[i]*8*c.v*d.myy)
	}
}

// Specified in section B.2.3.
func (d *decoder) processSOS(n int) error {
	if d.nComp == 0 {
		return FormatError("missing SOF marker")
	}
	if n < 6 || 4+2*d.nComp < n || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	nComp := int(d.tmp[0])
	if n != 4+2*nComp {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scan [maxComponents]struct {
		compIndex uint8
		td        uint8 // DC table selector.
		ta        uint8 // AC table selector.
	}
	totalHV := 0
	for i := 0; i < nComp; i++ {
		cs := d.tmp[1+2*i] // Component selector.
		compIndex := -1
		for j, comp := range d.comp[:d.nComp] {
			if cs == comp.c {
				compIndex = j
			}
		}
		if compIndex < 0 {
			return FormatError("unknown component selector")
		}
		scan[i].compIndex = uint8(compIndex)
		// Section B.2.3 states that "the value of Cs_j shall be different from
		// the values of Cs_1 through Cs_(j-1)". Since we have previously
		// verified that a frame's component identifiers (C_i values in section
		// B.2.2) are unique, it suffices to check that the implicit indexes
		// into d.comp are unique.
		for j := 0; j < i; j++ {
			if scan[i].compIndex == scan[j].compIndex {
				return FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[compIndex].h * d.comp[compIndex].v
		d.seen[compIndex] = true

		// The baseline t <= 1 restriction is specified in table B.3.
		scan[i].td = d.tmp[2+2*i] >> 4
		if t := scan[i].td; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Td value")
		}
		scan[i].ta = d.tmp[2+2*i] & 0x0f
		if t := scan[i].ta; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Ta value")
		}
	}
	// Section B.2.3 states that if there is more than one component then the
	// total H*V values in a scan must be <= 10.
	if nComp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}

	// zigStart and zigEnd are the spectral selection bounds.
	// ah and al are the successive approximation high and low values.
	// The spec calls these values Ss, Se, Ah and Al.
	//
	// For progressive JPEGs, these are the two more-or-less independent
	// aspects of progression. Spectral selection progression is when not
	// all of a block's 64 DCT coefficients are transmitted in one pass.
	// For example, three passes could transmit coefficient 0 (the DC
	// component), coefficients 1-5, and coefficients 6-63, in zig-zag
	// order. Successive approximation is when not all of the bits of a
	// band of coefficients are transmitted in one pass. For example,
	// three passes could transmit the 6 most significant bits, followed
	// by the second-least significant bit, followed by the least
	// significant bit.
	//
	// For sequential JPEGs, these parameters are hard-coded to 0/63/0/0, as
	// per table B.3.
	zigStart, zigEnd, ah, al := int32(0), int32(blockSize-1), uint32(0), uint32(0)
	if d.progressive {
		zigStart = int32(d.tmp[1+2*nComp])
		zigEnd = int32(d.tmp[2+2*nComp])
		ah = uint32(d.tmp[3+2*nComp] >> 4)
		al = uint32(d.tmp[3+2*nComp] & 0x0f)
		if (zigStart == 0 && zigEnd != 0) || zigStart > zigEnd || blockSize <= zigEnd {
			return FormatError("bad spectral selection bounds")
		}
		if zigStart != 0 && nComp != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
	}

	if d.planes[0] == nil {
		d.cs = d.colorSpace()
		d.allocPlanes()
	}
	if d.progressive {
		for i := 0; i < nComp; i++ {
			ci := scan[i].compIndex
			if d.progCoeffs[ci] == nil {
				d.progCoeffs[ci] = make([]coefBlock, d.mxx*d.myy*d.comp[ci].h*d.comp[ci].v)
			}
		}
	}

	d.startBits()
	d.eobRun = 0
	st := scanState{zigStart: zigStart, zigEnd: zigEnd, ah: ah, al: al}
	mcu, expectedRST := 0, uint8(rst0Marker)
	// nextMCU finishes an MCU and handles the restart marker that follows
	// every d.ri MCUs but the last.
	nextMCU := func(total int) error {
		mcu++
		if d.ri == 0 || mcu%d.ri != 0 || mcu >= total {
			return nil
		}
		// For well-formed input, the RST[0-7] restart marker follows
		// immediately. For corrupt input, call findRST to try to
		// resynchronize.
		if err := d.endBits(); err != nil {
			return err
		}
		if err := d.readFull(d.tmp[:2]); err != nil {
			return err
		} else if d.tmp[0] != 0xff || d.tmp[1] != expectedRST {
			if err := d.findRST(expectedRST); err != nil {
				return err
			}
		}
		expectedRST++
		if expectedRST == rst7Marker+1 {
			expectedRST = rst0Marker
		}
		// Reset the Huffman decoder.
		d.startBits()
		// Reset the DC components, as per section F.2.1.3.1.
		st.dc = [maxComponents]int32{}
		// Reset the progressive decoder state, as per section G.1.2.2.
		d.eobRun = 0
		return nil
	}

	if nComp == 1 {
		// A non-interleaved scan: the MCU is one block, the blocks run left
		// to right and top to bottom over the component's own extent, and
		// there is no data for the padding blocks of the MCU grid (section
		// A.2.2). Restart intervals count these one-block MCUs.
		ci := int(scan[0].compIndex)
		c := &d.comp[ci]
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				if err := d.decodeBlock(&st, ci, scan[0].td, scan[0].ta, bx, by); err != nil {
					return err
				}
				if err := nextMCU(c.bw * c.bh); err != nil {
					return err
				}
			}
		}
		return d.endBits()
	}
	// An interleaved scan: each MCU holds h×v blocks of each component,
	// left to right and top to bottom within the MCU. For a sequential
	// 32x16 pixel 4:2:0 image, the Y blocks visiting order is:
	//	0 1 4 5
	//	2 3 6 7
	for my := 0; my < d.myy; my++ {
		for mx := 0; mx < d.mxx; mx++ {
			for i := 0; i < nComp; i++ {
				ci := int(scan[i].compIndex)
				hi, vi := d.comp[ci].h, d.comp[ci].v
				for j := 0; j < hi*vi; j++ {
					bx, by := hi*mx+j%hi, vi*my+j/hi
					if err := d.decodeBlock(&st, ci, scan[i].td, scan[i].ta, bx, by); err != nil {
						return err
					}
				}
			}
			if err := nextMCU(d.mxx * d.myy); err != nil {
				return err
			}
		}
	}
	return d.endBits()
}

// scanState is the state of one scan that decodeBlock carries from block
// to block.
type scanState struct {
	// zigStart and zigEnd are the spectral selection bounds, ah and al the
	// successive approximation high and low values (Ss, Se, Ah, Al).
	zigStart, zigEnd int32
	ah, al           uint32
	dc               [maxComponents]int32 // DC predictors
}

// decodeBlock decodes block (bx, by) of component ci: for a sequential
// image it reconstructs the samples at once (decodeSequential); for a
// progressive one it adds this scan's bits to the saved coefficients.
func (d *decoder) decodeBlock(st *scanState, ci int, td, ta uint8, bx, by int) error {
	if !d.progressive {
		return d.decodeSequential(st, ci, td, ta, bx, by)
	}
	// b is the decoded coefficients, in natural (not zig-zag) order,
	// starting from the previous scans' partially decoded ones.
	var b block
	saved := &d.progCoeffs[ci][by*d.mxx*d.comp[ci].h+bx]
	for k, v := range saved {
		b[k] = int32(v)
	}
	zigStart, zigEnd := st.zigStart, st.zigEnd
	if st.ah != 0 {
		if err := d.refine(&b, &d.huff[acTable][ta], zigStart, zigEnd, 1<<st.al); err != nil {
			return err
		}
	} else {
		zig := zigStart
		if zig == 0 {
			zig++
			// Decode the DC coefficient, as specified in section F.2.2.1.
			value, err := d.decodeHuffman(&d.huff[dcTable][td])
			if err != nil {
				return err
			}
			if value > 16 {
				return UnsupportedError("excessive DC component")
			}
			dcDelta, err := d.receiveExtend(value)
			if err != nil {
				return err
			}
			st.dc[ci] += dcDelta
			b[0] = st.dc[ci] << st.al
		}

		if zig <= zigEnd && d.eobRun > 0 {
			d.eobRun--
		} else {
			// Decode the AC coefficients, as specified in section F.2.2.2.
			huff := &d.huff[acTable][ta]
			for ; zig <= zigEnd; zig++ {
				value, err := d.decodeHuffman(huff)
				if err != nil {
					return err
				}
				val0 := value >> 4
				val1 := value & 0x0f
				if val1 != 0 {
					zig += int32(val0)
					if zig > zigEnd {
						break
					}
					acv, err := d.receiveExtend(val1)
					if err != nil {
						return err
					}
					b[unzig[zig]] = acv << st.al
				} else {
					if val0 != 0x0f {
						d.eobRun = uint16(1 << val0)
						if val0 != 0 {
							bits, err := d.decodeBits(int32(val0))
							if err != nil {
								return err
							}
							d.eobRun |= uint16(bits)
						}
						d.eobRun--
						break
					}
					zig += 0x0f
				}
			}
		}
	}

	if d.bits.short() {
		return errShortHuffmanData
	}
	// Save the coefficients as libjpeg's 16-bit JCOEFs. The inverse DCT
	// runs once, after the last scan (reconstructProgressiveImage): Decode
	// returns only the complete image.
	for k, v := range b {
		saved[k] = int16(v)
	}
	return nil
}

// decodeSequential decodes and reconstructs block (bx, by) of component
// ci of a sequential image: the hot loop of a baseline decode, written as
// libjpeg-turbo's decode_mcu. Coefficients are dequantized as they are
// read, and the inverse DCT is told whether any AC coefficient was seen.
func (d *decoder) decodeSequential(st *scanState, ci int, td, ta uint8, bx, by int) error {
	value, err := d.decodeHuffman(&d.huff[dcTable][td])
	if err != nil {
		return err
	}
	if value > 16 {
		return UnsupportedError("excessive DC component")
	}
	dcDelta, err := d.receiveExtend(value)
	if err != nil {
		return err
	}
	st.dc[ci] += dcDelta
	q := &d.quant[d.comp[ci].tq]
	var b block
	b[0] = st.dc[ci] * q[0]
	h := &d.huff[acTable][ta]
	if h.nCodes == 0 {
		return FormatError("uninitialized Huffman table")
	}
	ac := false
	br := &d.bits
	// The accumulator lives in locals in this loop, written back around
	// calls that use it.
	acc, n := br.acc, br.n
	for k := uint(1); k < blockSize; k++ {
		// 32 bits hold a code (at most 16) and its value (at most 15).
		if n < 32 {
			br.acc, br.n = acc, n
			d.fill()
			acc, n = br.acc, br.n
		}
		var sym uint8
		if v := h.lut[uint32(acc>>(n-lutSize))&(1<<lutSize-1)]; v != 0 {
			n -= uint(v & 0xff)
			sym = uint8(v >> 8)
		} else {
			br.acc, br.n = acc, n
			if sym, err = d.decodeHuffmanSlow(h); err != nil {
				return err
			}
			n = br.n
		}
		r, size := uint(sym>>4), uint(sym&0x0f)
		if size == 0 {
			if r != 0x0f {
				break // end of block
			}
			k += 15 // a run of sixteen zeros
			continue
		}
		k += r
		if k >= blockSize {
			break
		}
		n -= size
		x := int32(acc>>n) & (1<<size - 1)
		if x < 1<<(size-1) {
			x += (-1 << size) + 1
		}
		z := unzig[k] & (blockSize - 1)
		b[z] = x * q[z]
		ac = true
	}
	br.acc, br.n = acc, n
	if br.short() {
		return errShortHuffmanData
	}
	d.reconstructBlock(&b, bx, by, ci, ac)
	return nil
}

// refine decodes a successive approximation refinement block, as specified in
// section G.1.2.
func (d *decoder) refine(b *block, h *huffman, zigStart, zigEnd, delta int32) error {
	// Refining a DC component is trivial.
	if zigStart == 0 {
		if zigEnd != 0 {
			panic("unreachable")
		}
		bit, err := d.decodeBit()
		if err != nil {
			return err
		}
		if bit {
			b[0] |= delta
		}
		return nil
	}

	// Refining AC components is more complicated; see sections G.1.2.2 and G.1.2.3.
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			z := int32(0)
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			val0 := value >> 4
			val1 := value & 0x0f

			switch val1 {
			case 0:
				if val0 != 0x0f {
					d.eobRun = uint16(1 << val0)
					if val0 != 0 {
						bits, err := d.decodeBits(int32(val0))
						if err != nil {
							return err
						}
						d.eobRun |= uint16(bits)
					}
					break loop
				}
			case 1:
				z = delta
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if !bit {
					z = -z
				}
			default:
				return FormatError("unexpected Huffman code")
			}

			zig, err = d.refineNonZeroes(b, zig, zigEnd, int32(val0), delta)
			if err != nil {
				return err
			}
			if zig > zigEnd {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				b[unzig[zig]] = z
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		if _, err := d.refineNonZeroes(b, zig, zigEnd, -1, delta); err != nil {
			return err
		}
	}
	return nil
}

// refineNonZeroes refines non-zero entries of b in zig-zag order. If nz >= 0,
// the first nz zero entries are skipped over.
func (d *decoder) refineNonZeroes(b *block, zig, zigEnd, nz, delta int32) (int32, error) {
	for ; zig <= zigEnd; zig++ {
		u := unzig[zig]
		if b[u] == 0 {
			if nz == 0 {
				break
			}
			nz--
			continue
		}
		bit, err := d.decodeBit()
		if err != nil {
			return 0, err
		}
		if !bit {
			continue
		}
		if b[u] >= 0 {
			b[u] += delta
		} else {
			b[u] -= delta
		}
	}
	return zig, nil
}

func (d *decoder) reconstructProgressiveImage() error {
	for i := 0; i < d.nComp; i++ {
		coeffs := d.progCoeffs[i]
		if coeffs == nil {
			// No scan carried this component: libjpeg leaves its
			// coefficients zero, which decodes to mid-grey.
			coeffs = make([]coefBlock, d.mxx*d.myy*d.comp[i].h*d.comp[i].v)
		}
		c := &d.comp[i]
		stride := d.mxx * c.h
		var b block
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				q := &d.quant[c.tq]
				for k, v := range &coeffs[by*stride+bx] {
					b[k] = int32(v) * q[k]
				}
				d.reconstructBlock(&b, bx, by, i, hasAC(&b))
			}
		}
		// The coefficients are no longer needed; let them go before the
		// output image is allocated.
		clear(coeffs)
		d.progCoeffs[i] = nil
	}
	return nil
}

// reconstructBlock performs libjpeg's islow inverse DCT on the dequantized
// b and stores the samples to the component's plane. When ac is false,
// only the DC coefficient may be non-zero.
func (d *decoder) reconstructBlock(b *block, bx, by, compIndex int, ac bool) {
	stride := d.stride[compIndex]
	dst := d.planes[compIndex][8*(by*stride+bx):]
	if !ac {
		// islow with only a DC term gives eight equal rows of its
		// rounded, level-shifted value (both of its zero shortcuts
		// apply), so the block is a flat fill.
		v := rangeLimit[descale(b[0]<<pass1Bits, pass1Bits+3)&1023]
		for r := range 8 {
			row := dst[r*stride : r*stride+8 : r*stride+8]
			for i := range row {
				row[i] = v
			}
		}
		return
	}
	idctIslow(b, dst, stride)
}

// hasAC reports whether any AC coefficient of b is non-zero.
func hasAC(b *block) bool {
	var or int32
	for _, v := range b[1:] {
		or |= v
	}
	return or != 0
}

// findRST advances past the next RST restart marker that matches expectedRST.
// Other than I/O errors, it is also an error if we encounter an {0xFF, M}
// two-byte marker sequence where M is not 0x00, 0xFF or the expectedRST.
//
// This is similar to libjpeg's jdmarker.c's next_marker function.
// https://github.com/libjpeg-turbo/libjpeg-turbo/blob/2dfe6c0fe9e18671105e94f7cbf044d4a1d157e6/jdmarker.c#L892-L935
//
// Precondition: d.tmp[:2] holds the next two bytes of JPEG-encoded input
// (input in the d.readFull sense).
func (d *decoder) findRST(expectedRST uint8) error {
	for {
		// i is the index such that, at the bottom of the loop, we read 2-i
		// bytes into d.tmp[i:2], maintaining the invariant that d.tmp[:2]
		// holds the next two bytes of JPEG-encoded input. It is either 0 or 1,
		// so that each iteration advances by 1 or 2 bytes (or returns).
		i := 0

		if d.tmp[0] == 0xff {
			if d.tmp[1] == expectedRST {
				return nil
			} else if d.tmp[1] == 0xff {
				i = 1
			} else if d.tmp[1] != 0x00 {
				// libjpeg's jdmarker.c's jpeg_resync_to_restart does something
				// fancy here, treating RST markers within two (modulo 8) of
				// expectedRST differently from RST markers that are 'more
				// distant'. Until we see evidence that recovering from such
				// cases is frequent enough to be worth the complexity, we take
				// a simpler approach for now. Any marker that's not 0x00, 0xff
				// or expectedRST is a fatal FormatError.
				return FormatError("bad RST marker")
			}

		} else if d.tmp[1] == 0xff {
			d.tmp[0] = 0xff
			i = 1
		}

		if err := d.readFull(d.tmp[i:2]); err != nil {
			return err
		}
	}
}
