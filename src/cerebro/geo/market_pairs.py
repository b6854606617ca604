"""A matched-market design proposed before a test: `cerebro geotest DATA --method
matched_markets --matching-vars population,income` with no treated geos.

Every pair of geos gets the distance of `matched.py` – how unlike their outcome series are,
1 − Pearson correlation (scaled by its spread over all pairs), plus the mean absolute difference
of the standardised matching variables – and the geos are paired by a minimum-weight perfect
matching (Edmonds' blossom algorithm, networkx), which minimises the total distance over all
pairings rather than pairing greedily. One geo of each pair is proposed for treatment by a
seeded coin flip, as a matched-pair randomisation (Vaver & Koehler 2011, "Measuring ad
effectiveness using geo experiments", Google; Imai, King & Nall 2009 on pair matching before
randomisation). Balance: for each matching variable and the outcome's level, the treated and
control means and their standardised difference (SMD; |SMD| < 0.1 is the usual bar).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError

DRAWS = 1000  # sets of coin flips tried for balance


def pair_distances(Y: np.ndarray, covariates: dict[str, np.ndarray]) -> np.ndarray:
    """Geos × geos distance: scaled (1 − correlation) plus standardised covariate gaps."""
    corr = np.corrcoef(Y)
    corr = np.nan_to_num(corr, nan=0.0)
    far = 1 - corr
    upper = far[np.triu_indices_from(far, 1)]
    spread = upper.std()
    distance = far / spread if spread > 0 else far.copy()
    for values in covariates.values():
        sd = values.std()
        z = (values - values.mean()) / (sd if sd > 0 else 1.0)
        distance += np.abs(z[:, None] - z[None, :]) / len(covariates)
    np.fill_diagonal(distance, 0.0)
    return distance


def propose_pairs(
    geos: list[str], Y: np.ndarray, covariates: dict[str, np.ndarray], seed: int
) -> tuple[list[dict[str, Any]], np.ndarray, str | None]:
    """Pairs (best first) with the geo proposed for treatment, the treated mask, and the geo
    left out when their number is odd (the one whose best partner is farthest)."""
    import networkx as nx

    n = len(geos)
    if n < 4:
        raise UserInputError(
            f"the data has {n} geos; a matched-pair design needs at least 4 (two pairs)."
        )
    distance = pair_distances(Y, covariates)
    keep = np.arange(n)
    left_out = None
    if n % 2:
        nearest = np.where(np.eye(n, dtype=bool), np.inf, distance).min(axis=1)
        drop = int(np.argmax(nearest))
        left_out, keep = geos[drop], np.delete(keep, drop)
    graph = nx.Graph()
    for a in range(len(keep)):
        for b in range(a + 1, len(keep)):
            graph.add_edge(int(keep[a]), int(keep[b]), weight=float(distance[keep[a], keep[b]]))
    matching = sorted(
        (tuple(sorted(e)) for e in nx.min_weight_matching(graph)),
        key=lambda e: (distance[e[0], e[1]], e),
    )
    flips = _balanced_flips(matching, Y, covariates, n, seed)
    treated = np.zeros(n, bool)
    rows = []
    for k, ((a, b), flip) in enumerate(zip(matching, flips, strict=True), start=1):
        t, c = (a, b) if flip else (b, a)
        treated[t] = True
        rows.append(
            {"pair": k, "treatment": geos[t], "control": geos[c],
             "distance": float(distance[a, b]),
             "correlation": float(np.corrcoef(Y[a], Y[b])[0, 1])}
        )  # fmt: skip
    return rows, treated, left_out


def _balanced_flips(
    matching: list[tuple[int, int]], Y: np.ndarray, covariates: dict[str, np.ndarray], n: int,
    seed: int,
) -> np.ndarray:  # fmt: skip
    """Of DRAWS seeded coin-flip vectors (True: the pair's first geo is treated), the one whose
    largest |SMD| over the outcome level and the matching variables is smallest."""
    rng = np.random.default_rng(seed)
    flips = rng.random((DRAWS, len(matching))) < 0.5
    first = np.array([a for a, _ in matching])
    second = np.array([b for _, b in matching])
    variables = np.vstack([Y.mean(axis=1), *covariates.values()])  # k × geos
    a, b = variables[:, first], variables[:, second]  # k × pairs
    t = np.where(flips[:, None, :], a[None], b[None])  # draws × k × pairs
    c = np.where(flips[:, None, :], b[None], a[None])
    pooled = np.sqrt((t.var(axis=2, ddof=1) + c.var(axis=2, ddof=1)) / 2)
    smd = np.abs(t.mean(axis=2) - c.mean(axis=2)) / np.where(pooled > 0, pooled, 1.0)
    return flips[int(np.argmin(smd.max(axis=1)))]


def balance(
    Y: np.ndarray, covariates: dict[str, np.ndarray], treated: np.ndarray, control: np.ndarray,
    outcome: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """Treated and control means and the standardised mean difference of each variable."""
    variables = {f"{outcome} (mean)": Y.mean(axis=1), **covariates}
    rows = []
    for name, values in variables.items():
        t, c = values[treated], values[control]
        pooled = np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2) if min(len(t), len(c)) > 1 else 0
        smd = (t.mean() - c.mean()) / pooled if pooled > 0 else 0.0
        rows.append(
            {"variable": name, "treatment_mean": float(t.mean()),
             "control_mean": float(c.mean()), "smd": float(smd)}
        )  # fmt: skip
    return rows
