// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE.golang file.
//
// The entry points of the decoder, forked from the end of Go 1.26's
// image/jpeg/reader.go for Alliance (Decode, DecodeConfig) and extended
// with in-memory and sampled variants. See doc.go.

package jpegdec

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

// DecodeSampled is DecodeBytes for callers that need only some pixels,
// such as a nearest-neighbour resize: once the image's size is known,
// sample returns the columns xs and rows ys wanted, and the result is the
// len(xs)×len(ys) image whose pixel (i, j) is the full image's pixel
// (xs[i], ys[j]). Every block is still decoded, but upsampling and colour
// conversion run only for the rows and columns asked for.
func DecodeSampled(data []byte, sample func(width, height int) (xs, ys []int)) (image.Image, error) {
	d := decoder{sample: sample}
	return truncated(d.decode(data, false))
}

var errBadSample = errors.New("jpegdec: sample returned no or out-of-range coordinates")

func inRange(v []int, n int) bool {
	for _, x := range v {
		if x < 0 || x >= n {
			return false
		}
	}
	return true
}

// truncated makes running out of data inside a scan, which the entropy
// decoder reports as a format error, an io.ErrUnexpectedEOF like running
// out anywhere else, so that callers can tell truncation from corruption.
func truncated(img image.Image, err error) (image.Image, error) {
	if err == errShortHuffmanData {
		err = fmt.Errorf("%w (%v)", io.ErrUnexpectedEOF, err)
	}
	return img, err
}

// Decode reads r to its end and decodes the JPEG image in it; see
// DecodeBytes.
func Decode(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return DecodeBytes(data)
}

// DecodeBytes decodes a JPEG image and returns the samples libjpeg-turbo
// returns with its default settings: an *image.Gray for one component, an
// opaque *image.NRGBA for YCbCr and RGB, and an *image.CMYK (ink amounts,
// as the standard library's CMYK) for CMYK and YCCK. Truncated input is
// an error wrapping io.ErrUnexpectedEOF, not a grey-filled image. data is
// only read; the image does not share its memory.
func DecodeBytes(data []byte) (image.Image, error) {
	var d decoder
	return truncated(d.decode(data, false))
}

// DecodeConfig reads r to its end and returns the colour model and
// dimensions of the JPEG image in it; see DecodeConfigBytes.
func DecodeConfig(r io.Reader) (image.Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return image.Config{}, err
	}
	return DecodeConfigBytes(data)
}

// DecodeConfigBytes returns the colour model and dimensions of a JPEG
// image without decoding it: the model of the image that DecodeBytes
// would return. It reads only the header segments.
func DecodeConfigBytes(data []byte) (image.Config, error) {
	var d decoder
	if _, err := d.decode(data, true); err != nil {
		return image.Config{}, err
	}
	if d.nComp == 0 {
		return image.Config{}, FormatError("missing SOF marker")
	}
	cm := color.Model(color.NRGBAModel)
	switch d.colorSpace() {
	case csGray:
		cm = color.GrayModel
	case csCMYK, csYCCK:
		cm = color.CMYKModel
	}
	return image.Config{ColorModel: cm, Width: d.width, Height: d.height}, nil
}
