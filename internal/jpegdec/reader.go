// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE.golang file.
//
// Forked from Go 1.26's image/jpeg/reader.go for Alliance: the decoder
// keeps each component's samples in its own plane and hands them to
// output.go, which upsamples and converts colour as libjpeg-turbo does;
// the input is parsed from memory; the colour space is chosen by libjpeg's
// rules; any integral sampling factors are accepted; the entry points are
// in api.go and the encoder is gone. See doc.go.

package jpegdec

import (
	"image"
	"io"
)

// A FormatError reports that the input is not a valid JPEG.
type FormatError string

func (e FormatError) Error() string { return "invalid JPEG format: " + string(e) }

// An UnsupportedError reports that the input uses a valid but unimplemented JPEG feature.
type UnsupportedError string

func (e UnsupportedError) Error() string { return "unsupported JPEG feature: " + string(e) }

var errUnsupportedSubsamplingRatio = UnsupportedError("luma/chroma subsampling ratio")

// Component specification, specified in section B.2.2.
type component struct {
	h  int   // Horizontal sampling factor.
	v  int   // Vertical sampling factor.
	c  uint8 // Component identifier.
	tq uint8 // Quantization table destination selector.

	// Derived from the frame header, with libjpeg's names in comments.
	dw, dh int // samples across and down (downsampled_width/height)
	bw, bh int // 8×8 blocks across and down holding them (width/height_in_blocks)
}

const (
	dcTable = 0
	acTable = 1
	maxTc   = 1
	maxTh   = 3
	maxTq   = 3

	maxComponents = 4
)

const (
	sof0Marker = 0xc0 // Start Of Frame (Baseline Sequential).
	sof1Marker = 0xc1 // Start Of Frame (Extended Sequential).
	sof2Marker = 0xc2 // Start Of Frame (Progressive).
	dhtMarker  = 0xc4 // Define Huffman Table.
	rst0Marker = 0xd0 // ReSTart (0).
	rst7Marker = 0xd7 // ReSTart (7).
	soiMarker  = 0xd8 // Start Of Image.
	eoiMarker  = 0xd9 // End Of Image.
	sosMarker  = 0xda // Start Of Scan.
	dqtMarker  = 0xdb // Define Quantization Table.
	driMarker  = 0xdd // Define Restart Interval.
	comMarker  = 0xfe // COMment.
	// "APPlication specific" markers aren't part of the JPEG spec per se,
	// but in practice, their use is described at
	// https://www.sno.phy.queensu.ca/~phil/exiftool/TagNames/JPEG.html
	app0Marker  = 0xe0
	app14Marker = 0xee
	app15Marker = 0xef
)

// See https://www.sno.phy.queensu.ca/~phil/exiftool/TagNames/JPEG.html#Adobe
const (
	adobeTransformUnknown = 0
	adobeTransformYCbCr   = 1
	adobeTransformYCbCrK  = 2
)

// unzig maps from the zig-zag ordering to the natural ordering. For example,
// unzig[3] is the column and row of the fourth element in zig-zag order. The
// value is 16, which means first column (16%8 == 0) and third row (16/8 == 2).
var unzig = [blockSize]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

type decoder struct {
	// data is the whole input and pos the next byte to parse: the
	// decoder works on memory (callers hold the file there anyway), which
	// lets the entropy decoder load bytes in bulk (see bitReader).
	data []byte
	pos  int
	bits bitReader

	width, height int

	// planes[i] holds component i's samples, stride[i] bytes a row, padded
	// to whole MCUs; nil until the first SOS.
	planes [maxComponents][]byte
	stride [maxComponents]int
	// hMax and vMax are the largest sampling factors; mxx and myy the
	// number of MCUs across and down.
	hMax, vMax int
	mxx, myy   int
	// cs is the colour space, fixed at the first SOS as libjpeg fixes it
	// when jpeg_read_header returns: later APP14 markers do not change it.
	cs colorSpace
	// seen[i] records that a scan carried component i.
	seen [maxComponents]bool
	// sample, when set, picks the pixels to return (DecodeSampled).
	sample func(width, height int) (xs, ys []int)

	ri    int // Restart Interval.
	nComp int

	// As per section 4.5, there are four modes of operation (selected by the
	// SOF? markers): sequential DCT, progressive DCT, lossless and
	// hierarchical, although this implementation does not support the latter
	// two non-DCT modes. Sequential DCT is further split into baseline and
	// extended, as per section 4.11.
	baseline    bool
	progressive bool

	jfif                bool
	adobeTransformValid bool
	adobeTransform      uint8
	eobRun              uint16 // End-of-Band run, specified in section G.1.2.2.

	comp       [maxComponents]component
	progCoeffs [maxComponents][]coefBlock // Saved state between progressive-mode scans.
	huff       [maxTc + 1][maxTh + 1]huffman
	quant      [maxTq + 1]block // Quantization tables, in natural (not zig-zag) order.
	tmp        [2 * blockSize]byte
}

