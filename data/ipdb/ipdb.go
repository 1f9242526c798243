// Package ipdb embeds the open IP data that Alliance ships in its binary: an
// IP → country database and an IP → AS number/organisation table, both from
// the @ip-location-db npm packages under CC BY 4.0 (see NOTICE at the
// repository root and SOURCE.json here). scripts/refresh-ipdb.sh refreshes the
// files. Package internal/trace reads them; nothing else should.
package ipdb

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed country.mmdb
var country []byte

//go:embed asn.csv.gz
var asn []byte

//go:embed SOURCE.json
var sourceJSON []byte

// Country returns the embedded IP → country database (MMDB, DB-IP Lite
// country, IPv4 and IPv6; records hold "country_code"). The slice is shared:
// callers must not modify it.
func Country() []byte { return country }

// ASN returns the embedded IP → ASN table: gzipped CSV rows of
// "first_ip,last_ip,asn,organisation" (IPv4 rows then IPv6 rows, inclusive
// ranges). The slice is shared: callers must not modify it.
func ASN() []byte { return asn }

// File describes one bundled data file: where it came from and when it was built.
type File struct {
	File         string `json:"file"`          // name in data/ipdb
	Format       string `json:"format"`        // "mmdb" or "csv.gz"
	Package      string `json:"package"`       // npm package it was taken from
	Version      string `json:"version"`       // that package's version
	Licence      string `json:"licence"`       // SPDX-like licence name, e.g. "CC BY 4.0"
	LicenceField string `json:"licence_field"` // the package.json licence field, verbatim
	Attribution  string `json:"attribution"`   // text the licence asks us to show
	Built        string `json:"built"`         // build date of the data, YYYY-MM-DD
	SHA256       string `json:"sha256"`        // hex SHA-256 of the file
}

// Source describes both bundled files; it is SOURCE.json decoded.
type Source struct {
	Country File `json:"country"`
	ASN     File `json:"asn"`
}

// Sources returns the decoded SOURCE.json.
func Sources() (Source, error) {
	var s Source
	if err := json.Unmarshal(sourceJSON, &s); err != nil {
		return Source{}, fmt.Errorf("ipdb: SOURCE.json: %w", err)
	}
	return s, nil
}

// SourceJSON returns SOURCE.json as embedded. The slice is shared: callers
// must not modify it.
func SourceJSON() []byte { return sourceJSON }
