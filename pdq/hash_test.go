package pdq

import (
	"encoding/json"
	"strings"
	"testing"
)

const bridgeHex = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"

func TestHashHexRoundTrip(t *testing.T) {
	tests := []string{
		bridgeHex,
		strings.Repeat("0", 64),
		strings.Repeat("f", 64),
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}
	for _, s := range tests {
		t.Run(s[:8], func(t *testing.T) {
			h, err := ParseHash(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.String(); got != s {
				t.Fatalf("round trip %s -> %s", s, got)
			}
			up, err := ParseHash(strings.ToUpper(s))
			if err != nil || up != h {
				t.Fatalf("upper case: %v, %v", up, err)
			}
			if HashFromWords(h.Words()) != h {
				t.Fatal("words round trip")
			}
		})
	}
}

func TestParseHashErrors(t *testing.T) {
	tests := []struct {
		name, in, msg string
	}{
		{"empty", "", "got 0 characters"},
		{"short", bridgeHex[:63], "got 63 characters"},
		{"long", bridgeHex + "0", "got 65 characters"},
		{"bad first digit", "g" + bridgeHex[1:], `invalid hex character 'g' at position 0`},
		{"bad second digit", "d" + "x" + bridgeHex[2:], `invalid hex character 'x' at position 1`},
		{"space", bridgeHex[:10] + " " + bridgeHex[11:], `' ' at position 10`},
		{"prefix", "0x" + bridgeHex[2:], `'x' at position 1`},
		{"multibyte", "é" + bridgeHex[2:], "position 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHash(tc.in)
			if err == nil {
				t.Fatal("want error")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestHashBitOrder pins the reference layout: bit k is bit k%16 of word
// k/16, and word 15 is printed first.
func TestHashBitOrder(t *testing.T) {
	tests := []struct {
		bit int
		hex string
	}{
		{0, strings.Repeat("0", 63) + "1"},
		{3, strings.Repeat("0", 63) + "8"},
		{8, strings.Repeat("0", 61) + "100"},
		{15, strings.Repeat("0", 60) + "8000"},
		{16, strings.Repeat("0", 59) + "10000"},
		{255, "8" + strings.Repeat("0", 63)},
	}
	for _, tc := range tests {
		var h Hash
		h.setBit(tc.bit)
		if h.String() != tc.hex {
			t.Errorf("bit %d: %s, want %s", tc.bit, h, tc.hex)
		}
		if !h.Bit(tc.bit) {
			t.Errorf("Bit(%d) false", tc.bit)
		}
		w := h.Words()
		if w[tc.bit/16] != 1<<(tc.bit%16) {
			t.Errorf("bit %d: words %x", tc.bit, w)
		}
	}
}

func TestDistance(t *testing.T) {
	a := mustParse(t, bridgeHex)
	tests := []struct {
		name string
		b    string
		want int
	}{
		{"same", bridgeHex, 0},
		{"one nibble", "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b23", 1},
		{"complement", "", 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b Hash
			switch tc.name {
			case "complement":
				for i := range a {
					b[i] = ^a[i]
				}
			default:
				b = mustParse(t, tc.b)
			}
			if got := a.Distance(b); got != tc.want {
				t.Fatalf("distance %d, want %d", got, tc.want)
			}
			if Distance(b, a) != tc.want {
				t.Fatal("not symmetric")
			}
		})
	}
}

func TestHashTextMarshal(t *testing.T) {
	h := mustParse(t, bridgeHex)
	b, err := json.Marshal(struct{ H Hash }{h})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"H":"`+bridgeHex+`"}` {
		t.Fatalf("json %s", b)
	}
	var back struct{ H Hash }
	if err := json.Unmarshal(b, &back); err != nil || back.H != h {
		t.Fatalf("unmarshal %v %v", back.H, err)
	}
	if err := json.Unmarshal([]byte(`{"H":"zz"}`), &back); err == nil {
		t.Fatal("bad hex accepted")
	}
	if !(Hash{}).IsZero() || h.IsZero() {
		t.Fatal("IsZero")
	}
}

func TestParseProfile(t *testing.T) {
	tests := []struct {
		in   string
		want Profile
		err  bool
	}{
		{"", ProfileHMA, false},
		{"hma", ProfileHMA, false},
		{" HMA ", ProfileHMA, false},
		{"cpp-cli", ProfileCPPCLI, false},
		{"CPP-CLI", ProfileCPPCLI, false},
		{"cli", "", true},
		{"pytx", "", true},
	}
	for _, tc := range tests {
		got, err := ParseProfile(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseProfile(%q) = %q, %v", tc.in, got, err)
		}
	}
	if Profile("").String() != "hma" || ProfileCPPCLI.String() != "cpp-cli" {
		t.Error("Profile.String")
	}
}

func TestParseSample16(t *testing.T) {
	for _, m := range []Sample16{Sample16Profile, Sample16Clamp255, Sample16LowByte, Sample16HighByte} {
		got, err := ParseSample16(m.String())
		if err != nil || got != m {
			t.Errorf("%v: %v %v", m, got, err)
		}
	}
	if _, err := ParseSample16("round"); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestTransformString(t *testing.T) {
	want := "orig rot90 rot180 rot270 flipx flipy flipp flipm"
	var names []string
	for tr := Original; tr <= FlipMinus1; tr++ {
		names = append(names, tr.String())
	}
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("%s", got)
	}
	if Transform(9).String() != "Transform(9)" {
		t.Fatal(Transform(9).String())
	}
}
