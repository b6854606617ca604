"""`longitudinal`: the mean outcome under treatment strategies over time (runner, result, plot,
registration).

Estimand: E[Y^g], the mean of the end-of-follow-up outcome had every unit followed strategy g
("always", "never", "treat when engagement < x"), and the contrasts of each strategy with the
last one listed. Identified under sequential exchangeability – in every period, treatment is as
good as random given the measured past (confounders and treatment so far, baseline covariates) –
positivity and consistency, even when the confounders are themselves affected by earlier
treatment, where a regression that adjusts for them is biased (Hernán & Robins, *What If*,
Part III). Estimated by the parametric g-formula (`gformula`) or IP weighting (`msm`), with
normal-based bootstrap intervals (estimate ± z × the SD of the replicates; units resampled,
every model refitted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.context import progress
from cerebro.core.errors import UserInputError
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.load import load_table, require_columns
from cerebro.longitudinal.spec import LongitudinalSpec

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.longitudinal.data import Panel
    from cerebro.longitudinal.strategies import Strategy

METHOD_NAMES = {
    "gformula": "parametric g-formula (Monte Carlo)",
    "msm": "IP-weighted marginal structural model",
}
ASSUMPTIONS = (
    "the strategies' effects are causal under sequential exchangeability (in every period, "
    "treatment depends on nothing that also affects the outcome beyond the measured confounders, "
    "earlier treatment and baseline covariates), positivity and consistency; {models}."
)


def _frame(spec: LongitudinalSpec, data: pd.DataFrame | None) -> pd.DataFrame:
    if data is None:
        if spec.data is None:
            raise UserInputError("no data: pass a DataFrame or set 'data' to a file path.")
        return load_table(spec.data, spec.columns())
    require_columns([str(c) for c in data.columns], spec.columns(), "the data")
    return data


def _means(spec: LongitudinalSpec, panel: Panel, strategies: list[Strategy], seed: int):
    """(E[Y^g] per strategy, units following each – None for the g-formula)."""
    if spec.method == "msm":
        from cerebro.longitudinal.msm import msm_means

        return msm_means(panel, strategies)
    from cerebro.longitudinal.gformula import gformula_means

    return gformula_means(panel, strategies, spec.simulations, seed), None


def _bootstrap(spec: LongitudinalSpec, panel: Panel, strategies: list[Strategy]) -> np.ndarray:
    """reps × strategies means from resampled units (a replicate that cannot be fitted – no
    unit following a strategy, a separated model – is drawn again, at most `reps` times)."""
    rng = np.random.default_rng(spec.seed)
    draws = np.empty((spec.bootstrap, len(strategies)))
    advance = progress("Bootstrapping the strategies", spec.bootstrap)
    done, failed = 0, 0
    while done < spec.bootstrap:
        sample = panel.take(rng.integers(0, panel.n, panel.n))
        try:
            draws[done] = _means(spec, sample, strategies, spec.seed + 1 + done)[0]
        except UserInputError:
            failed += 1
            if failed > spec.bootstrap:
                raise UserInputError(
                    "more than half of the bootstrap samples could not be fitted (too few units "
                    "following a strategy, or a separated model); use more data or --bootstrap 0."
                ) from None
            continue
        done += 1
        advance(1)
    return draws


def run_longitudinal(spec: LongitudinalSpec, data: pd.DataFrame | None = None) -> Result:
    """The `longitudinal` runner every face calls."""
    from cerebro.longitudinal.data import prepare

    panel = prepare(_frame(spec, data), spec)
    strategies = spec.parsed_strategies()
    means, follow = _means(spec, panel, strategies, spec.seed)
    draws = _bootstrap(spec, panel, strategies) if spec.bootstrap else None
    estimates = _estimates(spec, strategies, means, draws)
    findings = [*panel.findings, *_findings(spec, panel, strategies, follow)]
    table: dict[str, Any] = {"strategy": [s.text for s in strategies], "mean": means}
    if draws is not None:
        table["ci_low"] = [e.ci_low for e in estimates[: len(strategies)]]
        table["ci_high"] = [e.ci_high for e in estimates[: len(strategies)]]
    if follow is not None:
        table["units_following"] = follow
    reference = strategies[-1].text
    best = strategies[int(np.argmax(means))].text
    return Result(
        kind="longitudinal",
        method=spec.method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={"strategies": table},
        summary={
            "title": f"{spec.outcome} under treatment strategies: {METHOD_NAMES[spec.method]}",
            "narrative": f"Over {panel.K} periods, the mean {spec.outcome} is highest under "
            f"'{best}' ({means.max():.4g}); contrasts are against '{reference}'.",
            "alpha": spec.alpha,
            "units": panel.n,
            "periods": panel.K,
        },
    )


def _estimates(spec: LongitudinalSpec, strategies: list[Strategy], means: np.ndarray,
               draws: np.ndarray | None) -> list[Estimate]:  # fmt: skip
    from cerebro.stats.intervals import normal_interval

    def one(label: str, key: str, value: float, replicates: np.ndarray | None, p: bool) -> Estimate:
        if replicates is None:
            return Estimate(label, value, key=key)
        # normal-based on the bootstrap SE, as the book's programs (Stata `bstat`): with ~100
        # replicates the percentile limits are noisy (coverage 0.915 against 0.955 in
        # tests/test_longitudinal_simulation.py's design)
        se = float(np.std(replicates, ddof=1))
        low, high, p_value = normal_interval(value, se, spec.alpha)
        return Estimate(label, value, se, low, high, p_value if p else None, key=key)

    out = [one(f"mean {spec.outcome} under '{s.text}'", f"mean_{s.key}", float(m),
               None if draws is None else draws[:, i], False)
           for i, (s, m) in enumerate(zip(strategies, means, strict=True))]  # fmt: skip
    last = len(strategies) - 1
    for i, s in enumerate(strategies[:-1]):
        out.append(one(f"'{s.text}' − '{strategies[last].text}'",
                       f"{s.key}_vs_{strategies[last].key}", float(means[i] - means[last]),
                       None if draws is None else draws[:, i] - draws[:, last], True))  # fmt: skip
    return out


def _findings(spec: LongitudinalSpec, panel: Panel, strategies: list[Strategy],
              follow: np.ndarray | None) -> list[Finding]:  # fmt: skip
    models = (
        "the g-formula also needs correct models for each confounder given the previous period "
        "and for the outcome given the whole history"
        if spec.method == "gformula"
        else "IP weighting also needs correct treatment models in every period"
    )
    out = [Finding("info", "sequential_exchangeability", ASSUMPTIONS.format(models=models))]
    if follow is not None:
        for s, count in zip(strategies, follow, strict=True):
            level = "warning" if count < 20 else "info"
            out.append(Finding(level, "units_following", f"{count} of {panel.n} units followed "
                               f"'{s.text}' in every period"
                               + ("; the estimate rests on very few units." if level == "warning"
                                  else ".")))  # fmt: skip
    return out


longitudinal = python_face(
    LongitudinalSpec,
    run_longitudinal,
    name="longitudinal",
    summary="Mean outcome under treatment strategies over time (always, never, treat when a "
    "confounder crosses a threshold) by the parametric g-formula or IP-weighted MSMs.",
    example="""
    >>> res = longitudinal(df, unit="customer", time="month", treatment="emailed",
    ...                    confounders=["engagement"], baseline=["tenure"], outcome="revenue",
    ...                    strategies=["always", "treat when engagement < 0.3", "never"])
    """,
)


def plot(result: Result) -> Any:
    """The mean outcome under each strategy with its interval."""
    from cerebro.core.figure import new_figure

    rows = result.tables.columns("strategies")
    fig = new_figure(7, 0.6 * len(rows["strategy"]) + 2)
    ax = fig.subplots()
    y = np.arange(len(rows["strategy"]))
    means = np.asarray(rows["mean"], float)
    if "ci_low" in rows:
        low, high = np.asarray(rows["ci_low"], float), np.asarray(rows["ci_high"], float)
        ax.errorbar(means, y, xerr=[means - low, high - means], fmt="o", color="tab:blue")
    else:
        ax.plot(means, y, "o", color="tab:blue")
    ax.set_yticks(y, rows["strategy"])
    ax.invert_yaxis()
    ax.set_xlabel(f"mean {result.spec.outcome}" if hasattr(result.spec, "outcome") else "mean")
    fig.suptitle(result.summary.get("title", "Strategies"), fontsize=10)
    return fig


register(
    Method(
        kind="longitudinal",
        spec_type=LongitudinalSpec,
        run=run_longitudinal,
        summary="Time-varying treatments: mean outcome under strategies (always, never, "
        "treat when a confounder crosses a threshold) by the parametric g-formula or "
        "IP-weighted MSMs, with bootstrap CIs.",
        plot="cerebro.longitudinal.analysis:plot",
        example="cerebro.longitudinal.synthetic:example",
    )
)
