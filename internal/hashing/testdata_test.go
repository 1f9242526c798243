package hashing

import (
	"encoding/csv"
	"os"
	"testing"

	"alliance/internal/testutil/conformance"
)

// testdataDir finds the shared conformance data (see package conformance).
func testdataDir(t testing.TB) string { return conformance.Dir(t) }

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
