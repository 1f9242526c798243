package pdq

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// testdataDir finds the shared conformance data: $ALLIANCE_TESTDATA, or
// ../shared/testdata next to the module root. It skips the test when the
// folder is absent; it is never copied into the repository.
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

// readPNM decodes binary PNM: P5 (grey) as *image.Gray or *image.Gray16,
// P6 (RGB) as *image.NRGBA or *image.NRGBA64, by maxval (255 or 65535).
func readPNM(r io.Reader) (image.Image, error) {
	br := bufio.NewReader(r)
	var magic string
	var fields [3]int
	tok := func() (string, error) {
		var b []byte
		for {
			c, err := br.ReadByte()
			if err != nil {
				if len(b) > 0 && err == io.EOF {
					return string(b), nil
				}
				return "", err
			}
			switch {
			case c == '#' && len(b) == 0:
				if _, err := br.ReadString('\n'); err != nil {
					return "", err
				}
			case c == ' ' || c == '\t' || c == '\n' || c == '\r':
				if len(b) > 0 {
					return string(b), nil
				}
			default:
				b = append(b, c)
			}
		}
	}
	var err error
	if magic, err = tok(); err != nil {
		return nil, err
	}
	if magic != "P5" && magic != "P6" {
		return nil, fmt.Errorf("pnm: unsupported magic %q", magic)
	}
	for i := range fields {
		s, err := tok()
		if err != nil {
			return nil, err
		}
		if fields[i], err = strconv.Atoi(s); err != nil || fields[i] <= 0 {
			return nil, fmt.Errorf("pnm: bad header field %q", s)
		}
	}
	w, h, maxval := fields[0], fields[1], fields[2]
	if maxval != 255 && maxval != 65535 {
		return nil, fmt.Errorf("pnm: unsupported maxval %d", maxval)
	}
	rect := image.Rect(0, 0, w, h)
	var pix []byte
	var out image.Image
	switch {
	case magic == "P5" && maxval == 255:
		m := image.NewGray(rect)
		pix, out = m.Pix, m
	case magic == "P5":
		m := image.NewGray16(rect)
		pix, out = m.Pix, m
	case maxval == 255:
		m := image.NewNRGBA(rect)
		pix, out = make([]byte, w*h*3), m
		defer func() {
			for i := range w * h {
				copy(m.Pix[4*i:4*i+3], pix[3*i:3*i+3])
				m.Pix[4*i+3] = 0xff
			}
		}()
	default:
		m := image.NewNRGBA64(rect)
		pix, out = make([]byte, w*h*6), m
		defer func() {
			for i := range w * h {
				copy(m.Pix[8*i:8*i+6], pix[6*i:6*i+6])
				m.Pix[8*i+6], m.Pix[8*i+7] = 0xff, 0xff
			}
		}()
	}
	if _, err := io.ReadFull(br, pix); err != nil {
		return nil, fmt.Errorf("pnm: pixel data: %w", err)
	}
	return out, nil
}

func loadPNM(t testing.TB, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := readPNM(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
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

func mustParse(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestReadPNM(t *testing.T) {
	tests := []struct {
		name string
		data string
		want image.Image
		err  bool
	}{
		{"gray8", "P5\n2 1\n255\n\x01\x02", &image.Gray{Pix: []byte{1, 2}, Stride: 2, Rect: image.Rect(0, 0, 2, 1)}, false},
		{"gray16 with comment", "P5 # c\n1 1\n65535\n\x01\x02", &image.Gray16{Pix: []byte{1, 2}, Stride: 2, Rect: image.Rect(0, 0, 1, 1)}, false},
		{"rgb8", "P6\n1 1\n255\n\x01\x02\x03", &image.NRGBA{Pix: []byte{1, 2, 3, 255}, Stride: 4, Rect: image.Rect(0, 0, 1, 1)}, false},
		{"bad magic", "P3\n1 1\n255\n1 2 3", nil, true},
		{"short", "P5\n2 2\n255\n\x01", nil, true},
		{"bad maxval", "P5\n1 1\n15\n\x01", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPNM(bytes.NewReader([]byte(tc.data)))
			if tc.err {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := readPNM(bytes.NewReader(nil)); !errors.Is(err, io.EOF) {
		t.Fatalf("empty input: %v", err)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
