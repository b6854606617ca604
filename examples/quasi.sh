#!/usr/bin/env bash
# Quasi-experiments from the command line: staggered difference-in-differences and a
# regression discontinuity, each with its known truth beside it.
set -euo pipefail
OUT=${1:-.cache/examples/quasi}
mkdir -p "$OUT"
cerebro datasets staggered --output "$OUT/panel.csv" --units 200 --periods 8
cerebro causal "$OUT/panel.csv" --method did --treatment treated --outcome sales \
  --unit unit --time period --output "$OUT/did.json"
cerebro datasets rdd --output "$OUT/rdd.csv" --rows 2000
cerebro causal "$OUT/rdd.csv" --method rdd --outcome outcome --running-variable score \
  --report "$OUT/rdd.html"
