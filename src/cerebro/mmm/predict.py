"""`run_mmm_predict`: what a saved media mix model predicts under a spend plan for the weeks
after its data (``cerebro mmm-predict mmm.cerebro --plan next_quarter.csv``).

Per posterior draw (`cerebro.mmm.forecast.PlanWindow`): the KPI in each week of the plan, its
total, the incremental KPI (the prediction minus the prediction with no media in the plan's
weeks; the carry-over of the data's last weeks is in both), the plan's ROI (incremental KPI ÷
the plan's spend) and each channel's contribution in the plan's weeks (the prediction minus the
prediction with that channel's plan spend at zero); posterior means with equal-tailed credible
intervals at level 1 − alpha.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Result
from cerebro.mmm.forecast import open_model, plan_window, read_plan, window_notes
from cerebro.mmm.optimize import PosteriorSummary
from cerebro.mmm.plan_spec import MMMPredictSpec
from cerebro.stats.intervals import equal_tailed


def _summary(label: str, key: str, draws: np.ndarray, alpha: float) -> Estimate:
    s = PosteriorSummary.of(draws, alpha)
    return Estimate(label, s.mean, s.sd, s.low, s.high, key=key)


def run_mmm_predict(spec: MMMPredictSpec, data: Any = None) -> Result:
    """Predict the KPI of the plan file `spec.plan` with the model `spec.model` (or the
    `MMMPosterior` passed as `data`)."""
    posterior = open_model(spec.model, data)
    d, a = posterior.data, spec.alpha
    if not spec.plan:
        raise UserInputError("no plan: give the spend plan file with --plan (plan: in a spec).")
    dates, plan, controls = read_plan(posterior, spec.plan)
    window = plan_window(posterior, len(plan), controls, spec.controls_at)
    kpi = window.kpi(plan)  # (S, H)
    incremental = window.response(plan)
    contributions = window.contributions(plan).sum(axis=1)  # (S, C)
    spend = plan.sum(axis=0)
    estimates = [
        _summary("KPI over the plan's weeks", "kpi_total", kpi.sum(axis=1), a),
        _summary("incremental KPI (vs no media in the window)", "incremental_kpi", incremental, a),
    ]
    if spend.sum() > 0:
        estimates.append(_summary("ROI of the plan", "roi_plan", incremental / spend.sum(), a))
    rows: dict[str, list[Any]] = {
        k: [] for k in ("channel", "spend", "contribution", "low", "high", "roi")
    }
    for c, name in enumerate(d.channels):
        e = _summary(f"contribution of {name}", f"contribution_{name}", contributions[:, c], a)
        estimates.append(e)
        estimates.append(Estimate(f"spend of {name}", float(spend[c]), key=f"spend_{name}"))
        rows["channel"].append(name)
        rows["spend"].append(float(spend[c]))
        rows["contribution"].append(e.value)
        rows["low"].append(e.ci_low)
        rows["high"].append(e.ci_high)
        rows["roi"].append(e.value / spend[c] if spend[c] > 0 else None)
    low, high = equal_tailed(kpi, a)
    weeks = {
        "date": dates,
        "kpi": kpi.mean(axis=0).tolist(),
        "low": low.tolist(),
        "high": high.tolist(),
        "incremental": (kpi - window.zero_kpi).mean(axis=0).tolist(),
        **{name: plan[:, c].tolist() for c, name in enumerate(d.channels)},
    }
    history = {
        "date": d.dates,
        "observed": d.kpi.tolist(),
        "fitted": posterior.predict().mean(axis=0).tolist(),
    }
    findings = window_notes(posterior, len(plan), controls is not None, spec.controls_at)
    total = estimates[0]
    level = f"{1 - a:.0%}"
    narrative = (
        f"Over the {len(plan)} weeks from {dates[0]} to {dates[-1]}, spending "
        f"{spend.sum():,.0f} in total, the model predicts a KPI of {total.value:,.4g} ({level} "
        f"interval {total.ci_low:,.4g} to {total.ci_high:,.4g}), of which "
        f"{estimates[1].value:,.4g} is due to the plan's media."
    )
    return Result(
        kind="mmm_predict",
        method="posterior",
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"weeks": weeks, "channels": rows, "history": history},
        summary={
            "headline_table": "channels",
            "title": f"What-if: the KPI under a {len(plan)}-week spend plan",
            "narrative": narrative,
            "alpha": a,
            "units": len(plan),
            "draws": posterior.n_draws,
        },
    )


def plot(result: Result) -> Any:
    """The observed KPI and the model's fit over the data's weeks, then the plan's predicted
    KPI with its credible band."""
    from cerebro.core.figure import new_figure

    past = result.tables.columns("history")
    ahead = result.tables.columns("weeks")
    n, h = len(past["date"]), len(ahead["date"])
    fig = new_figure(10, 4)
    ax = fig.add_subplot(1, 1, 1)
    t, u = np.arange(n), np.arange(n, n + h)
    ax.plot(t, past["observed"], color="black", linewidth=1, label="observed")
    ax.plot(t, past["fitted"], color="0.4", linestyle="--", linewidth=0.8, label="fitted")
    level = f"{1 - float(result.summary.get('alpha', 0.1)):.0%}"
    ax.fill_between(
        u, ahead["low"], ahead["high"], color="C0", alpha=0.25, label=f"{level} interval"
    )
    ax.plot(u, ahead["kpi"], color="C0", label="predicted under the plan")
    ax.axvline(n - 0.5, color="0.5", linewidth=0.6, linestyle=":")
    dates = [*past["date"], *ahead["date"]]
    step = max(1, len(dates) // 8)
    ticks = np.arange(0, len(dates), step)
    ax.set_xticks(ticks, [dates[i] for i in ticks], fontsize=7)
    ax.set_ylabel("KPI")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(result.summary.get("title", "What-if"), loc="left", fontsize=10)
    return fig


mmm_predict = python_face(
    MMMPredictSpec,
    run_mmm_predict,
    name="mmm_predict",
    summary="What-if: the KPI a saved media mix model predicts under a spend plan for the weeks "
    "after its data, with credible intervals, the incremental KPI and the plan's ROI.",
    example="""
    >>> res = mmm_predict(model="mmm.cerebro", plan="next_quarter.csv")
    >>> res.estimate("incremental_kpi")
    """,
)

register(
    Method(
        kind="mmm_predict",
        spec_type=MMMPredictSpec,
        run=run_mmm_predict,
        summary="What-if for a saved MMM: the KPI per week under a spend plan after the data, "
        "incremental KPI, ROI and channel contributions with credible intervals.",
        plot="cerebro.mmm.predict:plot",
        example="cerebro.mmm.plan_examples:mmm_predict",
    )
)
