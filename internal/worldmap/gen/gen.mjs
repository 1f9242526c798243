// gen.mjs converts Natural Earth country outlines (1:110m, as distributed in
// the npm package world-atlas, ISC licence; the data itself is public domain)
// into ../countries.json: per country its ISO 3166-1 alpha-2 code, English
// name and outline as an SVG path, projected equirectangular onto a 960×480
// box (x = (lon+180)·960/360, y = (90−lat)·480/180), coordinates rounded to
// 0.1. It is run once by hand; the output is committed and embedded.
//
// To regenerate (outside the repository, needs Node ≥ 18 and network):
//
//	mkdir -p /tmp/wa && cd /tmp/wa
//	npm init -y && npm install world-atlas@2.0.2 topojson-client@3
//	node /path/to/internal/worldmap/gen/gen.mjs > /path/to/internal/worldmap/countries.json
//
// world-atlas ids are ISO 3166-1 numeric codes; the table below maps them to
// alpha-2 codes and the names used by package alliance (countries_data.go).
// Features without an id (N. Cyprus, Somaliland, Kosovo) are skipped.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// Resolve packages from the current directory, not from this file.
const require = createRequire(process.cwd() + "/");
const { feature } = require("topojson-client");
const topo = JSON.parse(readFileSync(require.resolve("world-atlas/countries-110m.json"), "utf8"));

const W = 960, H = 480;
// Rings smaller than this (in square pixels) are dropped, except a country's
// largest ring, so that small countries keep a shape while specks vanish.
const MIN_AREA = 0.3;

