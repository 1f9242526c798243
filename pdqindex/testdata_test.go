package pdqindex

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"alliance/pdq"
)

// refDir finds the reference's regression inputs in the shared
// conformance data: $ALLIANCE_TESTDATA, or ../shared/testdata next to the
// module root. It skips the test when they are absent; they are never
// copied into the repository.
func refDir(t *testing.T) string {
	t.Helper()
	const sub = "pdq/pdq/data/reg-test-input"
	root := os.Getenv("ALLIANCE_TESTDATA")
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for dir := wd; root == ""; {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				root = filepath.Join(dir, "..", "shared", "testdata")
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				t.Skip("no go.mod above the test directory; set ALLIANCE_TESTDATA to the shared testdata folder")
			}
			dir = parent
		}
	}
	d := filepath.Join(root, sub)
	if _, err := os.Stat(filepath.Join(d, "haystack.txt")); err != nil {
		t.Skipf("reference haystack not found at %s; set ALLIANCE_TESTDATA to the shared testdata folder", d)
	}
	return d
}

func readHashes(t *testing.T, path string) []pdq.Hash {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pdq.Hash
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		h, err := pdq.ParseHash(strings.Fields(s)[0])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The reference's matcher test data: real PDQ hashes of near-identical
// photographs (the needles are variants of haystack entries). The index
// must answer exactly as brute force, at every threshold, whether built
// in bulk or added one by one.
func TestReferenceHaystack(t *testing.T) {
	d := refDir(t)
	hay := readHashes(t, filepath.Join(d, "haystack.txt"))
	needles := readHashes(t, filepath.Join(d, "needles.txt"))
	if len(hay) < 1000 || len(needles) < 50 {
		t.Fatalf("read %d haystack and %d needle hashes, want the reference's 1350 and 100", len(hay), len(needles))
	}
	es := entriesOf(hay, 1)
	m := &model{es}
	queries := append(needles, hay[:100]...)

	t.Run("bulk", func(t *testing.T) { check(t, Build(es), m, queries) })
	t.Run("forced 11 chunks", func(t *testing.T) {
		withChunks(t, 11) // the layout of 10M indexes, on real, correlated bits
		check(t, Build(es), m, queries)
	})
	t.Run("added", func(t *testing.T) {
		x := New()
		x.l.bufMax = 200
		for _, e := range es {
			x.Add(e.ID, e.Hash)
		}
		x.Wait()
		check(t, x, m, queries)
	})
}
