package federation

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	nl := testIdentity(t, "NL", 2)
	cases := []struct {
		name, kind, id, to, body string
	}{
		{"bank entry to all", "bank_entry", "bank_entry:SE-HOTLINE/known:123:v2", "", `{"sha256":"ab","category":"cat-a"}`},
		{"forward to one", "item_forward", "item_forward:42", nl.NodeID, `{"url":"https://example.com/a?b=1&c=<2>"}`},
		{"tombstone", "bank_tombstone", "bank_tombstone:SE-HOTLINE/known:123", "", `{}`},
		{"unicode and numbers", "series_status", "series_status:ÅÄÖ-1", "", `{"n":1e3,"s":"\u00e9\ud83d\ude00","list":[3,2,1]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := signedObject(t, se, c.kind, c.id, c.to, c.body)
			if o.Origin != se.NodeID {
				t.Errorf("Origin = %q, want %q", o.Origin, se.NodeID)
			}
			if want := testTime.Truncate(time.Microsecond); !o.Created.Equal(want) || o.Created.Location() != time.UTC {
				t.Errorf("Created = %v, want %v in UTC", o.Created, want)
			}
			if err := Verify(o, se.Public()); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Through the wire and back, as a receiver sees it.
			raw, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			var got Object
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if err := Verify(got, se.Public()); err != nil {
				t.Errorf("Verify after JSON round trip: %v\n%s", err, raw)
			}
			// The signature covers the instant, not its zone, and the
			// body's meaning, not its spacing.
			got.Created = got.Created.In(time.FixedZone("X", 2*3600))
			var indented json.RawMessage
			if b, err := json.MarshalIndent(json.RawMessage(got.Body), "", "  "); err == nil {
				indented = b
			}
			got.Body = indented
			if err := Verify(got, se.Public()); err != nil {
				t.Errorf("Verify with another zone and re-spaced body: %v", err)
			}
		})
	}
}

func TestVerifyTampered(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	nl := testIdentity(t, "NL", 2)
	de := testIdentity(t, "DE", 3)
	orig := signedObject(t, se, "bank_entry", "bank_entry:1", nl.NodeID, `{"sha256":"ab","n":1}`)
	cases := []struct {
		name   string
		change func(o *Object)
	}{
		{"body value", func(o *Object) { o.Body = json.RawMessage(`{"sha256":"ac","n":1}`) }},
		{"body number", func(o *Object) { o.Body = json.RawMessage(`{"sha256":"ab","n":2}`) }},
		{"body extra field", func(o *Object) { o.Body = json.RawMessage(`{"sha256":"ab","n":1,"x":true}`) }},
		{"kind", func(o *Object) { o.Kind = "bank_tombstone" }},
		{"id", func(o *Object) { o.ID = "bank_entry:2" }},
		{"to another", func(o *Object) { o.To = de.NodeID }},
		{"to everyone", func(o *Object) { o.To = "" }},
		{"created", func(o *Object) { o.Created = o.Created.Add(time.Microsecond) }},
		{"origin", func(o *Object) { o.Origin = de.NodeID }},
		{"signature missing", func(o *Object) { o.Signature = "" }},
		{"signature not base64", func(o *Object) { o.Signature = strings.Repeat("!", 86) }},
		{"signature padded", func(o *Object) { o.Signature += "==" }},
		{"signature flipped", func(o *Object) {
			b := []byte(o.Signature)
			if b[10] == 'A' {
				b[10] = 'B'
			} else {
				b[10] = 'A'
			}
			o.Signature = string(b)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := orig
			c.change(&o)
			err := Verify(o, se.Public())
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		if err := Verify(orig, nl.Public()); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Verify with another node's key = %v, want ErrBadSignature", err)
		}
	})
	t.Run("other node re-signs under origin's id", func(t *testing.T) {
		// A relay cannot pass off its own signature as the origin's.
		o := orig
		if err := Sign(&o, de); err != nil {
			t.Fatal(err)
		}
		o.Origin = se.NodeID
		if err := Verify(o, se.Public()); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Verify = %v, want ErrBadSignature", err)
		}
	})
	t.Run("malformed key", func(t *testing.T) {
		if err := Verify(orig, se.Public()[:31]); !errors.Is(err, ErrBadSignature) {
			t.Errorf("Verify with a 31-byte key = %v, want ErrBadSignature", err)
		}
	})
	if err := Verify(orig, se.Public()); err != nil {
		t.Fatalf("original no longer verifies (cases shared state): %v", err)
	}
}

func TestObjectLimits(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	bigBody := `{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	cases := []struct {
		name               string
		kind, id, to, body string
		created            time.Time
	}{
		{"empty kind", "", "a:1", "", `{}`, testTime},
		{"kind with upper case", "Bank_Entry", "a:1", "", `{}`, testTime},
		{"kind with space", "bank entry", "a:1", "", `{}`, testTime},
		{"long kind", strings.Repeat("k", MaxKindLen+1), "a:1", "", `{}`, testTime},
		{"empty id", "bank_entry", "", "", `{}`, testTime},
		{"long id", "bank_entry", strings.Repeat("i", MaxIDLen+1), "", `{}`, testTime},
		{"id with newline", "bank_entry", "a\n1", "", `{}`, testTime},
		{"id not utf-8", "bank_entry", "a\xff", "", `{}`, testTime},
		{"bad to", "bank_entry", "a:1", "NL", `{}`, testTime},
		{"zero created", "bank_entry", "a:1", "", `{}`, time.Time{}},
		{"empty body", "bank_entry", "a:1", "", ``, testTime},
		{"body not json", "bank_entry", "a:1", "", `{"a":`, testTime},
		{"body too big", "bank_entry", "a:1", "", bigBody, testTime},
		{"body duplicate keys", "bank_entry", "a:1", "", `{"a":1,"a":2}`, testTime},
		{"body lone surrogate", "bank_entry", "a:1", "", `{"a":"\ud800"}`, testTime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Object{Kind: c.kind, ID: c.id, To: c.to, Created: c.created, Body: json.RawMessage(c.body)}
			if err := Sign(&o, se); !errors.Is(err, ErrInvalidObject) {
				t.Errorf("Sign = %v, want ErrInvalidObject", err)
			}
			o.Origin = se.NodeID
			o.Signature = strings.Repeat("A", 86)
			if err := Verify(o, se.Public()); !errors.Is(err, ErrInvalidObject) {
				t.Errorf("Verify = %v, want ErrInvalidObject", err)
			}
		})
	}
	t.Run("limits are inclusive", func(t *testing.T) {
		body := `"` + strings.Repeat("x", MaxBodyBytes-2) + `"`
		o := signedObject(t, se, strings.Repeat("k", MaxKindLen), strings.Repeat("i", MaxIDLen), "", body)
		if err := Verify(o, se.Public()); err != nil {
			t.Errorf("Verify at the limits: %v", err)
		}
	})
}

func TestSignBadIdentity(t *testing.T) {
	se := testIdentity(t, "SE", 1)
	nl := testIdentity(t, "NL", 2)
	cases := map[string]Identity{
		"empty":             {},
		"short key":         {NodeID: se.NodeID, Private: se.Private[:10]},
		"mismatched id":     {NodeID: nl.NodeID, Country: "SE", Private: se.Private},
		"id not from a key": {NodeID: "SE-NODE", Country: "SE", Private: se.Private},
	}
	for name, id := range cases {
		t.Run(name, func(t *testing.T) {
			o := Object{Kind: "bank_entry", ID: "a:1", Created: testTime, Body: json.RawMessage(`{}`)}
			if err := Sign(&o, id); err == nil {
				t.Errorf("Sign succeeded with identity %q", id.NodeID)
			}
			if o.Signature != "" {
				t.Errorf("Signature set on failure: %q", o.Signature)
			}
		})
	}
}

// TestGoldenSignature pins the signed form: an object signed by an
// earlier build must keep verifying, or every stored feed object breaks.
// Ed25519 is deterministic, so signing again gives the same signature.
func TestGoldenSignature(t *testing.T) {
	const golden = `{"kind":"bank_entry","id":"bank_entry:SE-HOTLINE/known:123:v2","origin":"node-gr2q7gf5lh6pzfdnurnkvputhm","created":"2026-03-04T05:06:07.123456Z","body":{"sha256":"00ff","category":"cat-a","n":1e3},"sig":"Kf6Z+SArrx/KPOe0FhpNKejdeEgApkqKMUoruwZ31y0OlFlSZblHNw7FaFSbQKi0m9kN49OkmezFccL4GwpZBA"}`
	se := testIdentity(t, "SE", 1)
	var o Object
	if err := json.Unmarshal([]byte(golden), &o); err != nil {
		t.Fatal(err)
	}
	if err := Verify(o, se.Public()); err != nil {
		t.Fatalf("golden object no longer verifies: %v", err)
	}
	canon, err := SigningBytes(o)
	if err != nil {
		t.Fatal(err)
	}
	const wantCanon = `{"body":{"category":"cat-a","n":1000,"sha256":"00ff"},"created":"2026-03-04T05:06:07.123456Z","id":"bank_entry:SE-HOTLINE/known:123:v2","kind":"bank_entry","origin":"node-gr2q7gf5lh6pzfdnurnkvputhm"}`
	if string(canon) != wantCanon {
		t.Errorf("signing bytes\n got %s\nwant %s", canon, wantCanon)
	}
	again := signedObject(t, se, o.Kind, o.ID, o.To, string(o.Body))
	if again.Signature != o.Signature {
		t.Errorf("re-signing gives %s, want %s", again.Signature, o.Signature)
	}
}
