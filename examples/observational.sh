#!/usr/bin/env bash
# Observational causal effect from the command line: adjust for the confounders (AIPW).
set -euo pipefail
OUT=${1:-.cache/examples/observational}
mkdir -p "$OUT"
cerebro datasets confounded --output "$OUT/customers.csv" --seed 0   # true ATE 1
cerebro causal "$OUT/customers.csv" --treatment treated --outcome spend \
  --confounders age,engagement --method aipw --output "$OUT/causal.json" --report "$OUT/causal.html"
