"""Causal forest versus EconML's `econml.grf.CausalForest` on the same data.

Both forests get the same centred residuals (oracle nuisances: E[Y | X] = τ(X)/2, e = 0.5) and
the same recipe: 200 honest trees, little bags of 2, subsamples of half the rows without
replacement, ≥ 5 rows per leaf, every feature tried per split. They differ in details that
are not part of GRF's definition (EconML searches exact thresholds where Cerebro searches
≤ 256 quantile bins, its leaf-size and balance rules are worded differently, its random
numbers differ), so the forests are not identical and the comparison is statistical:

- the two CATE surfaces on a 200-point grid correlate ≥ 0.98 in every seed (measured ≈ 0.997);
- Cerebro's PEHE averaged over 3 seeds is within 10% of EconML's (measured: 5–11% *lower*);
  the 10% is the issue's tolerance, and the seed-to-seed spread of PEHE (≈ 0.02 on ≈ 0.18) is
  small enough that a forest genuinely 10% worse would fail;
- 95% interval coverage of the true CATE within 0.05 of EconML's on the same 600 intervals
  (measured ≈ 0.93 versus ≈ 0.94; EconML's variances are larger by a median factor ≈ 1.5, a
  different little-bags finite-sample correction).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cerebro.uplift.forest import CausalForest

econml_grf = pytest.importorskip("econml.grf")

P = 6
GRID = np.random.default_rng(99).uniform(size=(200, P))


def _tau(X):
    s = lambda u: 1 + 1 / (1 + np.exp(-20 * (u - 1 / 3)))  # noqa: E731
    return s(X[:, 0]) * s(X[:, 1])


def test_cate_agrees_with_econml_grf():
    truth = _tau(GRID)
    rows = []
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        n = 4000
        X = rng.uniform(size=(n, P))
        t = rng.binomial(1, 0.5, n)
        tau = _tau(X)
        y = tau * t + rng.normal(size=n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = econml_grf.CausalForest(
                n_estimators=200, min_samples_leaf=5, max_samples=0.5, honest=True,
                inference=True, subforest_size=2, max_features=None, random_state=seed, n_jobs=1,
            ).fit(X, t - 0.5, y - tau / 2)  # fmt: skip
            e_ref, v_ref = (a.ravel() for a in ref.predict_and_var(GRID))
        ours = CausalForest(n_estimators=200, min_leaf=5, seed=seed).fit(
            X, y, t, y_hat=tau / 2, t_hat=0.5
        )
        e, v = ours.predict(GRID, variance=True)
        z = 1.959963984540054
        rows.append(
            dict(
                corr=np.corrcoef(e, e_ref)[0, 1],
                pehe=np.sqrt(np.mean((e - truth) ** 2)),
                pehe_ref=np.sqrt(np.mean((e_ref - truth) ** 2)),
                cov=np.mean(np.abs(e - truth) <= z * np.sqrt(v)),
                cov_ref=np.mean(np.abs(e_ref - truth) <= z * np.sqrt(v_ref)),
            )
        )
    for r in rows:
        print({k: round(float(v), 4) for k, v in r.items()})
        assert r["corr"] >= 0.98
    pehe = np.mean([r["pehe"] for r in rows])
    pehe_ref = np.mean([r["pehe_ref"] for r in rows])
    assert pehe <= 1.10 * pehe_ref
    cov = np.mean([r["cov"] for r in rows])
    cov_ref = np.mean([r["cov_ref"] for r in rows])
    assert abs(cov - cov_ref) <= 0.05
