"""Small seeded examples of the ``mmm_predict`` and ``mmm_optimize`` kinds, run by the contract
test. They need a saved model, and fitting one takes seconds, so the model is built without
fitting: `known_posterior` puts fixed draws around known parameters (geometric adstock, Hill
saturation, trend, yearly seasonality, one control) on 104 simulated weeks × 3 channels, and
the example writes it (and, for ``mmm_predict``, a 13-week plan) to a new temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cerebro.core.output import atomic_path
from cerebro.mmm.data import MMMData
from cerebro.mmm.posterior import MMMPosterior, ModelForm

CHANNELS = ["tv", "search", "social"]


def known_posterior(draws: int = 40, weeks: int = 104, seed: int = 0) -> MMMPosterior:
    """An `MMMPosterior` with fixed draws (no fit): each parameter a known value plus small
    seeded noise per draw; the KPI is the model's mean at the first draw (its scale, 50,000,
    is set, not the KPI's mean as a fit would have it)."""
    rng = np.random.default_rng(seed)
    c = len(CHANNELS)
    spend = rng.gamma(4.0, 1.0, size=(weeks, c)) * np.array([5000.0, 2000.0, 1000.0])
    spend[rng.random(weeks) < 0.3, 0] = 0.0  # tv flighted
    price = 10 + rng.normal(0, 0.5, weeks)
    controls = price[:, None]

    def around(value: Any, scale: float) -> np.ndarray:
        value = np.asarray(value, float)
        return value * np.exp(scale * rng.normal(size=(draws, *value.shape)))

    posterior_draws = {
        "intercept": 1.0 + 0.01 * rng.normal(size=draws),
        "coef": np.array([0.05, 0.03, -0.02, 0.01, 0.0, -0.04])
        + 0.005 * rng.normal(size=(draws, 6)),
        "alpha": around([0.5, 0.2, 0.3], 0.05),
        "slope": around([1.5, 1.2, 1.0], 0.05),
        "kappa": around([0.8, 1.0, 1.2], 0.05),
        "beta": around([0.15, 0.10, 0.05], 0.1),
        "sigma": around(0.02, 0.1),
    }
    data = MMMData(
        dates=[d.strftime("%Y-%m-%d") for d in _mondays(weeks)],
        kpi=np.ones(weeks),
        spend=spend,
        controls=controls,
        channels=list(CHANNELS),
        control_names=["price"],
        n_fit=weeks,
        kpi_scale=50_000.0,
        spend_scale=spend.mean(axis=0),
        control_mean=controls.mean(axis=0),
        control_sd=controls.std(axis=0),
        log_kpi=False,
        seasonality=(52.0, 2),
        trend=True,
    )
    form = ModelForm("geometric", "hill", 8, True, "normal")
    spec = {"kind": "mmm", "date_column": "week", "kpi": "revenue", "channels": CHANNELS}
    built = MMMPosterior(form, data, posterior_draws, 1, spec)
    data = MMMData(**{**data.__dict__, "kpi": built.predict()[0]})  # KPI scale stays 50,000
    return MMMPosterior(form, data, posterior_draws, 1, spec)


def _mondays(weeks: int) -> list[Any]:
    import pandas as pd

    return list(pd.date_range("2023-01-02", periods=weeks, freq="7D"))


def _saved_model() -> tuple[Path, MMMPosterior]:
    from cerebro.mmm.model_file import save_mmm

    # One fixed folder, rewritten atomically on every call: examples leave no trail of folders.
    folder = Path(tempfile.gettempdir()) / "cerebro-mmm-example"
    posterior = known_posterior()
    save_mmm(posterior, folder / "mmm.cerebro")
    return folder, posterior


def mmm_predict() -> tuple[dict[str, Any], None]:
    from cerebro.mmm.forecast import plan_csv, plan_frame, window_controls

    folder, posterior = _saved_model()
    plan = posterior.data.spend[-13:] * 1.1
    controls = window_controls(posterior, 13, None, "mean")
    with atomic_path(folder / "plan.csv") as tmp:
        tmp.write_bytes(plan_csv(plan_frame(posterior, plan, controls)))
    return {"model": str(folder / "mmm.cerebro"), "plan": str(folder / "plan.csv")}, None


def mmm_optimize() -> tuple[dict[str, Any], None]:
    folder, _ = _saved_model()
    fields = {"model": str(folder / "mmm.cerebro"), "bounds": {"tv": (0.5, 1.5)}}
    return fields, None
