package hashing

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Test images are generated here, never copied from anywhere: smooth
// waves (so that PDQ has structure to hash, with quality 100 when large
// enough) plus deterministic noise.

func genNRGBA(w, h int, seed uint32) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	phase := float64(seed%97) / 10
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(max(w, 1)), float64(y)/float64(max(h, 1))
			base := 110 + 60*math.Sin(7*fx+3*fy+phase) + 40*math.Cos(5*fy-4*fx) + 20*math.Sin(40*fx*fy)
			p := m.Pix[m.PixOffset(x, y):][:4]
			for c := range 3 {
				seed = seed*1664525 + 1013904223
				noise := noiseAmplitude * (float64(seed>>24)/255 - 0.5)
				p[c] = uint8(max(0, min(255, base+float64(c*25)+noise)))
			}
			p[3] = 0xff
		}
	}
	return m
}

// noiseAmplitude is the peak-to-peak per-channel noise of genNRGBA: at
// 1600×1004 and JPEG quality 90 it gives a file of about the size of the
// 1600×1004 bridge photograph of the PDQ test data (361 KB).
const noiseAmplitude = 24

func genGray16(w, h int) *image.Gray16 {
	m := image.NewGray16(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetGray16(x, y, color.Gray16{Y: uint16((x*65535)/max(1, w-1)) ^ uint16(y*97)})
		}
	}
	return m
}

// encodeAs encodes m in the named format.
func encodeAs(t testing.TB, format string, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, m)
	case "gif":
		err = gif.Encode(&buf, m, nil)
	case "jpeg":
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90})
	case "bmp":
		err = bmp.Encode(&buf, m)
	case "tiff":
		err = tiff.Encode(&buf, m, &tiff.Options{Compression: tiff.Deflate})
	default:
		t.Fatalf("unknown format %q", format)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	return buf.Bytes()
}

// pngHeaderOnly is a PNG signature and IHDR announcing a w×h RGBA image,
// with no pixel data: the shape of a decompression bomb's header.
func pngHeaderOnly(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	b = append(b, ihdr[:]...)
	crc := crc32.NewIEEE()
	crc.Write([]byte("IHDR"))
	crc.Write(ihdr[:])
	return binary.BigEndian.AppendUint32(b, crc.Sum32())
}

// jpegHeaderOnly is a JPEG with SOI and a baseline SOF0 announcing a w×h
// three-component image, and nothing else.
func jpegHeaderOnly(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xff, 0xc0, 0, 17, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return b
}

// webpLossless1x1 is a hand-assembled 1×1 lossless (VP8L) WebP: RIFF
// header, VP8L chunk with a 1×1 size and a minimal entropy-coded image.
// The standard library cannot encode WebP.
const webpLossless1x1 = "RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
