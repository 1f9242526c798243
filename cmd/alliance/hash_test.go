package main

import (
	"bytes"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"alliance/internal/hashing"
	"alliance/pdq"
)

// hashTestImage is a generated picture: a diagonal gradient with a
// pattern picked by seed.
func hashTestImage(w, h, seed int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := m.Pix[m.PixOffset(x, y):][:4]
			p[0] = uint8(x*255/max(1, w-1) + seed)
			p[1] = uint8(y*255/max(1, h-1) ^ seed*7)
			p[2] = uint8((x*y + seed*13) % 251)
			p[3] = 0xff
		}
	}
	return m
}

func hashTestEncode(t *testing.T, path, format string, m image.Image) {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, m)
	case "jpeg":
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85})
	case "gif":
		err = gif.Encode(&buf, m, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hashTree builds a directory of generated files: images in three
// formats, a text file, a truncated JPEG, and symbolic links to a file
// and to a directory.
func hashTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	hashTestEncode(t, filepath.Join(dir, "a.png"), "png", hashTestImage(64, 48, 1))
	hashTestEncode(t, filepath.Join(dir, "b.jpg"), "jpeg", hashTestImage(520, 12, 2))
	hashTestEncode(t, filepath.Join(dir, "sub", "c.gif"), "gif", hashTestImage(30, 30, 3))
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("plain text, not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hashTestEncode(t, filepath.Join(dir, "d-broken.jpg"), "jpeg", hashTestImage(40, 40, 4))
	broken := filepath.Join(dir, "d-broken.jpg")
	b, err := os.ReadFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.png"), filepath.Join(dir, "e-link.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "f-linkdir")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHashCommand(t *testing.T) {
	dir := hashTree(t)
	code, stdout, stderr := cli(t, nil, "", "hash", dir)
	if code != exitFail || !strings.Contains(stderr, "1 of 6 files could not be hashed") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var paths []string
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		path := rec["path"].(string)
		paths = append(paths, strings.TrimPrefix(path, dir+string(filepath.Separator)))
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range rec {
				if !yield(k) {
					return
				}
			}
		})
		switch filepath.Base(path) {
		case "d-broken.jpg":
			if !slices.Equal(keys, []string{"error", "path"}) || !strings.Contains(rec["error"].(string), "truncated") {
				t.Errorf("broken file: %s", line)
			}
			continue
		case "notes.txt":
			sum := md5.Sum([]byte("plain text, not an image\n"))
			if rec["pdq"] != nil || rec["pdq_quality"] != nil || rec["md5"] != hex.EncodeToString(sum[:]) {
				t.Errorf("text file: %s", line)
			}
		default:
			want, err := hashing.HashFile(path, hashing.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rec["pdq"] != want.PDQ.String() || rec["pdq_quality"] != float64(want.PDQQuality) ||
				rec["sha256"] != want.SHA256 || rec["sha1"] != want.SHA1 || rec["md5"] != want.MD5 {
				t.Errorf("%s: %s, want %+v", path, line, want)
			}
		}
		if !slices.Equal(keys, []string{"md5", "path", "pdq", "pdq_quality", "sha1", "sha256"}) {
			t.Errorf("keys %v in %s", keys, line)
		}
	}
	// Walk order, the link to a directory skipped, the link to a file hashed.
	want := []string{"a.png", "b.jpg", "d-broken.jpg", "e-link.png", "notes.txt", filepath.Join("sub", "c.gif")}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
}

