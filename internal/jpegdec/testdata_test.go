package jpegdec

import (
	"bufio"
	"fmt"
	"image"
	"io"
	"os"
	"strconv"
	"testing"

	"alliance/internal/testutil/conformance"
)

// testdataDir finds the shared conformance data (see package conformance).
func testdataDir(t testing.TB) string { return conformance.Dir(t) }

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
