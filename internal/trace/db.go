package trace

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2"

	"alliance/data/ipdb"
)

// Info is what the data says about one address.
type Info struct {
	Country  string // ISO 3166-1 alpha-2, "" when unknown (private ranges, gaps in the data)
	ASN      uint32 // autonomous system number, 0 when unknown
	ASOrg    string // the AS's organisation name, "" when unknown
	DataDate string // build date of the data (YYYY-MM-DD), shown with every trace
	Override bool   // some of the answer came from an operator range
}

// DB maps IP addresses to country and autonomous system. It holds a country
// MMDB, an ASN source (MMDB or the ip-location-db CSV) and operator overrides.
// It is safe for concurrent use, LoadRanges included.
type DB struct {
	country   *maxminddb.Reader
	asnMMDB   *maxminddb.Reader
	asnTable  *asnTable
	date      string
	overrides atomic.Pointer[overrideTable]
	countries *countryCache
}

// countryCache maps an MMDB data-record offset to its decoded country code.
// A country database has a few hundred distinct records, so after warming up
// a lookup skips decoding; the cap keeps a city-sized database from growing it
// without bound.
type countryCache struct {
	m sync.Map // uintptr → string
	n atomic.Int32
}

const countryCacheMax = 4096

// Open returns a DB over a country database and an ASN database, either of
// which may be nil (its fields stay empty). country is an MMDB whose records
// hold "country_code" (ip-location-db) or "country"→"iso_code" (GeoIP2
// style). asn is an MMDB with "autonomous_system_number" and
// "autonomous_system_organization", or the ip-location-db ASN CSV
// ("first_ip,last_ip,asn,org", plain or gzipped). dataDate is the build date
// reported in every Info. The byte slices must not be modified afterwards.
func Open(country, asn []byte, dataDate string) (*DB, error) {
	db := &DB{date: dataDate, countries: &countryCache{}}
	if len(country) > 0 {
		r, err := maxminddb.OpenBytes(country)
		if err != nil {
			return nil, fmt.Errorf("trace: open country database: %w", err)
		}
		db.country = r
	}
	if len(asn) > 0 {
		if isMMDB(asn) {
			r, err := maxminddb.OpenBytes(asn)
			if err != nil {
				return nil, fmt.Errorf("trace: open asn database: %w", err)
			}
			db.asnMMDB = r
		} else {
			t, err := parseASNTable(asn)
			if err != nil {
				return nil, err
			}
			db.asnTable = t
		}
	}
	return db, nil
}

// mmdbMarker starts the metadata section at the end of every MMDB file.
var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

func isMMDB(b []byte) bool {
	tail := b
	if len(tail) > 128<<10 {
		tail = tail[len(tail)-128<<10:]
	}
	return bytes.Contains(tail, mmdbMarker)
}

var (
	bundledOnce sync.Once
	bundled     *DB
	bundledErr  error
)

// Default returns a DB over the data embedded in the binary (package
// alliance/data/ipdb): DB-IP Lite country and the ip-location-db ASN table.
// Its DataDate is the older of the two build dates. The bundled data is
// parsed once per process (about a second) and shared; each call returns a
// DB of its own, so overrides loaded into one do not leak into another.
func Default() (*DB, error) {
	bundledOnce.Do(func() {
		src, err := ipdb.Sources()
		if err != nil {
			bundledErr = err
			return
		}
		date := src.Country.Built
		if src.ASN.Built != "" && (date == "" || src.ASN.Built < date) {
			date = src.ASN.Built
		}
		bundled, bundledErr = Open(ipdb.Country(), ipdb.ASN(), date)
	})
	if bundledErr != nil {
		return nil, bundledErr
	}
	return &DB{country: bundled.country, asnMMDB: bundled.asnMMDB, asnTable: bundled.asnTable,
		date: bundled.date, countries: bundled.countries}, nil
}

// DataDate returns the build date of the data, as given to Open.
func (db *DB) DataDate() string { return db.date }

// LoadRanges parses an operator ranges file (see ParseRanges) and makes it the
// DB's override set, replacing any loaded before; on error the old set stays.
// It returns the number of ranges loaded.
func (db *DB) LoadRanges(r io.Reader) (int, error) {
	ranges, err := ParseRanges(r)
	if err != nil {
		return 0, err
	}
	db.SetRanges(ranges)
	return len(ranges), nil
}

// SetRanges makes ranges the DB's override set, replacing any set before.
// Where prefixes nest, the longest one holding an address wins; where a
// prefix appears twice, the later one wins. The DB keeps its own copy.
func (db *DB) SetRanges(ranges []Range) {
	own := make([]Range, len(ranges))
	copy(own, ranges)
	db.overrides.Store(newOverrideTable(own))
}

// Ranges returns the number of override ranges in use.
func (db *DB) Ranges() int {
	if t := db.overrides.Load(); t != nil {
		return t.rangeCount
	}
	return 0
}

// Lookup returns the country and AS of addr: the bundled data, with the
// fields an operator range sets (longest prefix) put over it. An invalid
// address gives an Info with only DataDate.
func (db *DB) Lookup(addr netip.Addr) Info {
	info := Info{DataDate: db.date}
	if !addr.IsValid() {
		return info
	}
	addr = addr.Unmap().WithZone("")
	over := db.overrides.Load().lookup(addr)
	if over == nil || over.Country == "" {
		info.Country = db.lookupCountry(addr)
	}
	if over == nil || !over.hasAS() {
		info.ASN, info.ASOrg = db.lookupASN(addr)
	}
	if over != nil {
		info.Override = true
		if over.Country != "" {
			info.Country = over.Country
		}
		if over.hasAS() {
			info.ASN, info.ASOrg = over.ASN, over.ASOrg
		}
	}
	return info
}

// countryRecord decodes both the ip-location-db and the GeoIP2 layout.
type countryRecord struct {
	CountryCode string `maxminddb:"country_code"`
	Country     struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
}

func (db *DB) lookupCountry(addr netip.Addr) string {
	if db.country == nil {
		return ""
	}
	res := db.country.Lookup(addr)
	if !res.Found() {
		return ""
	}
	off := res.Offset()
	if cc, ok := db.countries.m.Load(off); ok {
		return cc.(string)
	}
	var rec countryRecord
	if err := res.Decode(&rec); err != nil {
		return ""
	}
	cc := rec.CountryCode
	if cc == "" {
		cc = rec.Country.ISOCode
	}
	if db.countries.n.Add(1) <= countryCacheMax {
		db.countries.m.Store(off, cc)
	}
	return cc
}

type asnRecord struct {
	ASN uint32 `maxminddb:"autonomous_system_number"`
	Org string `maxminddb:"autonomous_system_organization"`
}

func (db *DB) lookupASN(addr netip.Addr) (uint32, string) {
	if db.asnMMDB != nil {
		res := db.asnMMDB.Lookup(addr)
		var rec asnRecord
		if !res.Found() || res.Decode(&rec) != nil {
			return 0, ""
		}
		return rec.ASN, rec.Org
	}
	return db.asnTable.lookup(addr)
}
