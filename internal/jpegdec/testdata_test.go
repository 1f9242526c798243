package jpegdec

import (
	"bufio"
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

// readPNM reads 8-bit binary PNM: P5 as *image.Gray, P6 as opaque
// *image.NRGBA.
func readPNM(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var fields [4]string
	for i := range fields {
		var tok []byte
		for {
			c, err := br.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("%s: header: %w", path, err)
			}
			if c == '#' && len(tok) == 0 {
				if _, err := br.ReadString('\n'); err != nil {
					return nil, err
				}
				continue
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				if len(tok) > 0 {
					break
				}
				continue
			}
			tok = append(tok, c)
		}
		fields[i] = string(tok)
	}
	w, err1 := strconv.Atoi(fields[1])
	h, err2 := strconv.Atoi(fields[2])
	if err1 != nil || err2 != nil || fields[3] != "255" {
		return nil, fmt.Errorf("%s: unsupported header %q", path, fields)
	}
	rect := image.Rect(0, 0, w, h)
	switch fields[0] {
	case "P5":
		m := image.NewGray(rect)
		_, err := io.ReadFull(br, m.Pix)
		return m, err
	case "P6":
		m := image.NewNRGBA(rect)
		rgb := make([]byte, 3*w*h)
		if _, err := io.ReadFull(br, rgb); err != nil {
			return nil, err
		}
		for i := range w * h {
			copy(m.Pix[4*i:4*i+3], rgb[3*i:3*i+3])
			m.Pix[4*i+3] = 0xff
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: unsupported magic %q", path, fields[0])
}
