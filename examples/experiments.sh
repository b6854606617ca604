#!/usr/bin/env bash
# A/B/n test from the command line: SaaS experiment data (users × days), CUPED, clustered by
# user, with a JSON result and an HTML report; then the sample size of the next test.
set -euo pipefail
OUT=${1:-.cache/examples/experiments}
mkdir -p "$OUT"
cerebro datasets saas --output "$OUT/saas.csv" --users 3000 --days 7 --seed 1
cerebro abtest "$OUT/saas.csv" --treatment cohort --control A_control \
  --outcome revenue,retention_7d --covariates pre_revenue --cluster user_id \
  --output "$OUT/abtest.json" --report "$OUT/abtest.html"
cerebro power-analysis --baseline 0.05 --mde 0.01 --alpha 0.05 --power 0.8