// ISO 3166-1: numeric, alpha-2, English short name.
const TABLE = `
004 AF Afghanistan
008 AL Albania
010 AQ Antarctica
012 DZ Algeria
016 AS American Samoa
020 AD Andorra
024 AO Angola
028 AG Antigua and Barbuda
031 AZ Azerbaijan
032 AR Argentina
036 AU Australia
040 AT Austria
044 BS Bahamas
048 BH Bahrain
050 BD Bangladesh
051 AM Armenia
052 BB Barbados
056 BE Belgium
060 BM Bermuda
064 BT Bhutan
068 BO Bolivia
070 BA Bosnia and Herzegovina
072 BW Botswana
074 BV Bouvet Island
076 BR Brazil
084 BZ Belize
086 IO British Indian Ocean Territory
090 SB Solomon Islands
092 VG Virgin Islands, British
096 BN Brunei
100 BG Bulgaria
104 MM Myanmar
108 BI Burundi
112 BY Belarus
116 KH Cambodia
120 CM Cameroon
124 CA Canada
132 CV Cabo Verde
136 KY Cayman Islands
140 CF Central African Republic
144 LK Sri Lanka
148 TD Chad
152 CL Chile
156 CN China
158 TW Taiwan
162 CX Christmas Island
166 CC Cocos (Keeling) Islands
170 CO Colombia
174 KM Comoros
175 YT Mayotte
178 CG Congo
180 CD Congo (Democratic Republic)
184 CK Cook Islands
188 CR Costa Rica
191 HR Croatia
192 CU Cuba
196 CY Cyprus
203 CZ Czechia
204 BJ Benin
208 DK Denmark
212 DM Dominica
214 DO Dominican Republic
218 EC Ecuador
222 SV El Salvador
226 GQ Equatorial Guinea
231 ET Ethiopia
232 ER Eritrea
233 EE Estonia
234 FO Faroe Islands
238 FK Falkland Islands (Malvinas)
239 GS South Georgia and the South Sandwich Islands
242 FJ Fiji
246 FI Finland
248 AX Åland Islands
250 FR France
254 GF French Guiana
258 PF French Polynesia
260 TF French Southern Territories
262 DJ Djibouti
266 GA Gabon
268 GE Georgia
270 GM Gambia
275 PS Palestine
276 DE Germany
288 GH Ghana
292 GI Gibraltar
296 KI Kiribati
300 GR Greece
304 GL Greenland
308 GD Grenada
312 GP Guadeloupe
316 GU Guam
320 GT Guatemala
324 GN Guinea
328 GY Guyana
332 HT Haiti
334 HM Heard Island and McDonald Islands
336 VA Holy See
340 HN Honduras
344 HK Hong Kong
348 HU Hungary
352 IS Iceland
356 IN India
360 ID Indonesia
364 IR Iran
368 IQ Iraq
372 IE Ireland
376 IL Israel
380 IT Italy
384 CI Côte d'Ivoire
388 JM Jamaica
392 JP Japan
398 KZ Kazakhstan
400 JO Jordan
404 KE Kenya
408 KP North Korea
410 KR South Korea
414 KW Kuwait
417 KG Kyrgyzstan
418 LA Laos
422 LB Lebanon
426 LS Lesotho
428 LV Latvia
430 LR Liberia
434 LY Libya
438 LI Liechtenstein
440 LT Lithuania
442 LU Luxembourg
446 MO Macao
450 MG Madagascar
454 MW Malawi
458 MY Malaysia
462 MV Maldives
466 ML Mali
470 MT Malta
474 MQ Martinique
478 MR Mauritania
480 MU Mauritius
484 MX Mexico
492 MC Monaco
496 MN Mongolia
498 MD Moldova
499 ME Montenegro
500 MS Montserrat
504 MA Morocco
508 MZ Mozambique
512 OM Oman
516 NA Namibia
520 NR Nauru
524 NP Nepal
528 NL Netherlands
531 CW Curaçao
533 AW Aruba
534 SX Sint Maarten (Dutch part)
535 BQ Bonaire, Sint Eustatius and Saba
540 NC New Caledonia
548 VU Vanuatu
554 NZ New Zealand
558 NI Nicaragua
562 NE Niger
566 NG Nigeria
570 NU Niue
574 NF Norfolk Island
578 NO Norway
580 MP Northern Mariana Islands
581 UM United States Minor Outlying Islands
583 FM Micronesia
584 MH Marshall Islands
585 PW Palau
586 PK Pakistan
591 PA Panama
598 PG Papua New Guinea
600 PY Paraguay
604 PE Peru
608 PH Philippines
612 PN Pitcairn
616 PL Poland
620 PT Portugal
624 GW Guinea-Bissau
626 TL Timor-Leste
630 PR Puerto Rico
634 QA Qatar
638 RE Réunion
642 RO Romania
643 RU Russia
646 RW Rwanda
652 BL Saint Barthélemy
654 SH Saint Helena, Ascension and Tristan da Cunha
659 KN Saint Kitts and Nevis
660 AI Anguilla
662 LC Saint Lucia
663 MF Saint Martin (French part)
666 PM Saint Pierre and Miquelon
670 VC Saint Vincent and the Grenadines
674 SM San Marino
678 ST Sao Tome and Principe
682 SA Saudi Arabia
686 SN Senegal
688 RS Serbia
690 SC Seychelles
694 SL Sierra Leone
702 SG Singapore
703 SK Slovakia
704 VN Vietnam
705 SI Slovenia
706 SO Somalia
710 ZA South Africa
716 ZW Zimbabwe
724 ES Spain
728 SS South Sudan
729 SD Sudan
732 EH Western Sahara
740 SR Suriname
744 SJ Svalbard and Jan Mayen
748 SZ Eswatini
752 SE Sweden
756 CH Switzerland
760 SY Syria
762 TJ Tajikistan
764 TH Thailand
768 TG Togo
772 TK Tokelau
776 TO Tonga
780 TT Trinidad and Tobago
784 AE United Arab Emirates
788 TN Tunisia
792 TR Turkey
795 TM Turkmenistan
796 TC Turks and Caicos Islands
798 TV Tuvalu
800 UG Uganda
804 UA Ukraine
807 MK North Macedonia
818 EG Egypt
826 GB United Kingdom
831 GG Guernsey
832 JE Jersey
833 IM Isle of Man
834 TZ Tanzania
840 US United States
850 VI Virgin Islands, U.S.
854 BF Burkina Faso
858 UY Uruguay
860 UZ Uzbekistan
862 VE Venezuela
876 WF Wallis and Futuna
882 WS Samoa
887 YE Yemen
894 ZM Zambia
`;

const byNumeric = new Map();
for (const line of TABLE.trim().split("\n")) {
  const [num, code, ...name] = line.split(" ");
  byNumeric.set(num, { code, name: name.join(" ") });
}

const r1 = (v) => Math.round(v * 10) / 10;
const proj = ([lon, lat]) => [(lon + 180) * W / 360, (90 - lat) * H / 180];

