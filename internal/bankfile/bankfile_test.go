package bankfile

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// genHex returns n random bytes from rng in hex.
func genHex(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

// genEntries returns n generated entries with assorted metadata.
func genEntries(seed uint64, n int) []Entry {
	rng := rand.New(rand.NewPCG(seed, 1))
	algs := []string{MD5, SHA1, SHA256, PDQ}
	width := map[string]int{MD5: 16, SHA1: 20, SHA256: 32, PDQ: 32}
	var out []Entry
	for i := range n {
		a := algs[rng.IntN(len(algs))]
		e := Entry{Algorithm: a, Value: genHex(rng, width[a])}
		if a == PDQ {
			e.Profile = "hma"
		}
		if i%3 != 0 {
			e.Category, e.CategoryScheme = fmt.Sprint(rng.IntN(5)), SchemeVICS
		}
		if i%4 == 1 {
			e.Series = fmt.Sprintf("series-%d", rng.IntN(100))
		}
		if i%5 == 2 {
			e.VictimIdentified = ptr(i%2 == 0)
		}
		out = append(out, e)
	}
	return out
}

func readAll(t testing.TB, r Reader) ([]Entry, error) {
	t.Helper()
	var out []Entry
	for e, err := range All(r) {
		if err != nil {
			return out, err
		}
		e.Line = 0
		out = append(out, e)
	}
	return out, nil
}

func write(t *testing.T, f Format, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	entries := genEntries(1, 500)
	hmaOnly := func(es []Entry) []Entry {
		var out []Entry
		for _, e := range es {
			out = append(out, Entry{Algorithm: e.Algorithm, Value: e.Value, Profile: e.Profile})
		}
		return out
	}
	for _, tc := range []struct {
		f    Format
		want []Entry
	}{
		{CSV, entries},
		{VICS, entries},
		{HMA, hmaOnly(entries)},
	} {
		t.Run(string(tc.f), func(t *testing.T) {
			b := write(t, tc.f, entries)
			br := bufio.NewReader(bytes.NewReader(b))
			f, err := Detect(br)
			if err != nil || f != tc.f {
				t.Fatalf("Detect = %q, %v; want %q", f, err, tc.f)
			}
			r, _ := NewReader(br, f)
			got, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("round trip differs: got %d entries, want %d; first got %+v want %+v", len(got), len(tc.want), got[0], tc.want[0])
			}
		})
	}
}

