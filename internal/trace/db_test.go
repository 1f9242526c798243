package trace

import (
	"bytes"
	"compress/gzip"
	"net/netip"
	"strings"
	"testing"

	"alliance/data/ipdb"
)

// defaultDB opens the bundled data once per test binary.
func defaultDB(tb testing.TB) *DB {
	tb.Helper()
	db, err := Default()
	if err != nil {
		tb.Fatalf("Default: %v", err)
	}
	return db
}

func TestBundledSource(t *testing.T) {
	src, err := ipdb.Sources()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []ipdb.File{src.Country, src.ASN} {
		if f.Package == "" || f.Version == "" || f.Licence != "CC BY 4.0" || len(f.Built) != len("2006-01-02") || len(f.SHA256) != 64 {
			t.Errorf("incomplete SOURCE.json entry: %+v", f)
		}
		if strings.Contains(strings.ToLower(f.Package), "geolite") {
			t.Errorf("%s: GeoLite2 data may not be redistributed", f.Package)
		}
	}
	db := defaultDB(t)
	if db.DataDate() == "" || db.DataDate() > src.Country.Built || db.DataDate() > src.ASN.Built {
		t.Errorf("DataDate = %q, want the older of %s and %s", db.DataDate(), src.Country.Built, src.ASN.Built)
	}
}

// TestExampleAddresses pins the example addresses (examples.go) to the
// bundled data. If a refresh moves one, pick another address that the new
// data places in that country, on a long-standing allocation.
func TestExampleAddresses(t *testing.T) {
	db := defaultDB(t)
	tests := []struct {
		addr    string
		country string
		asn     uint32
	}{
		{ExampleSE, "SE", 1653},
		{ExampleNL, "NL", 3333},
		{ExampleRU, "RU", 13238},
		{ExampleSE6, "SE", 1653},
		{ExampleNL6, "NL", 3333},
		{ExampleRU6, "RU", 13238},
		{"130.237.28.40", "SE", 1653},    // KTH, SUNET
		{"::ffff:193.0.0.1", "NL", 3333}, // mapped form of a RIPE NCC address
		{"10.1.2.3", "", 0},              // private: no data
		{"2001:db8::1", "", 0},           // documentation prefix: no data
		{"192.0.2.1", "", 0},             // TEST-NET-1: no data
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := db.Lookup(netip.MustParseAddr(tt.addr))
			if got.Country != tt.country || got.ASN != tt.asn {
				t.Errorf("Lookup = %+v, want country %q, AS%d", got, tt.country, tt.asn)
			}
			if tt.asn != 0 && got.ASOrg == "" {
				t.Errorf("no AS organisation for AS%d", tt.asn)
			}
			if got.DataDate != db.DataDate() || got.Override {
				t.Errorf("DataDate %q, Override %v", got.DataDate, got.Override)
			}
		})
	}
	if got := db.Lookup(netip.Addr{}); got.Country != "" || got.DataDate == "" {
		t.Errorf("Lookup(invalid) = %+v", got)
	}
}