func TestHashFormats(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "wide.png")
	hashTestEncode(t, img, "png", hashTestImage(600, 40, 5))
	txt := filepath.Join(dir, "a\tb.txt")
	if err := os.WriteFile(txt, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cppcli, err := hashing.HashFile(img, hashing.Options{Profile: pdq.ProfileCPPCLI, Dihedral: true})
	if err != nil {
		t.Fatal(err)
	}
	cols := "path,md5,sha1,sha256,pdq,pdq_quality"
	dih := ",pdq_orig,pdq_rot90,pdq_rot180,pdq_rot270,pdq_flipx,pdq_flipy,pdq_flipp,pdq_flipm"

	t.Run("csv", func(t *testing.T) {
		code, stdout, stderr := cli(t, nil, "", "hash", "--format", "csv", "--profile", "cpp-cli", "--dihedral", img, txt)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(recs[0], ","); got != cols+dih+",error" || len(recs) != 3 {
			t.Fatalf("header %q, %d records", got, len(recs))
		}
		row := recs[1]
		if row[0] != img || row[4] != cppcli.PDQ.String() || row[5] != fmt.Sprint(cppcli.PDQQuality) || row[6+7] != cppcli.Dihedral[7].String() || row[14] != "" {
			t.Errorf("image row %v", row)
		}
		if row := recs[2]; row[0] != txt || row[4] != "" || row[6] != "" || row[14] != "" {
			t.Errorf("text row %v", row)
		}
	})
	t.Run("tsv", func(t *testing.T) {
		code, stdout, _ := cli(t, nil, "", "hash", "--format", "tsv", txt, filepath.Join(dir, "missing"))
		if code != exitFail {
			t.Fatalf("exit %d", code)
		}
		lines := strings.Split(stdout, "\n")
		if lines[0] != strings.ReplaceAll(cols+",error", ",", "\t") {
			t.Errorf("header %q", lines[0])
		}
		if !strings.HasPrefix(lines[1], strings.ReplaceAll(txt, "\t", `\t`)+"\t") {
			t.Errorf("tab in path not escaped: %q", lines[1])
		}
		if f := strings.Split(lines[2], "\t"); len(f) != 7 || !strings.Contains(f[6], "no such file") {
			t.Errorf("error row %q", lines[2])
		}
	})
	t.Run("jsonl dihedral", func(t *testing.T) {
		code, stdout, _ := cli(t, nil, "", "hash", "--dihedral", "--profile=cpp-cli", "--workers", "1", img, txt)
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		var rec struct {
			PDQ         string   `json:"pdq"`
			PDQDihedral []string `json:"pdq_dihedral"`
		}
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.PDQ != cppcli.PDQ.String() || len(rec.PDQDihedral) != 8 || rec.PDQDihedral[2] != cppcli.Dihedral[2].String() {
			t.Errorf("dihedral line %s", lines[0])
		}
		if !strings.Contains(lines[1], `"pdq":null,"pdq_quality":null,"pdq_dihedral":null`) {
			t.Errorf("non-image line %s", lines[1])
		}
	})
}

func TestHashUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown format", []string{"hash", "--format", "xml", dir}, exitUsage, `unknown format "xml"`},
		{"unknown profile", []string{"hash", "--profile", "fast", dir}, exitUsage, `unknown profile "fast"`},
		{"no path", []string{"hash"}, exitUsage, "no PATH given"},
		{"zero workers", []string{"hash", "--workers", "0", dir}, exitUsage, "--workers"},
		{"bad size", []string{"hash", "--max-size", "0", dir}, exitUsage, "--max-size"},
		{"help", []string{"hash", "--help"}, exitOK, "--max-pixels"},
		{"too large", []string{"hash", "--max-size", "1", "main.go"}, exitFail, "1 of 1 files"},
		{"empty dir", []string{"hash", dir}, exitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, nil, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q (stdout %q)", code, stderr, tc.code, tc.want, stdout)
			}
		})
	}
}

// TestHashManyFiles hashes a tree of 2,000 small generated files with
// several workers: every file gets one line, in walk order.
func TestHashManyFiles(t *testing.T) {
	dir := t.TempDir()
	const n = 2000
	var want []string
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%20))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(sub, fmt.Sprintf("f%04d.png", i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, hashTestImage(8, 8, i)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, path)
	}
	slices.Sort(want)
	code, stdout, stderr := cli(t, nil, "", "hash", "--workers", "4", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for i, line := range lines {
		var rec struct {
			Path string  `json:"path"`
			PDQ  *string `json:"pdq"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.PDQ == nil || rec.Path != want[i] {
			t.Fatalf("line %d: %s (%v), want path %s", i, line, err, want[i])
		}
	}
}