func TestVICSShapes(t *testing.T) {
	md5a, sha1a := strings.Repeat("ab", 16), strings.Repeat("cd", 20)
	pdqa := strings.Repeat("0f", 32)
	yes, no := true, false
	want := []Entry{
		{Algorithm: MD5, Value: md5a, Category: "2", CategoryScheme: SchemeVICS, Series: "s1", VictimIdentified: &yes},
		{Algorithm: SHA1, Value: sha1a, Category: "2", CategoryScheme: SchemeVICS, Series: "s1", VictimIdentified: &yes},
		{Algorithm: PDQ, Value: pdqa, Profile: "hma", Category: "2", CategoryScheme: SchemeVICS, Series: "s1", VictimIdentified: &yes},
		{Algorithm: MD5, Value: strings.Repeat("12", 16), Category: "0", CategoryScheme: SchemeVICS, VictimIdentified: &no},
	}
	up := strings.ToUpper
	media := fmt.Sprintf(`[{"MediaID":1,"Category":2,"MD5":"%s","SHA1":"%s","PDQ":"%s","Series":"s1","VictimIdentified":"true","Extra":{"a":[1,2,{"b":null}]}},
		{"MediaID":2,"Category":"0","md5":"%s","PhotoDNA":"AAAA","victimidentified":false}]`, up(md5a), sha1a, up(pdqa), strings.Repeat("12", 16))
	for name, doc := range map[string]string{
		"1.x media":   `{"odata.metadata":"http://example.test/$metadata#Media","value":` + media + `}`,
		"2.0 media":   "\ufeff" + `{"@odata.context":"http://example.test/$metadata#Media","value":` + media + `}`,
		"2.0 cases":   `{"@odata.context":"http://example.test/$metadata#Cases","value":[{"CaseID":7,"Name":"c","Media":` + media + `,"After":[1]},{"CaseID":8,"Media":[]}]}`,
		"split cases": `{"value":[{"CaseID":7,"Media":` + strings.Replace(media, "},\n", "}]},{\"CaseID\":9,\"Media\":[", 1) + `}],"@odata.context":"x#Cases"}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := readAll(t, NewVICSReader(strings.NewReader(doc)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestVICSHashSpellings(t *testing.T) {
	md5a, sha256a, sha256b := strings.Repeat("ab", 16), strings.Repeat("5a", 32), strings.Repeat("a5", 32)
	pdqa := strings.Repeat("0f", 32)
	// VICS 2.0 puts hashes beyond MD5 and SHA1 in AlternativeHashes, as
	// {"HashName", "HashValue"}; a field of the record wins over it.
	doc := `{"@odata.context":"x#Media","value":[
		{"MD5":"` + md5a + `","AlternativeHashes":[{"HashName":"PhotoDNA","HashValue":"AAAA"},
			{"HashName":"SHA-256","HashValue":"` + sha256a + `","Extra":[1]},{"HashName":"pdq","HashValue":" ` + pdqa + ` "},
			{"HashName":"Other","HashValue":"x"},{"HashName":"SHA1","HashValue":""}],"Category":1},
		{"Sha_256":"` + sha256b + `","AlternativeHashes":[{"HashName":"SHA256","HashValue":"` + sha256a + `"}]},
		{"AlternativeHashes":[{"HashName":"PhotoDNA","HashValue":"AAAA"}]},
		{"AlternativeHashes":null,"SHA-256":"` + sha256a + `"}]}`
	want := []Entry{
		{Algorithm: MD5, Value: md5a, Category: "1", CategoryScheme: SchemeVICS},
		{Algorithm: SHA256, Value: sha256a, Category: "1", CategoryScheme: SchemeVICS},
		{Algorithm: PDQ, Value: pdqa, Profile: "hma", Category: "1", CategoryScheme: SchemeVICS},
		{Algorithm: SHA256, Value: sha256b},
		{Algorithm: SHA256, Value: sha256a},
	}
	got, err := readAll(t, NewVICSReader(strings.NewReader(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// Export keeps one spelling: "SHA256" as a field of the record.
	if b := write(t, VICS, want[3:4]); !strings.Contains(string(b), `"SHA256":"`+strings.ToUpper(sha256b)+`"`) {
		t.Errorf("export wrote %s", b)
	}
}

func TestErrors(t *testing.T) {
	md5a := strings.Repeat("ab", 16)
	for _, tc := range []struct {
		name string
		f    Format
		in   string
		want string
	}{
		{"vics not json object", VICS, `[1,2]`, "not a VICS file: it is not a JSON object"},
		{"vics no value", VICS, `{"a":1}`, `no "value" array`},
		{"vics empty", VICS, ``, "empty"},
		{"vics bad md5", VICS, `{"value":[{"MD5":"` + md5a + `"},{"MD5":"xyz"}]}`, `record 2: MD5 "xyz" is not 32 hex digits`},
		{"vics truncated", VICS, `{"value":[{"MD5":"` + md5a + `"},{"MD5":"`, "record 2: the file ends"},
		{"vics truncated after a record", VICS, `{"value":[{"MD5":"` + md5a + `"},`, "record 1: the file ends"},
		{"vics truncated before value", VICS, `{"@odata.context":"x"`, "the file ends"},
		{"vics truncated in array", VICS, `{"value":[`, "the file ends"},
		{"vics no hashes", VICS, `{"value":[{"Name":"x"}]}`, "record 1: no MD5"},
		{"vics bad bool", VICS, `{"value":[{"MD5":"` + md5a + `","VictimIdentified":"maybe"}]}`, "record 1: VictimIdentified"},
		{"vics deep", VICS, `{"value":[{"MD5":"` + md5a + `","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}]}`, "nested deeper"},
		{"vics huge string", VICS, `{"value":[{"MD5":"` + strings.Repeat("a", 2<<20) + `"}]}`, "longer than"},
		{"vics alternative hashes not a list", VICS, `{"value":[{"MD5":"` + md5a + `","AlternativeHashes":{}}]}`, "record 1: AlternativeHashes is not a list"},
		{"vics alternative hash not an object", VICS, `{"value":[{"MD5":"` + md5a + `","AlternativeHashes":[1]}]}`, "record 1: an element of AlternativeHashes"},
		{"vics alternative hash value", VICS, `{"value":[{"AlternativeHashes":[{"HashName":"MD5","HashValue":5}]}]}`, "record 1: AlternativeHashes HashValue is not a string"},
		{"vics bad alternative md5", VICS, `{"value":[{"AlternativeHashes":[{"HashName":"MD5","HashValue":"xyz"}]}]}`, `record 1: MD5 "xyz"`},
		{"vics trailing", VICS, `{"value":[]} {}`, "data after the end"},
		{"csv no header", CSV, ``, "needs a header"},
		{"csv unknown column", CSV, "algorithm,value,colour\n", `line 1: unknown column "colour"`},
		{"csv missing value col", CSV, "algorithm,series\n", "needs the columns algorithm and value"},
		{"csv field count", CSV, "algorithm,value\nmd5," + md5a + "\nmd5\n", "line 3: the number of fields"},
		{"csv bad alg", CSV, "algorithm,value\nmd5," + md5a + "\nsha3," + md5a + "\n", `line 3: unknown algorithm "sha3"`},
		{"csv short sha1", CSV, "algorithm,value\nsha1," + md5a + "\n", "line 2: SHA-1"},
		{"csv profile on md5", CSV, "algorithm,value,profile\nmd5," + md5a + ",hma\n", "only for pdq"},
		{"csv bad bool", CSV, "algorithm,value,victim_identified\nmd5," + md5a + ",perhaps\n", "line 2: victim_identified"},
		{"csv huge line", CSV, "algorithm,value\nmd5," + strings.Repeat("a", 2<<20) + "\n", "longer than"},
		{"hma bad hex", HMA, "# c\n\npdq " + strings.Repeat("g", 64) + "\n", `line 3: PDQ "ggg`},
		{"hma three fields", HMA, "pdq a b\n", "line 1:"},
		{"hma bare odd", HMA, "abc\n", "line 1:"},
		{"hma huge line", HMA, strings.Repeat("a", 2<<20), "line 1: longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := NewReader(strings.NewReader(tc.in), tc.f)
			_, err := readAll(t, r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if _, err2 := r.Next(); err2 == nil || err2 == io.EOF {
				t.Fatalf("Next after an error = %v, want the error again", err2)
			}
		})
	}
}

func TestHMA(t *testing.T) {
	pdqa, md5a := strings.Repeat("Ab", 32), strings.Repeat("cd", 16)
	in := "\ufeff# comment\npdq " + pdqa + "\n\n  " + pdqa + "  \nmd5 " + md5a + "\r\nSHA256 " + pdqa + "\n"
	got, err := readAll(t, NewHMAReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	lp := strings.ToLower(pdqa)
	want := []Entry{{Algorithm: PDQ, Value: lp, Profile: "hma"}, {Algorithm: PDQ, Value: lp, Profile: "hma"},
		{Algorithm: MD5, Value: md5a}, {Algorithm: SHA256, Value: lp}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v want %+v", got, want)
	}
}

func TestDetectAndParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"\ufeff  \n{\"value\":[]}":       VICS,
		"algorithm,value\n":              CSV,
		"\"Algorithm\",\"value\"\n":      CSV,
		"pdq " + strings.Repeat("a", 64): HMA,
		"# comment\n":                    HMA,
	} {
		f, err := Detect(bufio.NewReader(strings.NewReader(in)))
		if err != nil || f != want {
			t.Errorf("Detect(%.20q) = %q, %v; want %q", in, f, err, want)
		}
	}
	if _, err := Detect(bufio.NewReader(strings.NewReader(""))); err == nil {
		t.Error("Detect of an empty file: no error")
	}
	for _, s := range []string{"vics", "CSV", " hma "} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml): no error")
	}
}

