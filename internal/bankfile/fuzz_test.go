package bankfile

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// fuzzRead reads data in format f; whatever it reads must be valid and
// must come back unchanged through the writer and reader of f.
func fuzzRead(t *testing.T, f Format, data []byte) {
	r, _ := NewReader(bytes.NewReader(data), f)
	var got []Entry
	complete := true
	for e, err := range All(r) {
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			complete = false
			break
		}
		v := e
		if err := Validate(&v); err != nil || !reflect.DeepEqual(v, e) {
			t.Fatalf("reader yielded an invalid entry %+v: %v", e, err)
		}
		e.Line = 0
		got = append(got, e)
		if len(got) > 1000 {
			complete = false
			break
		}
	}
	if f == VICS && complete && !json.Valid(bytes.TrimPrefix(data, []byte("\ufeff"))) {
		t.Fatalf("read %d entries without an error from invalid JSON", len(got))
	}
	if len(got) == 0 {
		return
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, f)
	for _, e := range got {
		if err := w.Write(e); err != nil {
			t.Fatalf("writing %+v: %v", e, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r2, _ := NewReader(&buf, f)
	again, err := readAll(t, r2)
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, buf.String())
	}
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", again, got)
	}
}

// seeds adds generated files of format f (and some damaged ones).
func seeds(f *testing.F, format Format) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, format)
	for _, e := range genEntries(3, 6) {
		w.Write(e)
	}
	w.Close()
	good := buf.Bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(append([]byte("\ufeff"), good...))
	f.Add(bytes.ToUpper(good))
}

func FuzzVICS(f *testing.F) {
	seeds(f, VICS)
	f.Add([]byte(`{"odata.metadata":"x#Cases","value":[{"CaseID":1,"Media":[{"MD5":"` + strings.Repeat("A", 32) + `","VictimIdentified":"1","Category":3}]}]}`))
	f.Add([]byte(`{"value":[{"Media":{"a":[]},"SHA1":"` + strings.Repeat("0", 40) + `"}]}`))
	f.Add([]byte(`{"value":[{"AlternativeHashes":[{"HashName":"SHA-256","HashValue":"` + strings.Repeat("0", 64) + `"},{"HashName":"PhotoDNA","HashValue":"AA"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, VICS, data) })
}

func FuzzCSV(f *testing.F) {
	seeds(f, CSV)
	f.Add([]byte("value,algorithm,victim_identified\n\"" + strings.Repeat("b", 64) + "\",PDQ,TRUE\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, CSV, data) })
}

func FuzzHMA(f *testing.F) {
	seeds(f, HMA)
	f.Add([]byte("# c\n" + strings.Repeat("c", 64) + "\nmd5 " + strings.Repeat("d", 32) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, HMA, data) })
}
