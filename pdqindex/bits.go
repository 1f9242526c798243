package pdqindex

import (
	"encoding/binary"
	"math/bits"
)

// The index works on the hash as 256 bits numbered little-endian: bit i is
// bit i%8 of byte i/8 of pdq.Hash. Any fixed numbering would do, since
// Hamming distance does not depend on it; this one makes a chunk a single
// unaligned load and a shift.

// key is the 32-byte form every entry is kept in, in the buffer and while
// merging: a PDQ hash, or an exact hash zero-padded to 32 bytes.
type key = [32]byte

// words returns h as four little-endian uint64, ready for XOR and popcount.
func words(h *key) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(h[0:]),
		binary.LittleEndian.Uint64(h[8:]),
		binary.LittleEndian.Uint64(h[16:]),
		binary.LittleEndian.Uint64(h[24:]),
	}
}

// distance is the Hamming distance between h and the query words q.
func distance(h *key, q *[4]uint64) int {
	return bits.OnesCount64(binary.LittleEndian.Uint64(h[0:])^q[0]) +
		bits.OnesCount64(binary.LittleEndian.Uint64(h[8:])^q[1]) +
		bits.OnesCount64(binary.LittleEndian.Uint64(h[16:])^q[2]) +
		bits.OnesCount64(binary.LittleEndian.Uint64(h[24:])^q[3])
}

// chunkAt returns width bits (at most 57) of h starting at bit start; the
// chunk never runs past bit 255.
func chunkAt(h *key, start, width uint) uint64 {
	base := start / 8
	if base > 24 {
		base = 24
	}
	v := binary.LittleEndian.Uint64(h[base:])
	return v >> (start - 8*base) & (1<<width - 1)
}

// packed is an array of n unsigned values of a fixed bit width (at most
// 57), packed end to end: the postings of a table, position<<lo | low bits.
// Two spare words at the end let a read take two words, and a query touch
// the word after a bucket's end, without a check.
type packed struct {
	words []uint64
	width uint
	mask  uint64
}

func newPacked(n int, width uint, mem *bigMem) packed {
	return packed{
		words: makeBig[uint64](mem, int((uint(n)*width+63)/64+2)),
		width: width,
		mask:  1<<width - 1,
	}
}

func (p *packed) get(i uint32) uint64 {
	off := uint(i) * p.width
	w, s := off/64, off%64
	// (x<<1)<<(63-s) is x<<(64-s), and 0 when s is 0.
	return (p.words[w]>>s | p.words[w+1]<<1<<(63-s)) & p.mask
}

// set ORs v into slot i, which must still be zero.
func (p *packed) set(i uint32, v uint64) {
	off := uint(i) * p.width
	w, s := off/64, off%64
	p.words[w] |= v << s
	if s+p.width > 64 {
		p.words[w+1] |= v >> (64 - s)
	}
}

// fill sets slot i to vs[i] (masked to the width) for every i, writing
// each word once: what set does, in order, without reading back.
func (p *packed) fill(vs []uint64) {
	var acc uint64 // bits not yet written, from bit 0
	var n uint     // how many
	w := 0
	for _, v := range vs {
		v &= p.mask
		acc |= v << n
		n += p.width
		if n >= 64 {
			p.words[w] = acc
			w++
			n -= 64
			acc = v >> (p.width - n) // the bits of v that did not fit (none when n is 0)
		}
	}
	if n > 0 {
		p.words[w] = acc
	}
}

func (p *packed) bytes() int { return 8 * len(p.words) }

// dirSpan is how many buckets share one 64-byte directory block.
const dirSpan = 96

// wideFlag marks a block with a bucket of more than 15 entries (or more
// than 65535 in all); its offsets live in directory.wide instead.
const wideFlag = 1 << 31

// dirBlock covers dirSpan consecutive buckets in one cache line: base is
// the offset of the block's first entry, gcum[g] the entries in the
// block's groups of 16 buckets before group g, and nib[g] the 16 bucket
// counts of group g, four bits each. A lookup is one cache miss and a
// few instructions, at 0.67 bytes per bucket (a plain offset array takes
// 4), which keeps the directories of a 10M index mostly in cache.
type dirBlock struct {
	base uint32
	gcum [dirSpan / 16]uint16
	nib  [dirSpan / 16]uint64
}

// directory maps a bucket (the high bits of a chunk) to its range of
// entries in a table sorted by bucket.
type directory struct {
	blocks []dirBlock
	// wide holds dirSpan+1 absolute offsets per crowded block.
	wide []uint32
}

// newDirectory builds the directory from per-bucket counts.
func newDirectory(counts []uint32, mem *bigMem) directory {
	nb := (len(counts) + dirSpan - 1) / dirSpan
	d := directory{blocks: makeBig[dirBlock](mem, nb)}
	var off uint32
	for b := range d.blocks {
		cs := counts[b*dirSpan : min((b+1)*dirSpan, len(counts))]
		var total uint32
		narrow := true
		for _, c := range cs {
			total += c
			narrow = narrow && c <= 15
		}
		blk := &d.blocks[b]
		if narrow && total <= 0xffff {
			blk.base = off
			var cum uint32
			for j, c := range cs {
				if j%16 == 0 {
					blk.gcum[j/16] = uint16(cum)
				}
				blk.nib[j/16] |= uint64(c) << (4 * (j % 16))
				cum += c
			}
			for g := (len(cs) + 15) / 16; g < len(blk.gcum); g++ {
				blk.gcum[g] = uint16(cum) // groups past the end are empty
			}
		} else {
			blk.base = wideFlag | uint32(len(d.wide)/(dirSpan+1))
			o := off
			for j := range dirSpan {
				d.wide = append(d.wide, o)
				if j < len(cs) {
					o += cs[j]
				}
			}
			d.wide = append(d.wide, o)
		}
		off += total
	}
	return d
}

// bucket returns the range [start, end) of bucket k's entries.
func (d *directory) bucket(k uint64) (start, end uint32) {
	blk := &d.blocks[k/dirSpan]
	j := uint(k % dirSpan)
	if blk.base&wideFlag != 0 {
		w := d.wide[uint(blk.base&^wideFlag)*(dirSpan+1):][: dirSpan+1 : dirSpan+1]
		return w[j], w[j+1]
	}
	x := blk.nib[j/16]
	i := 4 * (j % 16)
	start = blk.base + uint32(blk.gcum[j/16]) + uint32(sumNibbles(x&(1<<i-1)))
	return start, start + uint32(x>>i&15)
}

// sumNibbles adds the 16 four-bit fields of x.
func sumNibbles(x uint64) uint64 {
	const m = 0x0f0f0f0f0f0f0f0f
	y := x&m + x>>4&m // eight byte sums, each at most 30
	return y * 0x0101010101010101 >> 56
}

func (d *directory) bytes() int { return 64*len(d.blocks) + 4*len(d.wide) }

// binom is C(n, k) as a float, for the cost model.
func binom(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	r := 1.0
	for i := range k {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}
