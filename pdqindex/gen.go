package pdqindex

import (
	"math/rand/v2"

	"alliance/pdq"
)

// Generated data for tests and benchmarks: uniformly random hashes, plus
// clusters of near-duplicates around random centres, which is what bank
// data looks like to an index (many unrelated items, some series of
// near-identical ones).

func randomHash(r *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for i := 0; i < len(h); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			h[i+j] = byte(v >> (8 * j))
		}
	}
	return h
}

// nearby returns h with d distinct bits flipped, chosen at random.
func nearby(r *rand.Rand, h pdq.Hash, d int) pdq.Hash {
	var flipped [4]uint64
	for n := 0; n < d; {
		b := r.IntN(256)
		if flipped[b/64]&(1<<(b%64)) != 0 {
			continue
		}
		flipped[b/64] |= 1 << (b % 64)
		h[b/8] ^= 1 << (b % 8)
		n++
	}
	return h
}

// clustered returns n hashes: a fraction dup of them in clusters of up to
// maxCluster near-duplicates at distances 0..spread from a random centre,
// the rest random.
func clustered(r *rand.Rand, n int, dup float64, maxCluster, spread int) []pdq.Hash {
	out := make([]pdq.Hash, 0, n)
	planted := int(float64(n) * dup)
	for len(out) < planted {
		c := randomHash(r)
		for range min(1+r.IntN(maxCluster), planted-len(out)) {
			out = append(out, nearby(r, c, r.IntN(spread+1)))
		}
	}
	for len(out) < n {
		out = append(out, randomHash(r))
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// queriesFor returns q queries against data: a third 0..40 bits from an
// entry, a third 8..31 bits from one, a third random.
func queriesFor(r *rand.Rand, data []pdq.Hash, q int) []pdq.Hash {
	out := make([]pdq.Hash, q)
	for i := range out {
		switch {
		case len(data) == 0 || i%3 == 2:
			out[i] = randomHash(r)
		case i%3 == 0:
			out[i] = nearby(r, data[r.IntN(len(data))], r.IntN(41))
		default:
			out[i] = nearby(r, data[r.IntN(len(data))], 8+r.IntN(24))
		}
	}
	return out
}
