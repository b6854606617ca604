#!/usr/bin/env bash
# Uplift from the command line: user-level effects of the SaaS cohorts (user × day rows
# collapsed per user by --aggregate), drivers, tiers and a targeting plan.
set -euo pipefail
OUT=${1:-.cache/examples/uplift}
mkdir -p "$OUT"
cerebro datasets saas --output "$OUT/saas.csv" --users 1200 --days 3 --seed 2
cerebro uplift "$OUT/saas.csv" --treatment cohort --control A_control --outcome revenue \
  --unit user_id --aggregate mean --features tenure_months,baseline_productivity,churn_risk,plan \
  --value 30 --cost 2.5 --folds 3 --output "$OUT/uplift.json" --report "$OUT/uplift.html"