// TestVICSConstantMemory reads a large generated VICS stream and checks
// the reader did not buffer it: allocation per record stays small.
func TestVICSConstantMemory(t *testing.T) {
	const n = 20000
	pr, pw := io.Pipe()
	go func() {
		w := NewVICSWriter(pw)
		for i, e := range genEntries(7, n) {
			e.Series = fmt.Sprint(i) // one record per entry
			w.Write(e)
		}
		pw.CloseWithError(w.Close())
	}()
	r := NewVICSReader(pr)
	count := 0
	for _, err := range All(r) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != n {
		t.Fatalf("read %d entries, want %d", count, n)
	}
	var g *guard = r.(*vicsReader).g
	if g.n > MaxRecordSize {
		t.Fatalf("guard saw %d bytes in one record", g.n)
	}
}

func TestWriterRejectsInvalid(t *testing.T) {
	for _, f := range []Format{VICS, CSV, HMA} {
		w, _ := NewWriter(io.Discard, f)
		err := w.Write(Entry{Algorithm: MD5, Value: "zz"})
		if err == nil {
			t.Errorf("%s: wrote an invalid entry", f)
		}
		var be *Error
		if errors.As(err, &be) {
			t.Errorf("%s: writer error has a line: %v", f, err)
		}
	}
}
