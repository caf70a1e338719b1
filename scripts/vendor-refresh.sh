#!/usr/bin/env bash
# Refresh the JavaScript the pages use from npm into server/static/vendor/, with each package's
# licence. Nothing is fetched at run time (no CDN): the pages work offline and behind a strict
# Content-Security-Policy. Versions are pinned here; change a version, run this, run the browser
# tests (tests/browser/test_yasgui.py, tests/browser/test_map.py), commit the result.
#
#   @triply/yasgui  the query page (/query): editor, tabs, result plugins (MIT)
#   d3-geo, d3-array, topojson-client  projection and outlines for /viz/map (ISC)
#   world-atlas     Natural Earth 1:110m country outlines as TopoJSON (ISC; the data public domain)
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=server/static/vendor
YASGUI=4.2.28 D3_GEO=3.1.2 D3_ARRAY=3.2.5 TOPOJSON=3.1.0 WORLD_ATLAS=2.0.2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
  "@triply/yasgui@$YASGUI" "d3-geo@$D3_GEO" "d3-array@$D3_ARRAY" \
  "topojson-client@$TOPOJSON" "world-atlas@$WORLD_ATLAS" >/dev/null)
m="$work/node_modules"

rm -rf "$VENDOR/yasgui" "$VENDOR/d3-geo" "$VENDOR/topojson-client" "$VENDOR/world-atlas"
mkdir -p "$VENDOR/yasgui" "$VENDOR/d3-geo" "$VENDOR/topojson-client" "$VENDOR/world-atlas"

# YASGUI: the built bundle (without its 4 MB source map), its licence and its bundled
# dependencies' notices.
cp "$m/@triply/yasgui/build/yasgui.min.js" "$m/@triply/yasgui/build/yasgui.min.css" \
   "$m/@triply/yasgui/build/yasgui.min.js.LICENSE.txt" "$VENDOR/yasgui/"
sed -i '/sourceMappingURL=/d' "$VENDOR/yasgui/yasgui.min.js"
cp "$m/@triply/yasgui/LICENSE.txt" "$VENDOR/yasgui/LICENSE"

# d3-geo needs d3-array (its UMD build reads the global `d3`): both in one folder.
cp "$m/d3-array/dist/d3-array.min.js" "$m/d3-geo/dist/d3-geo.min.js" "$VENDOR/d3-geo/"
cp "$m/d3-geo/LICENSE" "$VENDOR/d3-geo/LICENSE"
cp "$m/d3-array/LICENSE" "$VENDOR/d3-geo/LICENSE.d3-array"
cp "$m/topojson-client/dist/topojson-client.min.js" "$m/topojson-client/LICENSE" \
   "$VENDOR/topojson-client/"
cp "$m/world-atlas/countries-110m.json" "$m/world-atlas/LICENSE" "$VENDOR/world-atlas/"

cat > "$VENDOR/VERSIONS" <<VERSIONS
@triply/yasgui $YASGUI (MIT)
d3-geo $D3_GEO, d3-array $D3_ARRAY (ISC)
topojson-client $TOPOJSON (ISC)
world-atlas $WORLD_ATLAS (ISC; Natural Earth 1:110m, public domain)
VERSIONS
du -sh "$VENDOR"/*/