// area returns the absolute shoelace area of a projected ring.
function area(pts) {
  let a = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    a += (pts[j][0] + pts[i][0]) * (pts[j][1] - pts[i][1]);
  }
  return Math.abs(a / 2);
}

// unwrap handles rings that cross the antimeridian (Fiji, Chukotka): it
// makes longitudes continuous, then returns each copy of the ring shifted by
// −360°, 0 or +360° that reaches into the map, clipped to [−180°, 180°], so
// both sides are drawn. Rings that go round the pole (Antarctica) are closed
// along the map edge already and kept as they are.
function unwrap(ring) {
  let crosses = false;
  const out = [ring[0].slice()];
  for (let i = 1; i < ring.length; i++) {
    let lon = ring[i][0];
    const prev = out[i - 1][0];
    while (lon - prev > 180) { lon -= 360; crosses = true; }
    while (prev - lon > 180) { lon += 360; crosses = true; }
    out.push([lon, ring[i][1]]);
  }
  const winding = out[out.length - 1][0] - out[0][0];
  if (!crosses || Math.abs(winding) > 1) return [ring];
  const lons = out.map((p) => p[0]);
  const lo = Math.min(...lons), hi = Math.max(...lons);
  const copies = [];
  for (const shift of [-360, 0, 360]) {
    if (hi + shift <= -180 || lo + shift >= 180) continue;
    let c = out.map(([lon, lat]) => [lon + shift, lat]);
    c = clip(c, (p) => p[0] <= 180, 180);
    c = clip(c, (p) => p[0] >= -180, -180);
    if (c.length >= 3) copies.push(c);
  }
  return copies;
}

// clip is one Sutherland–Hodgman pass against the meridian edge: points
// where inside() fails are replaced by the crossings of the edge. Concave
// rings may gain zero-width slivers along the edge, which fill ignores.
function clip(ring, inside, edge) {
  const res = [];
  for (let i = 0; i < ring.length; i++) {
    const a = ring[(i + ring.length - 1) % ring.length], b = ring[i];
    const ia = inside(a), ib = inside(b);
    if (ia !== ib) {
      const t = (edge - a[0]) / (b[0] - a[0]);
      res.push([edge, a[1] + t * (b[1] - a[1])]);
    }
    if (ib) res.push(b);
  }
  return res;
}

function ringPath(ring) {
  const pts = [];
  for (const p of ring) {
    const [x, y] = proj(p).map(r1);
    const last = pts[pts.length - 1];
    if (!last || last[0] !== x || last[1] !== y) pts.push([x, y]);
  }
  if (pts.length > 1 && pts[0][0] === pts.at(-1)[0] && pts[0][1] === pts.at(-1)[1]) pts.pop();
  if (pts.length < 3) return null;
  // First point absolute, the rest relative: shorter, and still exact
  // because every coordinate is a multiple of 0.1 (work in tenths).
  const t = pts.map(([x, y]) => [Math.round(x * 10), Math.round(y * 10)]);
  const f = (v) => (v / 10).toString();
  let d = `M${f(t[0][0])},${f(t[0][1])}l`;
  const parts = [];
  for (let i = 1; i < t.length; i++) {
    parts.push(`${f(t[i][0] - t[i - 1][0])},${f(t[i][1] - t[i - 1][1])}`);
  }
  return { d: d + parts.join(" ") + "z", area: area(pts) };
}

const countries = [];
for (const f of feature(topo, topo.objects.countries).features) {
  const entry = byNumeric.get(f.id);
  if (!entry) {
    console.error(`skip ${f.properties.name} (id ${f.id})`);
    continue;
  }
  const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  const rings = [];
  for (const poly of polys) {
    for (const ring of poly) {
      for (const part of unwrap(ring)) {
        const r = ringPath(part);
        if (r) rings.push(r);
      }
    }
  }
  const biggest = Math.max(...rings.map((r) => r.area));
  const path = rings.filter((r) => r.area >= MIN_AREA || r.area === biggest).map((r) => r.d).join("");
  countries.push({ code: entry.code, name: entry.name, path });
}
countries.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));

// One country per line keeps diffs readable.
process.stdout.write("[\n" + countries.map((c) => JSON.stringify(c)).join(",\n") + "\n]\n");
