package pdq

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestConformanceDecodedPNM checks every decoded-pixel vector against the
// reference C++ core, in both profiles, for distance 0 and equal quality.
func TestConformanceDecodedPNM(t *testing.T) {
	dir := filepath.Join(testdataDir(t), "pdq", "decoded-pnm")
	recs := readCSV(t, filepath.Join(dir, "expected.csv"))
	if len(recs) < 2 || recs[0][0] != "pnm_file" {
		t.Fatalf("unexpected expected.csv header %v", recs[0])
	}
	matched := map[Profile]int{}
	for _, rec := range recs[1:] {
		name := rec[0]
		img := loadPNM(t, filepath.Join(dir, name))
		for _, pc := range []struct {
			p       Profile
			hash, q string
		}{
			{ProfileHMA, rec[1], rec[2]},
			{ProfileCPPCLI, rec[3], rec[4]},
		} {
			t.Run(string(pc.p)+"/"+name, func(t *testing.T) {
				want := mustParse(t, pc.hash)
				wantQ, err := strconv.Atoi(pc.q)
				if err != nil {
					t.Fatal(err)
				}
				got, err := HashImage(img, Options{Profile: pc.p})
				if err != nil {
					t.Fatal(err)
				}
				if d := got.Hash.Distance(want); d != 0 || got.Quality != wantQ {
					t.Fatalf("got %s q=%d, want %s q=%d (distance %d)", got.Hash, got.Quality, want, wantQ, d)
				}
				// The luma-buffer entry point must agree with the image one.
				luma, w, h, err := ImageLuma(img, Options{Profile: pc.p})
				if err != nil {
					t.Fatal(err)
				}
				viaLuma, err := HashLuma(luma, w, h, pc.p)
				if err != nil {
					t.Fatal(err)
				}
				if viaLuma != got {
					t.Fatalf("HashLuma %v != HashImage %v", viaLuma, got)
				}
				matched[pc.p]++
			})
		}
	}
	t.Logf("vectors matched: hma %d/%d, cpp-cli %d/%d",
		matched[ProfileHMA], len(recs)-1, matched[ProfileCPPCLI], len(recs)-1)
}

// pnmForPath maps an upstream image path to its decoded-pnm file name.
func pnmForPath(path string) string {
	if strings.HasSuffix(path, "/I16.png") {
		// The CLI hashes the low byte of each 16-bit sample.
		return "I16.png.lowbyte-as-cpp-cli.pgm"
	}
	return strings.ReplaceAll(path, "/", "_") + ".pnm"
}

// TestConformanceDihedral checks the eight dihedral hashes against the C++
// CLI's --pdqdih-across output for every image with decoded pixels.
func TestConformanceDihedral(t *testing.T) {
	root := filepath.Join(testdataDir(t), "pdq")
	recs := readCSV(t, filepath.Join(root, "expected", "cpp-cli-pdqdih-across.csv"))
	n := 0
	for _, rec := range recs {
		if len(rec) != 10 {
			t.Fatalf("unexpected record %v", rec)
		}
		pnm := filepath.Join(root, "decoded-pnm", pnmForPath(rec[9]))
		if !fileExists(pnm) {
			continue
		}
		n++
		t.Run(rec[9], func(t *testing.T) {
			img := loadPNM(t, pnm)
			got, err := DihedralImage(img, Options{Profile: ProfileCPPCLI})
			if err != nil {
				t.Fatal(err)
			}
			wantQ, _ := strconv.Atoi(rec[8])
			if got.Quality != wantQ {
				t.Errorf("quality %d, want %d", got.Quality, wantQ)
			}
			for tr := Original; tr <= FlipMinus1; tr++ {
				want := mustParse(t, rec[tr])
				if d := got.Hashes[tr].Distance(want); d != 0 {
					t.Errorf("%v: got %s, want %s (distance %d)", tr, got.Hashes[tr], want, d)
				}
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d dihedral vectors have decoded pixels", n)
	}
	t.Logf("dihedral vectors matched: %d (x8 hashes)", n)
}

// TestConformanceCLIHashes checks the C++ CLI's plain output for every
// image with decoded pixels.
func TestConformanceCLIHashes(t *testing.T) {
	root := filepath.Join(testdataDir(t), "pdq")
	recs := readCSV(t, filepath.Join(root, "expected", "cpp-cli-pdq-photo-hasher.csv"))
	n := 0
	for _, rec := range recs {
		pnm := filepath.Join(root, "decoded-pnm", pnmForPath(rec[2]))
		if !fileExists(pnm) {
			continue
		}
		n++
		t.Run(rec[2], func(t *testing.T) {
			got, err := HashImage(loadPNM(t, pnm), Options{Profile: ProfileCPPCLI})
			if err != nil {
				t.Fatal(err)
			}
			if got.Hash.String() != rec[0] || strconv.Itoa(got.Quality) != rec[1] {
				t.Fatalf("got %s,%d want %s,%s", got.Hash, got.Quality, rec[0], rec[1])
			}
		})
	}
	if n == 0 {
		t.Fatal("no CLI vectors with decoded pixels")
	}
}

// TestConformanceDistance checks Distance against the reference CLI's
// --details output: norm is the number of set bits, delta the distance to
// the previous line's hash.
func TestConformanceDistance(t *testing.T) {
	path := filepath.Join(testdataDir(t), "pdq", "expected", "cpp-cli-details.txt")
	recs := readCSV(t, path)
	var prev Hash
	for i, rec := range recs {
		f := map[string]string{}
		for _, kv := range rec {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		h := mustParse(t, f["hash"])
		norm, _ := strconv.Atoi(f["norm"])
		delta, _ := strconv.Atoi(f["delta"])
		if got := h.Distance(Hash{}); got != norm {
			t.Errorf("line %d: norm %d, want %d", i+1, got, norm)
		}
		if i > 0 && h.Distance(prev) != delta {
			t.Errorf("line %d: delta %d, want %d", i+1, h.Distance(prev), delta)
		}
		prev = h
	}
	if len(recs) < 10 {
		t.Fatalf("only %d lines in %s", len(recs), path)
	}
}
