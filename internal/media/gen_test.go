package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
)

// Test images are generated here: smooth waves plus deterministic noise,
// and flat shapes. Nothing is read from anywhere.

func genImage(w, h int, seed uint32) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	phase := float64(seed%97) / 10
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			base := 110 + 60*math.Sin(7*fx+3*fy+phase) + 40*math.Cos(5*fy-4*fx)
			p := m.Pix[m.PixOffset(x, y):][:4]
			for c := range 3 {
				seed = seed*1664525 + 1013904223
				p[c] = uint8(max(0, min(255, base+float64(c*25)+20*(float64(seed>>24)/255-0.5))))
			}
			p[3] = 0xff
		}
	}
	return m
}

// genShapes draws a light background with a dark rectangle and disc.
func genShapes(w, h int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(220)
			if x > w/8 && x < w/2 && y > h/6 && y < h/2 {
				v = 40
			}
			dx, dy := x-3*w/4, y-2*h/3
			if dx*dx+dy*dy < (w/6)*(w/6) {
				v = 90
			}
			m.SetGray(x, y, color.Gray{Y: v})
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bombPNG is a valid PNG header announcing w×h pixels, followed by a tiny
// IDAT and IEND: a decoder that trusted the header would allocate w×h×4
// bytes.
func bombPNG(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		buf.WriteString(typ)
		buf.Write(data)
		binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}) // empty zlib stream
	chunk("IEND", nil)
	return buf.Bytes()
}
