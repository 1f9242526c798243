// Package conformance locates the shared conformance data (benign reference
// images and expected hashes) for tests. It uses only the standard library,
// so decoder and hashing tests can use it without pulling in the databases
// that package testutil brings. The pure libraries pdq and pdqindex keep a
// locator of their own so that they stay free of project imports.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// Env names the variable that overrides where the shared data lives.
const Env = "ALLIANCE_TESTDATA"

// Dir returns the shared testdata folder: $ALLIANCE_TESTDATA, or
// ../shared/testdata next to the module root. It skips the test with a
// clear message when the folder is absent (in CI it is present, so there the
// tests run); the data is read in place and never copied into the repository.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(Env); d != "" {
		if _, err := os.Stat(filepath.Join(d, "pdq")); err != nil {
			t.Fatalf("%s=%s has no pdq folder: %v", Env, d, err)
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
				t.Skipf("conformance data not found at %s; set %s to the shared testdata folder", d, Env)
			}
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("no go.mod above the test directory; set %s to the shared testdata folder", Env)
		}
		dir = parent
	}
}
