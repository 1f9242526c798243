// Package worldmap draws a choropleth world map as SVG for the alliance
// dashboard: one shape per country, filled by a value on a five-step
// sequential scale, founding members outlined, every shape titled with its
// name and value so the map has an accessible name per country.
//
// The country outlines come from Natural Earth (https://www.naturalearthdata.com,
// public domain), 1:110m admin-0 countries, as packaged in the npm package
// world-atlas 2.0.2 (https://github.com/topojson/world-atlas, ISC licence,
// Copyright Michael Bostock, see LICENSE.world-atlas). gen/gen.mjs converted them once into countries.json:
// ISO 3166-1 numeric ids mapped to alpha-2 codes, shapes projected
// equirectangular onto 960×480 and rounded to 0.1. Features without an ISO
// code (Kosovo, Northern Cyprus, Somaliland) are not on the map. A few states
// too small for the 1:110m scale (Malta, Singapore, Bahrain, …) are drawn as
// dots at their capitals; other island states are not on the map, and the
// table that accompanies every map lists every country.
//
// The package has no dependency on the rest of the module: callers pass
// values by alpha-2 code and get back template.HTML.
package worldmap
