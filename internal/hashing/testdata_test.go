package hashing

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// testdataDir finds the shared conformance data: $ALLIANCE_TESTDATA, or
// ../shared/testdata next to the module root. It skips the test when the
// folder is absent; the data is never copied into the repository.
func testdataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ALLIANCE_TESTDATA"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "pdq")); err != nil {
			t.Fatalf("ALLIANCE_TESTDATA=%s has no pdq folder: %v", d, err)
		}
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "testdata")
			if _, err := os.Stat(filepath.Join(d, "pdq")); err != nil {
				t.Skipf("conformance data not found at %s; set ALLIANCE_TESTDATA to the shared testdata folder", d)
			}
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory; set ALLIANCE_TESTDATA to the shared testdata folder")
		}
		dir = parent
	}
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}
