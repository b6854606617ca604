"""A synthetic control with fixed donor weights (`--donor-weights`, read by
`cerebro.data.donor_weights`): counterfactual Σⱼ wⱼYⱼₜ, gaps and pre-period loss exactly as
for fitted weights (Abadie 2021, JEL 59(2), §3)."""

from __future__ import annotations

import numpy as np

from cerebro.stats.synth_weights import SynthFit


def fixed_fit(Y: np.ndarray, treated: np.ndarray, donors: np.ndarray, w: np.ndarray,
              n_pre: int) -> SynthFit:  # fmt: skip
    """The synthetic control with weights `w`: synthetic path, gaps and pre-period loss."""
    synthetic = w @ Y[donors]
    gaps = Y[treated].mean(axis=0) - synthetic
    loss = float(np.mean(gaps[:n_pre] ** 2))
    return SynthFit(w, np.empty(0), synthetic, gaps, n_pre, loss, float("nan"), {"fixed": True})
