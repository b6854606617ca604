#!/usr/bin/env bash
# Geo lift test from the command line: two treated markets against a synthetic control.
set -euo pipefail
OUT=${1:-.cache/examples/geo}
mkdir -p "$OUT"
cerebro datasets geo --output "$OUT/geo.csv" --geos 16 --lift 0.05   # test starts 2021-03-02
cerebro geotest "$OUT/geo.csv" --geo-column geo --date-column date --outcome sales \
  --treatment-geos "geo 00,geo 01" --treatment-start 2021-03-02 \
  --output "$OUT/geotest.json" --report "$OUT/geotest.html"
