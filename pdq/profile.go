package pdq

import (
	"fmt"
	"strings"
)

// Profile names the pipeline that runs before the hash core, matching one
// of the reference implementations.
type Profile string

const (
	// ProfileHMA hashes at full resolution, as python-threatexchange, HMA
	// and the Java port do. It is the default.
	ProfileHMA Profile = "hma"
	// ProfileCPPCLI first resizes an image with a side over 512 pixels to
	// 512×512 with CImg's nearest-neighbour rule, as the reference C++
	// pdq-photo-hasher does.
	ProfileCPPCLI Profile = "cpp-cli"
)

// ParseProfile reads a profile name; the empty string means ProfileHMA.
// Case and surrounding space are ignored.
func ParseProfile(s string) (Profile, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", string(ProfileHMA):
		return ProfileHMA, nil
	case string(ProfileCPPCLI):
		return ProfileCPPCLI, nil
	}
	return "", fmt.Errorf("pdq: unknown profile %q (want %q or %q)", s, ProfileHMA, ProfileCPPCLI)
}

// String returns the profile name, "hma" for the zero value.
func (p Profile) String() string {
	if p == "" {
		return string(ProfileHMA)
	}
	return string(p)
}

func (p Profile) valid() bool {
	return p == "" || p == ProfileHMA || p == ProfileCPPCLI
}

// cliMaxSide is the C++ CLI's DOWNSAMPLE_DIMS: images with a side above it
// are resized to cliMaxSide×cliMaxSide before hashing.
const cliMaxSide = 512

// Sample16 says how 16-bit samples (image.Gray16, image.RGBA64,
// image.NRGBA64) become the 8-bit values the reference hashes. The
// reference only ever sees 8-bit pixels, so this choice is made by the
// decoder in front of it, and the reference stacks disagree.
type Sample16 int

const (
	// Sample16Profile does what the profile's reference stack does. For
	// ProfileHMA that is PIL as used by python-threatexchange: 16-bit grey
	// is clamped to 255 (mode I;16 → RGB), 16-bit colour keeps the high
	// byte (PIL's RGB;16B unpacker). For ProfileCPPCLI it is the low byte,
	// which is what ImageMagick's 16-bit PNM becomes in CImg<uint8_t>.
	Sample16Profile Sample16 = iota
	// Sample16Clamp255 uses min(v, 255) for every 16-bit sample.
	Sample16Clamp255
	// Sample16LowByte uses v & 0xff.
	Sample16LowByte
	// Sample16HighByte uses v >> 8, the usual rescaling to 8 bits.
	Sample16HighByte
)

// String names the mode.
func (s Sample16) String() string {
	switch s {
	case Sample16Profile:
		return "profile"
	case Sample16Clamp255:
		return "clamp255"
	case Sample16LowByte:
		return "lowbyte"
	case Sample16HighByte:
		return "highbyte"
	}
	return fmt.Sprintf("Sample16(%d)", int(s))
}

// ParseSample16 reads a 16-bit mode name: "profile" (or ""), "clamp255",
// "lowbyte" or "highbyte".
func ParseSample16(s string) (Sample16, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "profile":
		return Sample16Profile, nil
	case "clamp255":
		return Sample16Clamp255, nil
	case "lowbyte":
		return Sample16LowByte, nil
	case "highbyte":
		return Sample16HighByte, nil
	}
	return 0, fmt.Errorf("pdq: unknown 16-bit sample mode %q", s)
}

// Options tunes HashImage and DihedralImage. The zero value is the
// default: ProfileHMA and the profile's own 16-bit handling.
type Options struct {
	// Profile selects the pre-processing; "" means ProfileHMA.
	Profile Profile
	// Sample16 selects the reduction of 16-bit samples to 8 bits.
	Sample16 Sample16
}

func (o Options) check() error {
	if !o.Profile.valid() {
		return fmt.Errorf("pdq: unknown profile %q", string(o.Profile))
	}
	if o.Sample16 < Sample16Profile || o.Sample16 > Sample16HighByte {
		return fmt.Errorf("pdq: unknown 16-bit sample mode %d", int(o.Sample16))
	}
	return nil
}

// reduce16 returns the function that maps a 16-bit sample to 8 bits for
// grey (gray=true) or colour samples.
func (o Options) reduce16(gray bool) func(uint16) uint8 {
	mode := o.Sample16
	if mode == Sample16Profile {
		switch {
		case o.Profile == ProfileCPPCLI:
			mode = Sample16LowByte
		case gray:
			mode = Sample16Clamp255
		default:
			mode = Sample16HighByte
		}
	}
	switch mode {
	case Sample16Clamp255:
		return func(v uint16) uint8 { return uint8(min(v, 255)) }
	case Sample16LowByte:
		return func(v uint16) uint8 { return uint8(v) }
	default:
		return func(v uint16) uint8 { return uint8(v >> 8) }
	}
}
