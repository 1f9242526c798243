package main

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"alliance/internal/bankfile"
	"alliance/internal/hashing"
	"alliance/pdq"
)

// matchTestHash returns a random PDQ hash from rng.
func matchTestHash(rng *rand.Rand) pdq.Hash {
	var h pdq.Hash
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	return h
}

// flipBits returns h with d distinct random bits flipped.
func flipBits(rng *rand.Rand, h pdq.Hash, d int) pdq.Hash {
	for _, k := range rng.Perm(256)[:d] {
		h[k/8] ^= 1 << (k % 8)
	}
	return h
}

// writeBank writes entries to dir/name in format f.
func writeBank(t *testing.T, dir, name string, f bankfile.Format, entries []bankfile.Entry) string {
	t.Helper()
	path := filepath.Join(dir, name)
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := bankfile.NewWriter(file, f)
	for _, e := range entries {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseMatchOutput reads the JSON lines of `alliance match`.
func parseMatchOutput(t *testing.T, out string) []matchResult {
	t.Helper()
	var res []matchResult
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r matchResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad output line %q: %v", sc.Text(), err)
		}
		if r.Matches == nil {
			t.Fatalf("line %q: matches is not an array", sc.Text())
		}
		res = append(res, r)
	}
	return res
}

func TestMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	dir := t.TempDir()
	var bank []bankfile.Entry
	var queries []pdq.Hash
	// Random entries, and near-duplicates of each query at known distances
	// straddling the thresholds tested.
	for range 3000 {
		bank = append(bank, bankfile.Entry{Algorithm: "pdq", Value: matchTestHash(rng).String(), Profile: "hma", Category: "1", CategoryScheme: "vics"})
	}
	for i := range 40 {
		q := matchTestHash(rng)
		queries = append(queries, q)
		for _, d := range []int{0, 1, 9, 10, 11, 30, 31, 32, 40} {
			if (i+d)%3 == 0 {
				continue
			}
			bank = append(bank, bankfile.Entry{Algorithm: "pdq", Value: flipBits(rng, q, d).String(), Profile: "hma", Series: fmt.Sprintf("s%d", d)})
		}
	}
	md5s := []string{}
	for range 20 {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		md5s = append(md5s, hex.EncodeToString(b))
		bank = append(bank, bankfile.Entry{Algorithm: "md5", Value: md5s[len(md5s)-1], Series: "exact"})
	}
	var qlines strings.Builder
	qlines.WriteString("# generated queries\n\n")
	for i, q := range queries {
		if i%2 == 0 {
			fmt.Fprintf(&qlines, "pdq %s\n", strings.ToUpper(q.String()))
		} else {
			fmt.Fprintf(&qlines, "%s\n", q.String())
		}
	}
	fmt.Fprintf(&qlines, "md5 %s\nmd5 %s\n", md5s[3], strings.Repeat("0", 32))
	qpath := filepath.Join(dir, "queries.txt")
	if err := os.WriteFile(qpath, []byte(qlines.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	// brute returns what the answer to query q at threshold th must be.
	brute := func(th int) [][]matchHit {
		var want [][]matchHit
		for _, q := range queries {
			hits := []matchHit{}
			for _, e := range bank {
				if e.Algorithm != "pdq" {
					continue
				}
				h, _ := pdq.ParseHash(e.Value)
				if d := q.Distance(h); d <= th {
					hits = append(hits, matchHit{Value: e.Value, Distance: d, Algorithm: "pdq", Category: e.Category, Series: e.Series})
				}
			}
			slices.SortStableFunc(hits, func(a, b matchHit) int { return a.Distance - b.Distance })
			want = append(want, hits)
		}
		want = append(want, []matchHit{{Value: md5s[3], Algorithm: "md5", Series: "exact"}}, []matchHit{})
		return want
	}
	for _, f := range []bankfile.Format{bankfile.CSV, bankfile.HMA, bankfile.VICS} {
		path := writeBank(t, dir, "bank."+string(f), f, bank)
		for _, th := range []int{0, 10, 31} {
			t.Run(fmt.Sprintf("%s/t=%d", f, th), func(t *testing.T) {
				args := []string{"match", "--bank-file", path, "--queries", qpath}
				if th != 31 {
					args = append(args, "--threshold", fmt.Sprint(th))
				}
				code, out, stderr := cli(t, nil, "", args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				got := parseMatchOutput(t, out)
				want := brute(th)
				if len(got) != len(want) {
					t.Fatalf("%d output lines, want %d", len(got), len(want))
				}
				total := 0
				for i := range want {
					g := got[i].Matches
					if f == bankfile.HMA { // no metadata in HMA files
						for k := range want[i] {
							want[i][k].Category, want[i][k].Series = "", ""
						}
					}
					if f != bankfile.VICS && f != bankfile.CSV && f != bankfile.HMA {
						t.Fatal("unreachable")
					}
					// The index orders equal distances by id, which is file
					// order, as the brute force's stable sort does.
					if !reflect.DeepEqual(g, want[i]) {
						t.Fatalf("query %d (%s):\n got %+v\nwant %+v", i, got[i].Query, g, want[i])
					}
					total += len(g)
				}
				if total == 0 {
					t.Fatal("no matches at all: the test checks nothing")
				}
			})
		}
	}
}

func TestMatchFilesVICS(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	os.MkdirAll(filepath.Join(files, "sub"), 0o755)
	var bank []bankfile.Entry
	want := map[string]string{} // path → matching md5, or ""
	for i := range 12 {
		b := make([]byte, 100+i)
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		p := filepath.Join(files, fmt.Sprintf("f%02d.bin", i))
		if i%3 == 0 {
			p = filepath.Join(files, "sub", fmt.Sprintf("f%02d.bin", i))
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(b)
		want[p] = ""
		if i%2 == 0 {
			want[p] = hex.EncodeToString(sum[:])
			bank = append(bank, bankfile.Entry{Algorithm: "md5", Value: want[p], Category: fmt.Sprint(i % 5), CategoryScheme: "vics"})
		}
	}
	// A generated image whose PDQ hash, 5 bits off, is in the bank.
	img := filepath.Join(files, "sub", "z.png")
	hashTestEncode(t, img, "png", hashTestImage(64, 48, 3))
	res, err := hashing.HashFile(img, hashing.Options{})
	if err != nil || res.PDQ == nil {
		t.Fatalf("hashing the test image: %v", err)
	}
	near := flipBits(rng, *res.PDQ, 5).String()
	want[img] = near
	// VICS as tools write it: version 1 key, upper-case hex, string booleans.
	var doc strings.Builder
	doc.WriteString("\ufeff{\"odata.metadata\":\"http://example.test/$metadata#Media\",\"value\":[")
	for i, e := range bank {
		if i > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"MediaID":%d,"Category":%s,"MD5":"%s","VictimIdentified":"false"}`, i, e.Category, strings.ToUpper(e.Value))
	}
	fmt.Fprintf(&doc, `,{"MediaID":99,"Category":"4","PDQ":"%s","Series":"s-img"}]}`, strings.ToUpper(near))
	bankPath := filepath.Join(dir, "bank.json")
	os.WriteFile(bankPath, []byte(doc.String()), 0o644)

	code, out, stderr := cli(t, nil, "", "match", "--bank-file", bankPath, files)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := parseMatchOutput(t, out)
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), out)
	}
	var paths []string
	for _, r := range got {
		paths = append(paths, r.Query)
		w, ok := want[r.Query]
		switch {
		case !ok:
			t.Errorf("unexpected query %q", r.Query)
		case w == "" && len(r.Matches) != 0:
			t.Errorf("%s: matches %+v, want none", r.Query, r.Matches)
		case r.Query == img:
			wantHit := []matchHit{{Value: near, Distance: 5, Algorithm: "pdq", Category: "4", Series: "s-img"}}
			if !reflect.DeepEqual(r.Matches, wantHit) {
				t.Errorf("%s: matches %+v, want %+v", r.Query, r.Matches, wantHit)
			}
		case w != "" && (len(r.Matches) != 1 || r.Matches[0].Value != w || r.Matches[0].Algorithm != "md5" || r.Matches[0].Category == ""):
			t.Errorf("%s: matches %+v, want md5 %s with its category", r.Query, r.Matches, w)
		}
	}
	if !slices.IsSorted(paths) {
		t.Errorf("output not in walk order: %v", paths)
	}
}

func TestMatchErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("algorithm,value\nmd5,"+strings.Repeat("a", 32)+"\n"), 0o644)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("algorithm,value\nmd5,"+strings.Repeat("a", 32)+"\nmd5,xyz\n"), 0o644)
	notVICS := filepath.Join(dir, "not.json")
	os.WriteFile(notVICS, []byte(`{"name":"x"}`), 0o644)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"bad bank line", "", []string{"--bank-file", bad}, 1, `line 3: MD5 "xyz" is not 32 hex digits`},
		{"not vics", "", []string{"--bank-file", notVICS}, 1, "not a VICS file"},
		{"forced format", "", []string{"--format", "hma", "--bank-file", good}, 1, "line 1:"},
		{"threshold 40", "", []string{"--threshold", "40", "--bank-file", good}, 2, "--threshold 40 is out of range: want 0 to 31"},
		{"no bank", "", []string{}, 2, "--bank-file is required"},
		{"bad format", "", []string{"--format", "xml", "--bank-file", good}, 2, "unknown bank file format"},
		{"missing bank", "", []string{"--bank-file", filepath.Join(dir, "none")}, 1, "no such file"},
		{"bad query line", "md5 " + strings.Repeat("a", 32) + "\npdq 12\n", []string{"--bank-file", good}, 1, "standard input: line 2:"},
		{"missing file", "", []string{"--bank-file", good, filepath.Join(dir, "none")}, 1, "1 of 1 files could not be hashed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := cli(t, nil, tc.stdin, append([]string{"match"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestBenchMatch(t *testing.T) {
	code, out, stderr := cli(t, nil, "", "bench", "match", "--n", "3000", "--queries", "30", "--seed", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"entries      3000", "recall       1.0000", "p50"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if code, _, _ := cli(t, nil, "", "bench", "match", "--threshold", "32"); code != 1 {
		t.Errorf("--threshold 32: exit %d, want 1", code)
	}
}