// readByte returns the next byte.
func (d *decoder) readByte() (byte, error) {
	if d.pos >= len(d.data) {
		return 0, io.ErrUnexpectedEOF
	}
	x := d.data[d.pos]
	d.pos++
	return x, nil
}

// readFull reads exactly len(p) bytes into p.
func (d *decoder) readFull(p []byte) error {
	if len(d.data)-d.pos < len(p) {
		d.pos = len(d.data)
		return io.ErrUnexpectedEOF
	}
	d.pos += copy(p, d.data[d.pos:])
	return nil
}

// ignore ignores the next n bytes.
func (d *decoder) ignore(n int) error {
	if len(d.data)-d.pos < n {
		d.pos = len(d.data)
		return io.ErrUnexpectedEOF
	}
	d.pos += n
	return nil
}

// Specified in section B.2.2.
func (d *decoder) processSOF(n int) error {
	if d.nComp != 0 {
		return FormatError("multiple SOF markers")
	}
	switch n {
	case 6 + 3*1: // Grayscale image.
		d.nComp = 1
	case 6 + 3*3: // YCbCr or RGB image.
		d.nComp = 3
	case 6 + 3*4: // YCbCrK or CMYK image.
		d.nComp = 4
	default:
		return UnsupportedError("number of components")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	// We only support 8-bit precision.
	if d.tmp[0] != 8 {
		return UnsupportedError("precision")
	}
	d.height = int(d.tmp[1])<<8 + int(d.tmp[2])
	d.width = int(d.tmp[3])<<8 + int(d.tmp[4])
	if int(d.tmp[5]) != d.nComp {
		return FormatError("SOF has wrong length")
	}

	for i := 0; i < d.nComp; i++ {
		d.comp[i].c = d.tmp[6+3*i]
		// Section B.2.2 states that "the value of C_i shall be different from
		// the values of C_1 through C_(i-1)".
		for j := 0; j < i; j++ {
			if d.comp[i].c == d.comp[j].c {
				return FormatError("repeated component identifier")
			}
		}

		d.comp[i].tq = d.tmp[8+3*i]
		if d.comp[i].tq > maxTq {
			return FormatError("bad Tq value")
		}

		hv := d.tmp[7+3*i]
		h, v := int(hv>>4), int(hv&0x0f)
		if h < 1 || 4 < h || v < 1 || 4 < v {
			return FormatError("luma/chroma subsampling ratio")
		}
		if d.nComp == 1 {
			// If a JPEG image has only one component, section A.2 says "this data
			// is non-interleaved by definition" and section A.2.2 says "[in this
			// case...] the order of data units within a scan shall be left-to-right
			// and top-to-bottom... regardless of the values of H_1 and V_1". The
			// component's (h, v) is effectively always (1, 1), as in libjpeg.
			h, v = 1, 1
		}
		d.comp[i].h = h
		d.comp[i].v = v
	}
	if d.width == 0 || d.height == 0 {
		// A zero height announces a DNL marker, which libjpeg-turbo does
		// not support either.
		return UnsupportedError("image dimension zero")
	}
	return d.deriveSizes()
}

// deriveSizes computes the MCU grid and each component's extent, as
// libjpeg's jdinput.c initial_setup and per_scan_setup do. Like libjpeg,
// it accepts any sampling factors that divide the largest ones (libjpeg's
// upsampler rejects the others with JERR_FRACT_SAMPLE_NOTIMPL).
func (d *decoder) deriveSizes() error {
	d.hMax, d.vMax = 1, 1
	for _, c := range d.comp[:d.nComp] {
		d.hMax, d.vMax = max(d.hMax, c.h), max(d.vMax, c.v)
	}
	for i := range d.comp[:d.nComp] {
		c := &d.comp[i]
		if d.hMax%c.h != 0 || d.vMax%c.v != 0 {
			return errUnsupportedSubsamplingRatio
		}
		c.dw = ceilDiv(d.width*c.h, d.hMax)
		c.dh = ceilDiv(d.height*c.v, d.vMax)
		c.bw = ceilDiv(c.dw, 8)
		c.bh = ceilDiv(c.dh, 8)
	}
	d.mxx = ceilDiv(d.width, 8*d.hMax)
	d.myy = ceilDiv(d.height, 8*d.vMax)
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Specified in section B.2.4.1.
func (d *decoder) processDQT(n int) error {
loop:
	for n > 0 {
		n--
		x, err := d.readByte()
		if err != nil {
			return err
		}
		tq := x & 0x0f
		if tq > maxTq {
			return FormatError("bad Tq value")
		}
		switch x >> 4 {
		default:
			return FormatError("bad Pq value")
		case 0:
			if n < blockSize {
				break loop
			}
			n -= blockSize
			if err := d.readFull(d.tmp[:blockSize]); err != nil {
				return err
			}
			for i := range d.quant[tq] {
				d.quant[tq][unzig[i]] = int32(d.tmp[i])
			}
		case 1:
			if n < 2*blockSize {
				break loop
			}
			n -= 2 * blockSize
			if err := d.readFull(d.tmp[:2*blockSize]); err != nil {
				return err
			}
			for i := range d.quant[tq] {
				d.quant[tq][unzig[i]] = int32(d.tmp[2*i])<<8 | int32(d.tmp[2*i+1])
			}
		}
	}
	if n != 0 {
		return FormatError("DQT has wrong length")
	}
	return nil
}

// Specified in section B.2.4.4.
func (d *decoder) processDRI(n int) error {
	if n != 2 {
		return FormatError("DRI has wrong length")
	}
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	}
	d.ri = int(d.tmp[0])<<8 + int(d.tmp[1])
	return nil
}

func (d *decoder) processApp0Marker(n int) error {
	if n < 5 {
		return d.ignore(n)
	}
	if err := d.readFull(d.tmp[:5]); err != nil {
		return err
	}
	n -= 5

	d.jfif = d.tmp[0] == 'J' && d.tmp[1] == 'F' && d.tmp[2] == 'I' && d.tmp[3] == 'F' && d.tmp[4] == '\x00'

	if n > 0 {
		return d.ignore(n)
	}
	return nil
}

func (d *decoder) processApp14Marker(n int) error {
	if n < 12 {
		return d.ignore(n)
	}
	if err := d.readFull(d.tmp[:12]); err != nil {
		return err
	}
	n -= 12

	if d.tmp[0] == 'A' && d.tmp[1] == 'd' && d.tmp[2] == 'o' && d.tmp[3] == 'b' && d.tmp[4] == 'e' {
		d.adobeTransformValid = true
		d.adobeTransform = d.tmp[11]
	}

	if n > 0 {
		return d.ignore(n)
	}
	return nil
}

// decode decodes the JPEG image in data.
func (d *decoder) decode(data []byte, configOnly bool) (img image.Image, err error) {
	d.data = data
	defer func() {
		if err != nil {
			// Decoded samples of a failed decode are cleared too.
			d.wipePlanes()
			for i := range d.progCoeffs {
				clear(d.progCoeffs[i])
				d.progCoeffs[i] = nil
			}
		}
	}()

	// Check for the Start Of Image marker.
	if err := d.readFull(d.tmp[:2]); err != nil {
		return nil, err
	}
	if d.tmp[0] != 0xff || d.tmp[1] != soiMarker {
		return nil, FormatError("missing SOI marker")
	}

	// Process the remaining segments until the End Of Image marker.
	for {
		err := d.readFull(d.tmp[:2])
		if err != nil {
			return nil, err
		}
		for d.tmp[0] != 0xff {
			// Strictly speaking, this is a format error. However, libjpeg is
			// liberal in what it accepts. As of version 9, next_marker in
			// jdmarker.c treats this as a warning (JWRN_EXTRANEOUS_DATA) and
			// continues to decode the stream. Even before next_marker sees
			// extraneous data, jpeg_fill_bit_buffer in jdhuff.c reads as many
			// bytes as it can, possibly past the end of a scan's data. It
			// effectively puts back any markers that it overscanned (e.g. an
			// "\xff\xd9" EOI marker), but it does not put back non-marker data,
			// and thus it can silently ignore a small number of extraneous
			// non-marker bytes before next_marker has a chance to see them (and
			// print a warning).
			//
			// We are therefore also liberal in what we accept. Extraneous data
			// is silently ignored.
			//
			// This is similar to, but not exactly the same as, the restart
			// mechanism within a scan (the RST[0-7] markers).
			//
			// Note that extraneous 0xff bytes in e.g. SOS data are escaped as
			// "\xff\x00", and so are detected a little further down below.
			d.tmp[0] = d.tmp[1]
			d.tmp[1], err = d.readByte()
			if err != nil {
				return nil, err
			}
		}
		marker := d.tmp[1]
		if marker == 0 {
			// Treat "\xff\x00" as extraneous data.
			continue
		}
		for marker == 0xff {
			// Section B.1.1.2 says, "Any marker may optionally be preceded by any
			// number of fill bytes, which are bytes assigned code X'FF'".
			marker, err = d.readByte()
			if err != nil {
				return nil, err
			}
		}
		if marker == eoiMarker { // End Of Image.
			break
		}
		if rst0Marker <= marker && marker <= rst7Marker {
			// Figures B.2 and B.16 of the specification suggest that restart markers should
			// only occur between Entropy Coded Segments and not after the final ECS.
			// However, some encoders may generate incorrect JPEGs with a final restart
			// marker. That restart marker will be seen here instead of inside the processSOS
			// method, and is ignored as a harmless error. Restart markers have no extra data,
			// so we check for this before we read the 16-bit length of the segment.
			continue
		}

		// Read the 16-bit length of the segment. The value includes the 2 bytes for the
		// length itself, so we subtract 2 to get the number of remaining bytes.
		if err = d.readFull(d.tmp[:2]); err != nil {
			return nil, err
		}
		n := int(d.tmp[0])<<8 + int(d.tmp[1]) - 2
		if n < 0 {
			return nil, FormatError("short segment length")
		}

		switch marker {
		case sof0Marker, sof1Marker, sof2Marker:
			d.baseline = marker == sof0Marker
			d.progressive = marker == sof2Marker
			err = d.processSOF(n)
			if configOnly && d.jfif {
				return nil, err
			}
		case dhtMarker:
			if configOnly {
				err = d.ignore(n)
			} else {
				err = d.processDHT(n)
			}
		case dqtMarker:
			if configOnly {
				err = d.ignore(n)
			} else {
				err = d.processDQT(n)
			}
		case sosMarker:
			if configOnly {
				return nil, nil
			}
			err = d.processSOS(n)
		case driMarker:
			if configOnly {
				err = d.ignore(n)
			} else {
				err = d.processDRI(n)
			}
		case app0Marker:
			err = d.processApp0Marker(n)
		case app14Marker:
			err = d.processApp14Marker(n)
		default:
			if app0Marker <= marker && marker <= app15Marker || marker == comMarker {
				err = d.ignore(n)
			} else if marker < 0xc0 { // See Table B.1 "Marker code assignments".
				err = FormatError("unknown marker")
			} else {
				err = UnsupportedError("unknown marker")
			}
		}
		if err != nil {
			return nil, err
		}
	}

	if d.nComp == 0 {
		return nil, FormatError("missing SOF marker")
	}
	if d.planes[0] == nil {
		return nil, FormatError("missing SOS marker")
	}
	if d.progressive {
		if err := d.reconstructProgressiveImage(); err != nil {
			return nil, err
		}
	}
	for i := range d.nComp {
		if !d.seen[i] && !d.progressive {
			// No scan carried this component: libjpeg's coefficient
			// buffer starts zeroed, which decodes to mid-grey.
			for k := range d.planes[i] {
				d.planes[i][k] = 128
			}
		}
	}
	var xs, ys []int
	if d.sample != nil {
		xs, ys = d.sample(d.width, d.height)
		if len(xs) == 0 || len(ys) == 0 || !inRange(xs, d.width) || !inRange(ys, d.height) {
			d.wipePlanes()
			return nil, errBadSample
		}
	}
	return d.output(xs, ys), nil
}

// colorSpace is the JPEG colour space as libjpeg-turbo's jdapimin.c
// default_decompress_parms guesses it: JFIF first, then the Adobe APP14
// transform, then the component identifiers.
func (d *decoder) colorSpace() colorSpace {
	switch d.nComp {
	case 1:
		return csGray
	case 3:
		switch {
		case d.jfif:
			return csYCbCr
		case d.adobeTransformValid:
			if d.adobeTransform == adobeTransformUnknown {
				return csRGB
			}
			return csYCbCr
		case d.comp[0].c == 'R' && d.comp[1].c == 'G' && d.comp[2].c == 'B':
			return csRGB
		}
		return csYCbCr
	}
	if d.adobeTransformValid && d.adobeTransform != adobeTransformUnknown {
		return csYCCK
	}
	return csCMYK
}
