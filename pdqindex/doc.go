// Package pdqindex finds known hashes: every PDQ hash within a Hamming
// distance of a query (Index), and exact MD5, SHA-1 and SHA-256 hashes
// (HashSet). It is a pure library: the standard library and alliance/pdq.
//
// # Exact radius search
//
// Index answers a query at threshold t (0..31) with every entry within t
// bits and its distance, and nothing further away: recall is exact, not
// approximate. It uses multi-index hashing (Norouzi, Punjani and Fleet,
// "Fast Search in Hamming Space with Multi-Index Hashing", CVPR 2012): the
// 256 bits are cut into m chunks and each chunk is indexed. If an entry
// is within t of the query and every chunk k were more than r_k bits
// away, the whole hash would be at least Σ(r_k+1) bits away; so with
// radii summing (plus one each) to t+1, some chunk of every match is
// within its radius, and searching each chunk's table for the values
// within its radius finds every match. Candidates are then checked on
// all 256 bits (four XOR-popcounts).
//
// The chunking is chosen per segment by a cost model fitted on the
// machine it was written on: for 10M entries, 11 chunks of 20–24 bits
// searched at radius 2 (one at 1); for 1M, 13 chunks; for 100M, 10. The
// radii per threshold are allocated greedily to the chunks where a unit
// of radius is cheapest, so a query at t=0 probes one bucket, and at
// t=31 the full pigeonhole set.
//
// A table is a counting-sorted array: a directory over the chunk's high
// bits (one 64-byte line per 96 buckets: a base offset, group sums and a
// 4-bit count per bucket) and postings, bit-packed, of the entry's
// position and the chunk's few low bits, so a bucket scan filters on the
// whole chunk before touching a hash. Table 0 has no postings: the
// hashes themselves are stored in its bucket order. Each match is
// reported by the first table that finds it (a later table skips it if an
// earlier chunk was within its radius), which dedupes without a per-query
// "seen" array.
//
// A query is bound by cache misses (at 10M some 2,600 bucket probes, each
// a directory line and a postings line, and 2,700 candidate hashes, all at
// random in hundreds of megabytes), so it is organised to overlap them:
// the tables go through a four-stage pipeline (enumerate a table's
// buckets and touch their directory lines; look them up and touch their
// postings; scan and touch the candidates' hashes; check), each stage a
// bare loop of independent loads whose results are used a step later,
// after the other tables' stages. And a large segment's arrays live in
// anonymous mappings outside the Go heap, advised to use transparent huge
// pages (madvise, no privilege needed; plain pages where the system's
// THP mode is "never"): with 4 KiB pages nearly every
// random load also misses the TLB, which in a virtual machine costs
// several more misses. The mappings are unmapped by a cleanup once the
// segment is unreachable, so memory held by a merged-away segment returns
// after the next garbage collection; the Go runtime's memory limit does
// not see it.
//
// Memory is the hashes (32 bytes an entry), the ids (4 bytes, or 8 when
// one exceeds 2³²) and about 3.4 bytes per entry per table: some 71
// bytes an entry at 10M. Building radix-sorts the tables on all cores:
// 2.5–5 s for 10M on the two busy cores this was measured on.
//
// # Updates and concurrency
//
// An index is a list of immutable segments plus a small write buffer
// (scanned flat) and tombstones, held in a snapshot that readers load
// with one atomic read (copy-on-write with atomic.Pointer): queries never
// lock and never wait. Writers are serialised by a mutex and publish a new
// snapshot per change. Add appends to the buffer, which is sealed into a
// segment when it fills; segments of similar size are merged in the
// background (size-tiered, four at a time), and everything when
// tombstones pile up. Remove records a tombstone stamped with the
// operation's sequence number, which hides older entries with that id at
// once, and is applied for good by the next merge; an id added again
// later is not hidden. Compact merges everything now.
//
// # Exact hashes
//
// HashSet keeps hashes of one width sorted end to end with their ids (20
// to 40 bytes an entry, no per-entry pointers), found by interpolation
// search interleaved with bisection: on cryptographic hashes, which are
// uniform, one or two cache misses. Updates work as for Index.
package pdqindex
