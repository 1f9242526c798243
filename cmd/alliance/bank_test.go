package main

import (
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"alliance"
	"alliance/internal/bankfile"
	"alliance/internal/store"
)

// bankTestCSV returns a CSV bank file of n random PDQ and MD5 entries, and
// its entries as "algorithm value" lines in order.
func bankTestCSV(rng *rand.Rand, n int) (string, []string) {
	var b strings.Builder
	b.WriteString("algorithm,value,category,series\n")
	var set []string
	for i := range n {
		alg, size := "pdq", 32
		if i%3 == 0 {
			alg, size = "md5", 16
		}
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(rng.UintN(256))
		}
		h := hex.EncodeToString(v)
		b.WriteString(alg + "," + h + ",,\n")
		set = append(set, alg+" "+h)
	}
	return b.String(), set
}

// bankEntrySet reads a bank file and returns its entries as sorted
// "algorithm value" lines.
func bankEntrySet(t *testing.T, body string, f bankfile.Format) []string {
	t.Helper()
	r, err := bankfile.NewReader(strings.NewReader(body), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for e, err := range bankfile.All(r) {
		if err != nil {
			t.Fatalf("reading the export: %v\n%s", err, body)
		}
		out = append(out, e.Algorithm+" "+e.Value)
	}
	slices.Sort(out)
	return out
}

func TestBankCommands(t *testing.T) {
	for name, dsn := range dsns(t) {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"ALLIANCE_DB": dsn}
			dir := t.TempDir()
			run := func(stdin string, args ...string) (int, string, string) {
				t.Helper()
				return cli(t, env, stdin, append([]string{"bank"}, args...)...)
			}
			mustRun := func(stdin string, args ...string) string {
				t.Helper()
				code, out, errOut := run(stdin, args...)
				if code != exitOK {
					t.Fatalf("bank %v: exit %d\n%s%s", args, code, out, errOut)
				}
				return out
			}
			if code, out, errOut := cli(t, env, "", "migrate"); code != exitOK {
				t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
			}
			mustRun("", "create", "--org", "se-hotline", "--name", "known", "--description", "test bank", "--pdq-threshold", "20")
			mustRun("", "create", "--org", "NL-HOTLINE", "--name", "copy")
			if out := mustRun("", "share", "--bank", "SE-HOTLINE/known", "--org", "NL-HOTLINE"); !strings.Contains(out, "NL-HOTLINE") {
				t.Errorf("share: %s", out)
			}

			body, set := bankTestCSV(rand.New(rand.NewPCG(5, 7)), 300)
			path := filepath.Join(dir, "in.csv")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			out := mustRun("", "import", "--bank", "SE-HOTLINE/known", path)
			if !strings.Contains(out, "300 records read, 300 added, 0 already present") {
				t.Errorf("first import: %s", out)
			}
			// Again from standard input, format detected: nothing new.
			out = mustRun(body, "import", "--bank", "SE-HOTLINE/known", "-")
			if !strings.Contains(out, "300 records read, 0 added, 300 already present") {
				t.Errorf("second import: %s", out)
			}

			out = mustRun("", "export", "--bank", "SE-HOTLINE/known", "--format", "csv")
			slices.Sort(set)
			if got := bankEntrySet(t, out, bankfile.CSV); !slices.Equal(got, set) {
				t.Errorf("csv export has %d entries, want the %d imported", len(got), len(set))
			}

			// A bad record at line 5 (the header is line 1) leaves the bank as it was.
			lines := strings.SplitAfter(body, "\n")
			bad := make([]string, 0, 12)
			bad = append(bad, lines[0])
			fresh, _ := bankTestCSV(rand.New(rand.NewPCG(9, 9)), 10)
			freshLines := strings.SplitAfter(fresh, "\n")[1:]
			bad = append(bad, freshLines[:3]...)
			bad = append(bad, "pdq,not-hex,,\n")
			bad = append(bad, freshLines[3:8]...)
			code, _, errOut := run(strings.Join(bad, ""), "import", "--bank", "SE-HOTLINE/known", "--format", "csv", "-")
			if code != exitFail || !strings.Contains(errOut, "Line 5") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("bad import: exit %d, want 1 and one line naming line 5:\n%s", code, errOut)
			}
			if out := mustRun("", "list"); !strings.Contains(out, "SE-HOTLINE/known") || !strings.Contains(out, " 300 ") {
				t.Errorf("list after a failed import, want 300 entries:\n%s", out)
			}

			// VICS out of one bank and into another.
			vicsPath := filepath.Join(dir, "known.json")
			mustRun("", "export", "--bank", "SE-HOTLINE/known", "--format", "vics", "--out", vicsPath)
			out = mustRun("", "import", "--bank", "NL-HOTLINE/copy", vicsPath)
			if !strings.Contains(out, "(vics)") || !strings.Contains(out, "300 added") {
				t.Errorf("vics import: %s", out)
			}
			out = mustRun("", "export", "--bank", "NL-HOTLINE/copy", "--format", "hma")
			if got := bankEntrySet(t, out, bankfile.HMA); !slices.Equal(got, set) {
				t.Errorf("the copy has %d entries, want the %d of the original", len(got), len(set))
			}

			// Entry 1 off and on again; the database says so each time.
			active := func() bool {
				t.Helper()
				db, err := store.Open(t.Context(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				var e alliance.HashEntry
				err = db.InReadTx(t.Context(), func(tx *store.Tx) (err error) { e, err = tx.BankEntry(t.Context(), 1); return err })
				if err != nil {
					t.Fatal(err)
				}
				return e.Active
			}
			if out := mustRun("", "disable", "--bank", "SE-HOTLINE/known", "--entry", "1"); !strings.Contains(out, "disabled entry 1") || active() {
				t.Errorf("disable: %s (active %t)", out, active())
			}
			if out := mustRun("", "enable", "--bank", "SE-HOTLINE/known", "--entry", "1"); !strings.Contains(out, "enabled entry 1") || !active() {
				t.Errorf("enable: %s (active %t)", out, active())
			}

			fails := []struct {
				name string
				args []string
				want string
			}{
				{"unknown bank import", []string{"import", "--bank", "SE-HOTLINE/nope", path}, `no bank "SE-HOTLINE/nope"`},
				{"unknown bank export", []string{"export", "--bank", "XX-HOTLINE/known", "--format", "csv"}, `no bank "XX-HOTLINE/known"`},
				{"unknown bank share", []string{"share", "--bank", "SE-HOTLINE/nope", "--org", "NL-HOTLINE"}, `no bank`},
				{"duplicate name", []string{"create", "--org", "SE-HOTLINE", "--name", "known"}, `already has a bank named "known"`},
				{"unknown org", []string{"create", "--org", "XX-HOTLINE", "--name", "b"}, `unknown organisation "XX-HOTLINE"`},
				{"missing file", []string{"import", "--bank", "SE-HOTLINE/known", filepath.Join(dir, "none.csv")}, "none.csv"},
				{"unknown entry", []string{"disable", "--bank", "SE-HOTLINE/known", "--entry", "999999"}, `no entry 999999 in bank "SE-HOTLINE/known"`},
				{"entry of another bank", []string{"enable", "--bank", "NL-HOTLINE/copy", "--entry", "1"}, `no entry 1 in bank "NL-HOTLINE/copy"`},
			}
			for _, f := range fails {
				t.Run(f.name, func(t *testing.T) {
					code, _, errOut := run("", f.args...)
					if code != exitFail || !strings.Contains(errOut, f.want) {
						t.Errorf("exit %d, want 1 and %q:\n%s", code, f.want, errOut)
					}
				})
			}
		})
	}
}

func TestBankUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no verb", []string{"bank"}, exitUsage, "alliance bank import"},
		{"unknown verb", []string{"bank", "delete"}, exitUsage, "alliance bank create"},
		{"help", []string{"bank", "--help"}, exitOK, "alliance bank export"},
		{"import help", []string{"bank", "import", "--help"}, exitOK, "--format"},
		{"create without name", []string{"bank", "create", "--org", "SE-HOTLINE"}, exitUsage, "--name is required"},
		{"bad threshold", []string{"bank", "create", "--org", "SE-HOTLINE", "--name", "x", "--pdq-threshold", "x"}, exitUsage, "pdq-threshold"},
		{"import without file", []string{"bank", "import", "--bank", "SE-HOTLINE/x"}, exitUsage, "give one FILE"},
		{"import two files", []string{"bank", "import", "--bank", "SE-HOTLINE/x", "a", "b"}, exitUsage, "give one FILE"},
		{"import bad format", []string{"bank", "import", "--bank", "SE-HOTLINE/x", "--format", "xml", "a"}, exitUsage, "unknown bank file format"},
		{"export without format", []string{"bank", "export", "--bank", "SE-HOTLINE/x"}, exitUsage, "--format is required"},
		{"share without org", []string{"bank", "share", "--bank", "SE-HOTLINE/x"}, exitUsage, "--org is required"},
		{"list stray argument", []string{"bank", "list", "x"}, exitUsage, `unexpected argument "x"`},
		{"disable without entry", []string{"bank", "disable", "--bank", "SE-HOTLINE/x"}, exitUsage, "--entry is required"},
		{"enable bad entry", []string{"bank", "enable", "--bank", "SE-HOTLINE/x", "--entry", "x"}, exitUsage, "not an entry id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, nil, "", tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\n%s%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}
