package pdq

import (
	"fmt"
	"math/bits"
)

// HashBits is the number of bits in a PDQ hash.
const HashBits = 256

// HashHexLen is the length of a hash in its hex form.
const HashHexLen = 64

// Hash is a 256-bit PDQ hash, stored as the 32 bytes its reference hex form
// spells out, most significant first.
//
// The reference keeps 16 uint16 words and prints word 15 first, each as
// four hex digits; bit k of the hash is bit k%16 of word k/16. With that
// layout bit k lands in byte 31-k/8 at bit k%8 here, so the hex form is
// plain hex of the bytes and no reordering is needed on input or output.
type Hash [32]byte

// String returns the hash as 64 lowercase hex digits, the reference format.
func (h Hash) String() string {
	const digits = "0123456789abcdef"
	var buf [HashHexLen]byte
	for i, b := range h {
		buf[2*i] = digits[b>>4]
		buf[2*i+1] = digits[b&0x0f]
	}
	return string(buf[:])
}

// ParseHash reads a hash in the reference hex format: exactly 64 hex
// digits, either case.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != HashHexLen {
		return h, fmt.Errorf("pdq: parse hash: want %d hex digits, got %d characters", HashHexLen, len(s))
	}
	for i := 0; i < HashHexLen; i += 2 {
		hi, ok1 := fromHexDigit(s[i])
		lo, ok2 := fromHexDigit(s[i+1])
		if !ok1 || !ok2 {
			at := i
			if ok1 {
				at = i + 1
			}
			return Hash{}, fmt.Errorf("pdq: parse hash: invalid hex character %q at position %d", s[at], at)
		}
		h[i/2] = hi<<4 | lo
	}
	return h, nil
}

func fromHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// MarshalText implements encoding.TextMarshaler with the reference hex form.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(h.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; see ParseHash.
func (h *Hash) UnmarshalText(text []byte) error {
	v, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Distance returns the Hamming distance between h and o (0–256).
func (h Hash) Distance(o Hash) int {
	n := 0
	for i := range h {
		n += bits.OnesCount8(h[i] ^ o[i])
	}
	return n
}

// Distance returns the Hamming distance between two hashes (0–256).
func Distance(a, b Hash) int { return a.Distance(b) }

// Bit reports bit k (0–255) in the reference's numbering, where bit
// i*16+j is set when DCT coefficient (i, j) is above the median.
func (h Hash) Bit(k int) bool {
	k &= 255
	return h[31-k/8]>>(k%8)&1 == 1
}

func (h *Hash) setBit(k int) {
	h[31-k/8] |= 1 << (k % 8)
}

// Words returns the hash as the reference's 16 words: word w holds bits
// 16w..16w+15, and word 15 is printed first in the hex form.
func (h Hash) Words() [16]uint16 {
	var w [16]uint16
	for i := range w {
		w[i] = uint16(h[31-2*i]) | uint16(h[30-2*i])<<8
	}
	return w
}

// HashFromWords builds a hash from the reference's 16-word layout; it is
// the inverse of Words.
func HashFromWords(w [16]uint16) Hash {
	var h Hash
	for i, v := range w {
		h[31-2*i] = byte(v)
		h[30-2*i] = byte(v >> 8)
	}
	return h
}

// IsZero reports whether every bit is clear, as for images the reference
// refuses to hash (a side under 5 pixels).
func (h Hash) IsZero() bool { return h == Hash{} }
