package alliance_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"alliance"
)

// FuzzLoadCapabilities feeds arbitrary files to the capability-list
// loader (--capabilities-file): it must refuse or accept, never panic, and
// what it accepts must satisfy its own rules.
func FuzzLoadCapabilities(f *testing.F) {
	good, _ := json.Marshal(alliance.MNRCapabilities)
	f.Add(good)
	f.Add([]byte(`[{"code":"A-1","domain":"D","name":"N"}]`))
	f.Add([]byte(`[{"code":"A","name":"x"},{"code":"A","name":"y"}]`))
	f.Add([]byte("[\"\xff\x00\"]"))
	f.Add(bytes.Repeat([]byte("["), 10000))
	f.Fuzz(func(t *testing.T, data []byte) {
		caps, err := alliance.LoadCapabilities(bytes.NewReader(data))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		if len(caps) == 0 || len(caps) > 200 {
			t.Fatalf("accepted %d capabilities", len(caps))
		}
		for _, c := range caps {
			if c.Code == "" || seen[c.Code] || c.Name == "" {
				t.Fatalf("accepted %+v", caps)
			}
			seen[c.Code] = true
		}
	})
}

// FuzzParsePeriod checks that a period, when accepted, is a year or a
// quarter that prints back as itself.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026", "2026-Q3", "2026-Q0", "99999", "2026-q1", " 2026 ", "2026-Q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := alliance.ParsePeriod(s)
		if err != nil {
			return
		}
		if !p.From.Before(p.To) {
			t.Fatalf("%q: empty period %+v", s, p)
		}
		q, err := alliance.ParsePeriod(p.Label)
		if err != nil || q != p {
			t.Fatalf("%q: label %q does not parse back (%v)", s, p.Label, err)
		}
	})
}
