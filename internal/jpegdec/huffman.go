// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE.golang file.
//
// Forked from Go 1.26's image/jpeg/huffman.go for Alliance: the bit
// reader is replaced by a 64-bit accumulator over the input in memory, and
// the look-up table has 9 bits; see doc.go.

package jpegdec

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// lutSize is the log-2 size of the Huffman decoder's look-up table; nine
// bits, as libjpeg-turbo's HUFF_LOOKAHEAD is eight, cover nearly every
// code in practice.
const lutSize = 9

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// lut is the look-up table for the next lutSize bits in the bit-stream.
	// The high 8 bits of the uint16 are the encoded value. The low 8 bits
	// are the code length, or 0 if the code is longer than lutSize bits.
	lut [1 << lutSize]uint16
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i+1, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i+1, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
}

// errShortHuffmanData means that the entropy-coded data ended (at a marker
// or the end of the input) before the scan was decoded.
var errShortHuffmanData = FormatError("short Huffman data")

// bitReader feeds the entropy decoder from d.data, libjpeg-turbo style: a
// 64-bit accumulator refilled several bytes at a time, with byte stuffing
// (0xff 0x00 → 0xff) undone on the way in. At a marker or the end of the
// data it feeds zero bits, as libjpeg does, and counts them in pad: bits
// the decoder may look ahead at but must not consume, or the data was
// short (checked with short after each block).
type bitReader struct {
	acc    uint64 // the n least significant bits are unread, MSB first
	n      uint
	pad    uint // how many of the n bits are zero fill, not data
	pos    int  // next byte of d.data to load
	marker bool // a marker (or the end of the data) was reached
}

// startBits starts entropy decoding at d.pos.
func (d *decoder) startBits() {
	d.bits = bitReader{pos: d.pos}
}

// endBits ends entropy decoding (at the end of a scan or before a restart
// marker) and moves d.pos past the bytes it loaded: bits left in the
// accumulator are the segment's final padding.
func (d *decoder) endBits() error {
	if d.bits.short() {
		return errShortHuffmanData
	}
	d.pos = d.bits.pos
	return nil
}

// short reports whether more bits were consumed than the data held.
func (b *bitReader) short() bool { return b.n < b.pad }

// fill loads bytes until the accumulator holds more than 56 bits.
func (d *decoder) fill() {
	b := &d.bits
	data := d.data
	for b.n <= 56 {
		if !b.marker && b.pos+8 <= len(data) {
			// Fast path: eight bytes none of which is 0xff.
			x := uint64(data[b.pos])<<56 | uint64(data[b.pos+1])<<48 | uint64(data[b.pos+2])<<40 |
				uint64(data[b.pos+3])<<32 | uint64(data[b.pos+4])<<24 | uint64(data[b.pos+5])<<16 |
				uint64(data[b.pos+6])<<8 | uint64(data[b.pos+7])
			if v := ^x; (v-0x0101010101010101)&^v&0x8080808080808080 == 0 {
				k := (64 - b.n) / 8 // whole bytes that fit, 1 to 8
				b.acc = b.acc<<(8*k) | x>>(64-8*k)
				b.n += 8 * k
				b.pos += int(k)
				continue
			}
		}
		if !b.marker && b.pos < len(data) {
			c := data[b.pos]
			if c != 0xff {
				b.acc = b.acc<<8 | uint64(c)
				b.n += 8
				b.pos++
				continue
			}
			// 0xff, any fill 0xffs, then 0x00 is a stuffed 0xff data
			// byte (jdhuff.c's jpeg_fill_bit_buffer); anything else is a
			// marker, left in place for the caller.
			j := b.pos + 1
			for j < len(data) && data[j] == 0xff {
				j++
			}
			if j < len(data) && data[j] == 0 {
				b.acc = b.acc<<8 | 0xff
				b.n += 8
				b.pos = j + 1
				continue
			}
			b.marker = true
		}
		b.marker = true
		b.acc <<= 8
		b.n += 8
		b.pad += 8
	}
}

// peek returns the next k bits without consuming them; b.n >= k.
func (b *bitReader) peek(k uint) uint32 {
	return uint32(b.acc>>(b.n-k)) & (1<<k - 1)
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	if t == 0 {
		return 0, nil
	}
	if d.bits.n < uint(t) {
		d.fill()
	}
	x := int32(d.bits.peek(uint(t)))
	d.bits.n -= uint(t)
	if x < 1<<(t-1) {
		x += (-1 << t) + 1
	}
	return x, nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// Derive the look-up table: every lutSize-bit sequence that starts
		// with a code of length 1+i <= lutSize maps to its value and
		// length. A table whose codes overflow their length (invalid) gets
		// entries past the end ignored.
		clear(h.lut[:])
		var x, code uint32
		for i := uint32(0); i < lutSize; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				base := code << (lutSize - 1 - i)
				lutValue := uint16(h.vals[x])<<8 | uint16(1+i)
				for k := uint32(0); k < 1<<(lutSize-1-i); k++ {
					if base|k < 1<<lutSize {
						h.lut[base|k] = lutValue
					}
				}
				code++
				x++
			}
		}

		// Derive minCodes, maxCodes, and valsIndices.
		var c, index int32
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
			}
			c <<= 1
		}
	}
	return nil
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}
	if d.bits.n < maxCodeLength {
		d.fill()
	}
	if v := h.lut[d.bits.peek(lutSize)]; v != 0 {
		d.bits.n -= uint(v & 0xff)
		return uint8(v >> 8), nil
	}
	return d.decodeHuffmanSlow(h)
}

// decodeHuffmanSlow decodes a code longer than lutSize bits, as libjpeg's
// jpeg_huff_decode; d.bits holds at least maxCodeLength bits.
func (d *decoder) decodeHuffmanSlow(h *huffman) (uint8, error) {
	for i := lutSize; i < maxCodeLength; i++ {
		code := int32(d.bits.peek(uint(i + 1)))
		if code <= h.maxCodes[i] {
			d.bits.n -= uint(i + 1)
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
	}
	return 0, FormatError("bad Huffman code")
}

func (d *decoder) decodeBit() (bool, error) {
	if d.bits.n == 0 {
		d.fill()
	}
	d.bits.n--
	return d.bits.acc>>d.bits.n&1 != 0, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.bits.n < uint(n) {
		d.fill()
	}
	ret := d.bits.peek(uint(n))
	d.bits.n -= uint(n)
	return ret, nil
}
