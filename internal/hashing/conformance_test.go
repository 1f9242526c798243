package hashing

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"alliance/pdq"
)

// End-to-end conformance: every image of the shared PDQ test data, hashed
// from its file (sniffing, decoding, hashing), against the reference
// outputs in pdq/expected/ (both made from ImageMagick 6 + libjpeg-turbo
// 2.1.5 decoding):
//
//   - cpp-cli: cpp-cli-pdq-photo-hasher.csv (the C++ pdq-photo-hasher) and
//     cpp-cli-pdqdih-across.csv (its eight dihedral hashes);
//   - hma: cpp-core-fullres-no-resize.csv (the C++ core at full
//     resolution, which is what pytx, HMA and the Java port compute).
//
// The bound is 2 bits for every image whose expected quality is 50 or
// more (52 of the 55 images; the other 3 are held to their documented
// distance too). Results when this was written, 55 images per profile:
//
//	cpp-cli: all 55 at 0 bits, and all 8×55 dihedral hashes at 0 bits;
//	hma:     all 55 at 0 bits, I16.png checked against pytx's own
//	         expectation (below).
//
// The JPEGs (42, progressive and CMYK ones included) decode pixel-exactly
// as libjpeg-turbo (internal/jpegdec); lossy WebP is converted as libwebp
// converts it (webpToNRGBA; with image/color's conversion PA.webp was 2
// bits off in cpp-cli); PNG, GIF, BMP and TIFF decoding is exact anyway.
// In -short mode the four 12-megapixel photographs (over 1 MB each) are
// skipped.
//
// knownDistance lists every image not at 0 bits, with its distance; the
// test fails if one gets worse (or an unlisted one moves) and logs
// improvements. It is empty: every image matches exactly.
var knownDistance = map[string]int{}

// i16PyTX is pytx's own expectation for I16.png (a 16-bit grey PNG), from
// test_pdq_hasher.py (listed in expected/upstream-expected-hashes.csv).
// The hma profile follows pytx/HMA, whose PIL decoding clamps 16-bit grey
// samples to 255 (pdq.Sample16Clamp255), so it must match this exactly.
// cpp-core-fullres-no-resize.csv instead hashed ImageMagick's rescaling of
// the samples to 8 bits (v/257), 118 bits away: it is not what HMA
// computes, so that row is checked against pytx's value.
const (
	i16Path    = "python-threatexchange/threatexchange/tests/hashing/resources/I16.png"
	i16PyTX    = "de2ef0e99ecdfc1d248a0eb055f023d1d61e79c3920cbb55d561c02accab1763"
	i16PyTXQ   = 36
	minQuality = 50
	maxBits    = 2
)

type expectation struct {
	hash     pdq.Hash
	quality  int
	dihedral []pdq.Hash // cpp-cli only
}

func readExpected(t *testing.T, root, name string) map[string]*expectation {
	t.Helper()
	out := map[string]*expectation{}
	for _, rec := range readCSV(t, filepath.Join(root, "expected", name)) {
		if len(rec) != 3 {
			t.Fatalf("%s: unexpected record %v", name, rec)
		}
		h, err := pdq.ParseHash(rec[0])
		if err != nil {
			t.Fatal(err)
		}
		q, err := strconv.Atoi(rec[1])
		if err != nil {
			t.Fatal(err)
		}
		out[rec[2]] = &expectation{hash: h, quality: q}
	}
	return out
}

func TestConformanceFiles(t *testing.T) {
	root := filepath.Join(testdataDir(t), "pdq")
	cli := readExpected(t, root, "cpp-cli-pdq-photo-hasher.csv")
	for _, rec := range readCSV(t, filepath.Join(root, "expected", "cpp-cli-pdqdih-across.csv")) {
		e := cli[rec[9]]
		if len(rec) != 10 || e == nil {
			t.Fatalf("unexpected dihedral record %v", rec)
		}
		for _, s := range rec[:8] {
			h, err := pdq.ParseHash(s)
			if err != nil {
				t.Fatal(err)
			}
			e.dihedral = append(e.dihedral, h)
		}
	}
	profiles := []struct {
		p    pdq.Profile
		want map[string]*expectation
	}{
		{pdq.ProfileCPPCLI, cli},
		{pdq.ProfileHMA, readExpected(t, root, "cpp-core-fullres-no-resize.csv")},
	}
	i16, err := pdq.ParseHash(i16PyTX)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	tally := map[string][]string{} // "profile: N bits" → images
	for _, pc := range profiles {
		paths := slices.Sorted(func(yield func(string) bool) {
			for p := range pc.want {
				if !yield(p) {
					return
				}
			}
		})
		t.Run(string(pc.p), func(t *testing.T) {
			for _, path := range paths {
				want := pc.want[path]
				t.Run(path, func(t *testing.T) {
					if fi, err := os.Stat(filepath.Join(root, path)); err == nil && fi.Size() > 1<<20 && testing.Short() {
						t.Skip("over 1 MB; skipped in -short mode")
					}
					t.Parallel()
					// cpp-cli also checks the dihedral hashes from the same decode.
					res, err := HashFile(filepath.Join(root, path), Options{Profile: pc.p, Dihedral: pc.p == pdq.ProfileCPPCLI})
					if err != nil {
						t.Fatal(err)
					}
					if res.PDQ == nil || res.Profile != pc.p {
						t.Fatalf("no PDQ hash (format %q, profile %q)", res.Format, res.Profile)
					}
					wantHash, wantQ := want.hash, want.quality
					if pc.p == pdq.ProfileHMA && path == i16Path {
						wantHash, wantQ = i16, i16PyTXQ
					}
					d := res.PDQ.Distance(wantHash)
					key := string(pc.p) + " " + path
					known := knownDistance[key]
					switch {
					case wantQ >= minQuality && d > maxBits:
						t.Errorf("%s: distance %d > %d bits (got %s q=%d, want %s q=%d)", res.Format, d, maxBits, res.PDQ, res.PDQQuality, wantHash, wantQ)
					case d > known:
						t.Errorf("%s: distance %d, documented %d: update knownDistance if this is expected", res.Format, d, known)
					case d < known:
						t.Logf("%s: distance %d, better than the documented %d", res.Format, d, known)
					}
					if d == 0 && res.PDQQuality != wantQ {
						t.Errorf("quality %d, want %d", res.PDQQuality, wantQ)
					}
					for i, wd := range want.dihedral {
						if dd := res.Dihedral[i].Distance(wd); dd > max(known, 0) || (want.quality >= minQuality && dd > maxBits) {
							t.Errorf("dihedral %v: distance %d (documented %d)", pdq.Transform(i), dd, known)
						}
					}
					mu.Lock()
					k := fmt.Sprintf("%s: %d bits", pc.p, d)
					tally[k] = append(tally[k], filepath.Base(path))
					mu.Unlock()
				})
			}
		})
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range tally {
			if !yield(k) {
				return
			}
		}
	}) {
		v := tally[k]
		if len(v) > 6 {
			t.Logf("%s: %d images", k, len(v))
		} else {
			t.Logf("%s: %d images (%s)", k, len(v), strings.Join(v, ", "))
		}
	}
}
