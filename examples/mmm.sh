#!/usr/bin/env bash
# Media mix model from the command line (small: 2 chains × 200 draws), then the budget split.
set -euo pipefail
OUT=${1:-.cache/examples/mmm}
mkdir -p "$OUT"
cerebro datasets mmm --output "$OUT/mmm.csv" --weeks 104 --channels 3
cerebro mmm "$OUT/mmm.csv" --date-column week --kpi revenue --channels tv,search,social \
  --controls price,promo --chains 2 --draws 200 --warmup 200 \
  --save "$OUT/model.cerebro" --output "$OUT/mmm.json" --report "$OUT/mmm.html"
cerebro mmm-optimize "$OUT/model.cerebro" --periods 8
