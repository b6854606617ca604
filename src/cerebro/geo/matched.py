"""Matched markets: choose control geos that looked like the treated ones before the test.

Each candidate control g gets a distance to the treated average,

    d_g = (1 − corr(y₁, y_g)) / sd_corr + Σ_k |z_k(g) − z_k(treated)| / K,

where corr is Pearson's correlation of the two pre-period series (shape, not level: the ratio
estimator handles the level), sd_corr scales it by the spread of (1 − corr) over the
candidates, and z_k are the `--matching-vars` (per-geo means) standardised across geos, the
treated value being the treated geos' mean. The `n_controls` closest geos (default
max(5, 2 × treated), capped by what exists) are the controls.

The estimate is then `fit_lift(..., method="matched_markets")`: a ratio estimator – the
controls' plain average scaled so that its pre-period total equals the treated average's – and
inference is the same conformal test as for the synthetic controls (refit of the ratio on all
dates under H0, block permutations of the residuals). This is the classic matched-market
design of marketing practice (e.g. Vaver & Koehler 2011's geo experiments with matched pairs,
Google), made explicit; it is simpler and less efficient than a synthetic control, and its
ratio assumes the controls move in proportion to the treated geos.
"""

from __future__ import annotations

import numpy as np

from cerebro.core.errors import UserInputError


def match_controls(
    Y: np.ndarray,
    treated: np.ndarray,
    n_pre: int,
    candidates: np.ndarray,
    covariates: dict[str, np.ndarray] | None = None,
    n_controls: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(chosen control rows sorted by distance, distance of every candidate)."""
    candidates = np.asarray(candidates, int)
    if len(candidates) == 0:
        raise UserInputError("matched markets needs candidate control geos; none are left.")
    y1 = Y[treated, :n_pre].mean(axis=0)
    X = Y[candidates, :n_pre]
    yc = y1 - y1.mean()
    Xc = X - X.mean(axis=1, keepdims=True)
    denom = np.sqrt((Xc**2).sum(axis=1) * (yc**2).sum())
    corr = np.divide(Xc @ yc, denom, out=np.zeros(len(candidates)), where=denom > 0)
    far = 1 - corr
    spread = far.std()
    distance = far / spread if spread > 0 else far.copy()
    for values in (covariates or {}).values():
        values = np.asarray(values, float)
        sd = values.std()
        z = (values - values.mean()) / (sd if sd > 0 else 1.0)
        distance += np.abs(z[candidates] - z[treated].mean()) / len(covariates)
    if n_controls is None:
        n_controls = max(5, 2 * len(treated))
    n_controls = min(n_controls, len(candidates))
    order = np.argsort(distance, kind="stable")
    return candidates[order[:n_controls]], distance
