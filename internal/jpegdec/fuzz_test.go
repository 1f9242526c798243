package jpegdec

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that no input panics the decoder and that Decode
// agrees with DecodeConfig on size and colour model, which is what
// callers rely on to refuse large images before decoding them. Seeds are
// generated JPEGs (colour, grey, tiny, odd-sized).
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./internal/jpegdec
func FuzzDecode(f *testing.F) {
	for _, s := range []struct {
		w, h int
		gray bool
		q    int
	}{{16, 16, false, 90}, {9, 7, false, 50}, {8, 8, true, 75}, {1, 1, false, 100}, {17, 3, true, 20}} {
		f.Add(encode(f, genImage(s.w, s.h, s.gray), s.q))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<16 {
			return
		}
		img, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
			t.Fatalf("decoded %v, DecodeConfig says %dx%d", b, cfg.Width, cfg.Height)
		}
		if img.ColorModel() != cfg.ColorModel {
			t.Fatalf("decoded %v, DecodeConfig says %v", img.ColorModel(), cfg.ColorModel)
		}
	})
}
