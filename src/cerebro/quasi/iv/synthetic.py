"""Synthetic instrumental-variable data with a known effect (tests, docs, benchmarks).

Two designs:

- ``continuous`` (``simulate``): d = Zπ + Wγ + v, y = βd + Wδ + u, with corr(u, v) = ρ (so OLS
  is biased by about ρ·σ_u/σ_d) and instrument strength set by the concentration parameter
  μ² = n π'π (Z standard normal, σ_v = 1): the expected first-stage F is about 1 + μ²/k.
  The effect β is constant, so every IV estimand equals β.
- ``binary`` (``complier_frame``): a binary instrument moves a binary treatment for compliers
  only; always-takers and never-takers ignore it, and the effect differs by type. 2SLS
  recovers the complier effect (the LATE), not the average effect (Imbens & Angrist 1994).

Everything is drawn from ``numpy.random.default_rng(seed)``: same seed, same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class IVArrays:
    """Batched data: y, d (reps, n); W (reps, n, 1 + controls) with the intercept first;
    Z (reps, n, k)."""

    y: np.ndarray
    d: np.ndarray
    W: np.ndarray
    Z: np.ndarray
    beta: float
    clusters: np.ndarray | None = None  # cluster code of each row (shared by the batch)


def simulate(
    reps: int,
    n: int,
    *,
    beta: float = 1.0,
    k: int = 1,
    mu2: float = 100.0,
    rho: float = 0.5,
    controls: int = 1,
    heteroskedastic: bool = False,
    clusters: int = 0,
    seed: int = 0,
) -> IVArrays:
    """`reps` data sets of the continuous design in one vectorised draw.

    With `clusters` = G > 0, row i belongs to cluster i mod G, and both the instruments and the
    outcome error share a cluster component (half the instruments' variance, a unit-variance
    shock in u), so only cluster-robust SEs are right.
    """
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((reps, n, k))
    codes = None
    if clusters:
        codes = np.arange(n) % clusters
        Z = np.sqrt(0.5) * (Z + rng.standard_normal((reps, clusters, k))[:, codes, :])
    C = rng.standard_normal((reps, n, controls))
    W = np.concatenate([np.ones((reps, n, 1)), C], axis=-1)
    pi = np.full(k, np.sqrt(mu2 / (n * k)))
    v = rng.standard_normal((reps, n))
    u = rho * v + np.sqrt(1 - rho**2) * rng.standard_normal((reps, n))
    if heteroskedastic:
        # error variance rising with the first instrument: HC SEs needed, classical ones wrong
        spread = np.sqrt(0.25 + 0.75 * Z[..., 0] ** 2)
        u, v = u * spread, v * spread
    if clusters:
        u = u + rng.standard_normal((reps, clusters))[:, codes]
    gamma = np.full(controls, 0.5)
    d = Z @ pi + C @ gamma + v
    y = beta * d + C @ np.full(controls, -0.3) + 1.0 + u
    return IVArrays(y, d, W, Z, beta, codes)


def iv_frame(
    n: int = 2_000,
    *,
    beta: float = 1.0,
    k: int = 1,
    mu2: float = 100.0,
    rho: float = 0.5,
    controls: int = 1,
    clusters: int = 0,
    seed: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """One continuous-design data set as a DataFrame (columns y, d, z1…zk, x1…, and a `cluster`
    column when `clusters` > 0; see `simulate`) and its truth."""
    import pandas as pd

    data = simulate(
        1, n, beta=beta, k=k, mu2=mu2, rho=rho, controls=controls, clusters=clusters, seed=seed
    )
    columns: dict[str, Any] = {}
    if clusters:
        columns["cluster"] = data.clusters
    columns |= {"y": data.y[0], "d": data.d[0]}
    columns |= {f"z{j + 1}": data.Z[0, :, j] for j in range(k)}
    columns |= {f"x{j + 1}": data.W[0, :, j + 1] for j in range(controls)}
    truth = {"effect": beta, "first_stage": np.sqrt(mu2 / (n * k)), "rho": rho}
    return pd.DataFrame(columns), truth


def complier_frame(
    n: int = 5_000,
    *,
    shares: tuple[float, float, float] = (0.2, 0.5, 0.3),
    effects: tuple[float, float, float] = (2.0, 1.0, 0.0),
    seed: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """Binary instrument z, binary treatment d, types (always-taker, complier, never-taker)
    with the given shares and effects; the type also shifts the untreated outcome, so the
    naive comparison is confounded. Returns the frame (y, d, z, x) and the truth: the LATE
    (complier effect), the ATE and the complier share."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=np.asarray(shares))  # 0 always, 1 complier, 2 never
    z = rng.integers(0, 2, n)
    d = np.where(kind == 0, 1, np.where(kind == 1, z, 0))
    x = rng.standard_normal(n)
    base = np.array([1.0, 0.0, -1.0])[kind] + 0.5 * x + rng.standard_normal(n)
    effect = np.asarray(effects)[kind]
    y = base + effect * d
    truth = {
        "late": float(effects[1]),
        "ate": float(np.dot(shares, effects)),
        "complier_share": float(shares[1]),
    }
    return pd.DataFrame({"y": y, "d": d, "z": z, "x": x}), truth


def example() -> tuple[dict[str, object], object]:
    """A small seeded design (500 units, one strong instrument, effect 1) and its options."""
    frame, _ = iv_frame(500, mu2=50.0, seed=1)
    options = {"treatment": "d", "outcome": "y", "instrument": ["z1"], "confounders": ["x1"]}
    return options, frame
