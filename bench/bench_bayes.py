"""Bayesian A/B on 10M conversion rows: Cerebro's closed form versus NumPyro MCMC, same data.

Both are whole processes run interleaved and timed by /usr/bin/time (see bench_abtest.py);
the answers (P(beats control), P(best), lift interval) are compared side by side.

Usage: python bench/bench_bayes.py [--runs 5] [--rows 10000000]
Needs the bench extra (`pip install -e .[bench]`: numpyro, jax).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_abtest import BIN, ROOT, compare

RATES = {"A": 0.1000, "B": 0.1002, "C": 0.1006}  # close enough that P(beat) is informative


def make_data(rows: int, path: Path) -> None:
    rng = np.random.default_rng(2026)
    arm = rng.integers(0, len(RATES), rows)
    converted = (rng.random(rows) < np.array(list(RATES.values()))[arm]).astype(np.int8)
    table = pa.table({"arm": pa.array(np.array(list(RATES))[arm]), "converted": converted})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    data = ROOT / ".cache" / "bench" / f"conversions_{args.rows}.parquet"
    if not data.exists():
        make_data(args.rows, data)
    ours = [str(BIN / "cerebro"), "abtest", str(data), "--treatment", "arm", "--control", "A",
            "--outcome", "converted", "--type", "bayesian", "--json"]  # fmt: skip
    theirs = [sys.executable, str(ROOT / "bench" / "baseline_numpyro_bayes.py"), str(data)]
    answers = {
        "cerebro": json.loads(
            subprocess.run(ours, capture_output=True, text=True, check=True).stdout
        ),
        "numpyro": json.loads(
            subprocess.run(theirs, capture_output=True, text=True, check=True).stdout
        ),
    }
    import pyarrow.compute as pc

    from cerebro.experiments.bayes import beta_posterior, compare_posteriors

    table = pq.read_table(data)
    counts = [
        (int(pc.sum(pc.filter(table["converted"], pc.equal(table["arm"], a))).as_py()),
         int(pc.sum(pc.equal(table["arm"], a)).as_py()))
        for a in RATES
    ]  # fmt: skip
    fits = []
    for _ in range(5):
        start = time.perf_counter()
        compare_posteriors([beta_posterior(x, n) for x, n in counts])
        fits.append(time.perf_counter() - start)
    ours_fit = sorted(fits)[2]
    case = compare("Bayesian A/B/C, 10M rows", ours, theirs, args.runs)
    (t_ours, m_ours), (t_theirs, m_theirs) = case["medians"]["ours"], case["medians"]["theirs"]
    print(
        f"{args.rows:,} rows, {platform.machine()}, Python {platform.python_version()}, {args.runs} interleaved runs, medians\n"
    )
    print(
        "| case | Cerebro CLI (s) | NumPyro NUTS (s) | speed-up | Cerebro peak RSS (MiB) | NumPyro peak RSS (MiB) |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {case['name']} | {t_ours:.2f} | {t_theirs:.2f} | {t_theirs / t_ours:.0f}× | {m_ours:.0f} | {m_theirs:.0f} |"
    )
    theirs_fit = answers["numpyro"]["inference_seconds"]
    print(
        f"\nInference step alone (counts in hand): Cerebro closed form {ours_fit * 1000:.0f} ms "
        f"(median of 5, incl. 200,000 Monte Carlo draws for the lift intervals) vs NumPyro NUTS "
        f"{theirs_fit:.1f} s (incl. JIT compilation): {theirs_fit / ours_fit:.0f}× faster."
    )
    rows = answers["cerebro"]["tables"]["details"]
    columns = rows["columns"]
    print(
        "\n| variant | P(beat) Cerebro (exact) | P(beat) NumPyro (4,000 draws) | lift 95% CI Cerebro | lift 95% CI NumPyro |"
    )
    print("|---|---|---|---|---|")
    for i, row in enumerate(rows["rows"]):
        rec = dict(zip(columns, row, strict=True))
        low, high = answers["numpyro"]["lift_ci"][i]
        print(
            f"| {rec['variant']} | {rec['p_beat']:.4f} | {answers['numpyro']['p_beat'][i]:.4f} "
            f"| [{rec['lift_ci_low']:.5f}, {rec['lift_ci_high']:.5f}] | [{low:.5f}, {high:.5f}] |"
        )


if __name__ == "__main__":
    main()