func TestOverrides(t *testing.T) {
	db := defaultDB(t)
	n, err := db.LoadRanges(strings.NewReader(`cidr,country,asn,org
# Move RIPE NCC's /21 to Germany, and one /24 in it to Finland with its own AS.
193.0.0.0/21,DE,,
193.0.6.0/24,FI,64500,Example Oy
193.0.6.139/32,,64501,
# Only the AS of a Swedish /16.
192.36.0.0/16,,64502,"Example, AB"
2001:67c:2e8::/48,SE,,
10.0.0.0/8,SE,64503,Example Private
`))
	if err != nil || n != 6 {
		t.Fatalf("LoadRanges = %d, %v", n, err)
	}
	tests := []struct {
		addr    string
		country string
		asn     uint32
		org     string
	}{
		{"193.0.0.1", "DE", 3333, "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"},
		{"193.0.6.1", "FI", 64500, "Example Oy"},
		{ExampleNL, "NL", 64501, ""}, // /32 wins; it sets only the AS, so the country is the bundled one
		{ExampleSE, "SE", 64502, "Example, AB"},
		{ExampleNL6, "SE", 3333, "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"},
		{"10.9.9.9", "SE", 64503, "Example Private"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := db.Lookup(netip.MustParseAddr(tt.addr))
			want := Info{Country: tt.country, ASN: tt.asn, ASOrg: tt.org, DataDate: db.DataDate(), Override: true}
			if got != want {
				t.Errorf("Lookup = %+v\nwant     %+v", got, want)
			}
		})
	}
	if got := db.Lookup(netip.MustParseAddr(ExampleRU)); got.Override || got.Country != "RU" {
		t.Errorf("untouched address: %+v", got)
	}
	// Another DB over the same bundled data does not see these overrides.
	if other := defaultDB(t); other.Lookup(netip.MustParseAddr("193.0.6.1")).Country != "NL" || other.Ranges() != 0 {
		t.Error("overrides leaked into another DB")
	}
	// A bad file leaves the loaded set alone.
	if _, err := db.LoadRanges(strings.NewReader("193.0.0.0/21,XX\n")); err == nil {
		t.Fatal("LoadRanges accepted a bad country")
	}
	if db.Ranges() != 6 {
		t.Errorf("Ranges = %d after a failed load, want 6", db.Ranges())
	}
}

func TestOpenASNCSV(t *testing.T) {
	csv := "first,last,asn,org\n" +
		"192.0.2.0,192.0.2.255,64500,\"Example, \"\"One\"\"\"\n" +
		"198.51.100.0,198.51.100.127,64501,Example Two\n" +
		"198.51.100.64,198.51.100.255,64502,Example Three\n" + // overlaps the row before
		"2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64503,Example Six\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv))
	zw.Close()
	tests := []struct{ addr, org string }{
		{"192.0.2.9", `Example, "One"`},
		{"198.51.100.63", "Example Two"},
		{"198.51.100.64", "Example Three"},
		{"198.51.100.255", "Example Three"},
		{"198.51.101.0", ""},
		{"192.0.1.255", ""},
		{"2001:db8::1", "Example Six"},
		{"2001:db9::", ""},
	}
	for name, data := range map[string][]byte{"plain": []byte(csv), "gzip": gz.Bytes()} {
		db, err := Open(nil, data, "2001-02-03")
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		for _, tt := range tests {
			if got := db.Lookup(netip.MustParseAddr(tt.addr)); got.ASOrg != tt.org || got.DataDate != "2001-02-03" || got.Country != "" {
				t.Errorf("%s: Lookup(%s) = %+v, want org %q", name, tt.addr, got, tt.org)
			}
		}
	}
	for _, bad := range []string{
		"192.0.2.0,192.0.2.255,64500,A\n192.0.2.300,192.0.3.0,1,B\n",
		"192.0.2.9,192.0.2.0,1,Backwards\n",
		"192.0.2.0,2001:db8::,1,Mixed\n",
	} {
		if _, err := Open(nil, []byte(bad), ""); err == nil {
			t.Errorf("Open accepted %q", bad)
		}
	}
	if _, err := Open([]byte("not an mmdb"), nil, ""); err == nil {
		t.Error("Open accepted a bad country database")
	}
}

// BenchmarkLookup measures one IP → country + ASN lookup on the bundled data,
// with a handful of operator overrides loaded.
func BenchmarkLookup(b *testing.B) {
	db := defaultDB(b)
	if _, err := db.LoadRanges(strings.NewReader("193.0.0.0/21,DE\n193.0.6.0/24,FI\n2001:67c::/32,SE\n")); err != nil {
		b.Fatal(err)
	}
	addrs := []netip.Addr{
		netip.MustParseAddr(ExampleSE), netip.MustParseAddr(ExampleNL), netip.MustParseAddr(ExampleRU),
		netip.MustParseAddr(ExampleSE6), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("1.1.1.1"),
		netip.MustParseAddr("2a00:1450:4001::1"), netip.MustParseAddr("104.16.0.1"),
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if db.Lookup(addrs[i%len(addrs)]).DataDate == "" {
			b.Fatal("no data date")
		}
	}
}
