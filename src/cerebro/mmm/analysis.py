"""`run_mmm`: fit a national Bayesian media mix model and report what each channel did.

Estimands (per channel, over the fitted weeks, posterior mean and equal-tailed credible interval
at level 1 − alpha): the contribution (KPI minus the model's KPI with the channel's spend at
zero), ROI = contribution ÷ spend, and marginal ROI (the extra contribution per extra unit of
spend when every week's spend of the channel rises by 1%). Assumptions: the model of
`cerebro.mmm.posterior` – additive (or, with log KPI, multiplicative) channel effects, the
chosen adstock and saturation shared by all weeks, no unmodelled confounder of spend and KPI
(spend planned on demand the controls and seasonality do not capture biases ROI upwards).
Reference: Jin, Wang, Sun, Chan & Koehler (2017), "Bayesian methods for media mix modeling with
carryover and shape effects", Google; Chan & Perry (2017), "Challenges and opportunities in
media mix modeling", Google.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.output import Artefact, write_bytes
from cerebro.core.python_face import python_face
from cerebro.core.registry import Method, register
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.validate import require_finite_result
from cerebro.engine.panel import event_panel
from cerebro.mmm.data import MMMData, prepare
from cerebro.mmm.model_file import mmm_bytes
from cerebro.mmm.spec import MMMSpec
from cerebro.stats.intervals import equal_tailed
from cerebro.stats.mcmc import convergence_problems

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.mmm.calibration import LiftTests
    from cerebro.mmm.posterior import MMMPosterior

CURVE_POINTS = 25


def fit_posterior(
    spec: MMMSpec, data: MMMData, tests: LiftTests | None = None
) -> tuple[MMMPosterior, Any]:
    """The fitted model's draws (NUTS or SVI) as an `MMMPosterior`, and the fit's diagnostics;
    `tests` (lift tests) add their likelihood terms. With `spec.priors` "pymc-marketing" the
    data are rescaled as PyMC-Marketing does (`cerebro.mmm.pymc_priors`) and the posterior
    keeps that scaling."""
    from cerebro.mmm.inference import fit_as_specified
    from cerebro.mmm.model import NATIONAL, model_inputs
    from cerebro.mmm.posterior import MMMPosterior, ModelForm

    form = ModelForm(spec.adstock, spec.saturation, spec.l_max, spec.normalize, spec.likelihood)
    if spec.priors == "pymc-marketing":
        from cerebro.mmm.pymc_priors import PYMC_MARKETING, pymc_inputs, pymc_marketing_data

        data = pymc_marketing_data(data)
        fit, chains = fit_as_specified(spec, PYMC_MARKETING, form, pymc_inputs(data))
    else:
        inputs = model_inputs(data, spec.roi_prior, tests)
        fit, chains = fit_as_specified(spec, NATIONAL, form, inputs)
    posterior = MMMPosterior(form, data, fit.flat(), chains, spec.model_dump(mode="json"))
    return posterior, fit


def _interval(draws: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Posterior mean and the equal-tailed 1 − alpha interval of draws along axis 0."""
    low, high = equal_tailed(draws, alpha)
    return float(draws.mean(axis=0)), float(low), float(high)


def _fit_quality(observed: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """R² = 1 − SS_res / SS_tot and MAPE = mean |error| / |observed| (in %) of the posterior
    mean prediction."""
    residual = observed - predicted
    total = ((observed - observed.mean()) ** 2).sum()
    r2 = 1 - (residual**2).sum() / total if total > 0 else float("nan")
    with np.errstate(divide="ignore"):
        mape = 100 * float(np.mean(np.abs(residual) / np.abs(observed)))
    return float(r2), mape


def run_mmm(
    spec: MMMSpec, frame: pd.DataFrame | None = None, calibration: pd.DataFrame | None = None
) -> Result:
    """Fit the MMM `spec` describes (lift tests: `spec.calibration` or the DataFrame
    `calibration`); the posterior is `result.data`, a `spec.save` file an artefact. With
    `spec.geo_column`, the geo-hierarchical model (`cerebro.mmm.geo_analysis`). With
    `spec.panel_freq` the data are events, totalled per (geo and) period by the engine first:
    KPI and spend summed, controls and population constant within a (geo and) period."""
    extra = [spec.population_column] if spec.population_column else []
    frame, spec = event_panel(
        spec,
        frame,
        spec.geo_column,
        spec.date_column,
        [spec.kpi, *spec.channels, *(spec.spend_columns or {}).values()],
        [*spec.controls, *extra],
    )
    if spec.geo_column:
        from cerebro.mmm.geo_analysis import run_geo_mmm

        return run_geo_mmm(spec, frame, calibration)
    return _run_national(spec, frame, calibration)


def _run_national(
    spec: MMMSpec, frame: pd.DataFrame | None, calibration: pd.DataFrame | None
) -> Result:
    """The national model (`run_mmm`)."""
    findings: list[Finding] = []
    data = prepare(spec, frame, findings)
    tests = _lift_tests(spec, data, calibration)
    posterior, fit = fit_posterior(spec, data, tests)
    require_finite_result(
        posterior.draws["beta"],
        "the channel coefficients",
        "check the spend columns, or try --inference nuts with more warm-up.",
    )
    a, n = spec.alpha, data.n_fit
    channels = data.channels
    roi, mroi = posterior.roi(), posterior.marginal_roi()
    contrib = posterior.contributions()
    total = contrib[:, :n].sum(axis=1)
    predicted = posterior.predict()
    estimates: list[Estimate] = []
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "channel",
            "spend",
            "contribution",
            "contribution_low",
            "contribution_high",
            "share",
            "roi",
            "roi_low",
            "roi_high",
            "mroi",
            "mroi_low",
            "mroi_high",
        )
    }
    kpi_total = float(data.kpi[:n].sum())
    for c, name in enumerate(channels):
        spend = float(data.money_spend[:n, c].sum())
        values = {}
        for key, draws, label in (
            ("roi", roi[:, c], f"ROI of {name}"),
            ("mroi", mroi[:, c], f"marginal ROI of {name}"),
            ("contribution", total[:, c], f"contribution of {name}"),
        ):
            mean, low, high = _interval(draws, a)
            values[key] = (mean, low, high)
            estimates.append(
                Estimate(label, mean, float(draws.std()), low, high, key=f"{key}_{name}")
            )
        rows["channel"].append(name)
        rows["spend"].append(spend)
        for key in ("contribution", "roi", "mroi"):
            rows[key].append(values[key][0])
            rows[f"{key}_low"].append(values[key][1])
            rows[f"{key}_high"].append(values[key][2])
        rows["share"].append(values["contribution"][0] / kpi_total)
    if spec.spend_columns:  # channels in media units: their units and cost per unit
        rows["units"] = data.spend[:n].sum(axis=0).tolist()
        rows["cost_per_unit"] = data.cost.tolist()
        estimates += [
            Estimate(f"cost per unit of {name}", float(data.cost[c]), key=f"cost_per_unit_{name}")
            for c, name in enumerate(channels)
            if name in spec.spend_columns
        ]
    parameters = _parameter_table(spec, posterior, fit, data)
    quality = _fit_and_parameter_estimates(spec, data, predicted, parameters)
    r2, mape = quality[0].value, quality[1].value  # the fitted weeks' R² and MAPE, for the text
    estimates += quality
    findings += _diagnostics(spec, fit, data)
    tables = {
        "channels": rows,
        "parameters": parameters,
        "decomposition": _decomposition(posterior, predicted, contrib),
        "response_curves": _response_curves(posterior, a),
        "adstock": _adstock_table(posterior),
    }
    findings += _calibration(tables, posterior, tests, a)
    best = int(np.argmax(rows["roi"]))
    level = f"{1 - a:.0%}"
    narrative = (
        f"Over {n} fitted weeks, media explain {sum(rows['share']):.0%} of {spec.kpi}. "
        f"{channels[best]} has the highest ROI, {rows['roi'][best]:.2f} ({level} interval "
        f"{rows['roi_low'][best]:.2f} to {rows['roi_high'][best]:.2f}); fit R² {r2:.2f}, "
        f"MAPE {mape:.1f}%."
    )
    return Result(
        kind="mmm",
        method=spec.inference,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables=tables,
        data=posterior,
        artefacts=[Artefact("save", spec.save, mmm_bytes(posterior), write_bytes)]
        if spec.save
        else [],
        summary={
            "headline_table": "channels",
            "title": f"Media mix model of {spec.kpi} — {spec.adstock} adstock, "
            f"{spec.saturation} saturation, {spec.inference.upper()}"
            + (", PyMC-Marketing's priors" if spec.priors == "pymc-marketing" else ""),
            "narrative": narrative,
            "alpha": a,
            "units": data.weeks,
            "fitted_weeks": n,
            "holdout_weeks": spec.holdout,
            "draws": posterior.n_draws,
            "chains": posterior.chains,
            "fit_seconds": round(fit.seconds, 2),
            "priors": spec.priors,
            "divergences": int(fit.divergences),
            "steps_per_draw": None  # NUTS only
            if np.isnan(fit.steps_per_draw)
            else round(float(fit.steps_per_draw), 1),
        },
    )


def _lift_tests(spec: MMMSpec, data: MMMData, calibration: pd.DataFrame | None) -> LiftTests | None:
    """The checked lift tests of `calibration` (a DataFrame) or `spec.calibration`, or None."""
    from cerebro.mmm.calibration import read_lift_tests

    source = calibration if calibration is not None else spec.calibration
    if source is None:
        return None
    return read_lift_tests(source, data, spec.calibration_channel, spec.calibration_spend)


def _calibration(
    tables: dict[str, Any], posterior: MMMPosterior, tests: LiftTests | None, alpha: float
) -> list[Finding]:
    """Add the `calibration` table (if there are lift tests); its findings."""
    if tests is None:
        return []
    from cerebro.mmm.calibration import calibration_table

    tables["calibration"], findings = calibration_table(posterior, tests, alpha)
    return findings


CHANNEL_SITES = ("alpha", "theta", "weibull_lam", "weibull_k", "slope", "kappa", "lam", "effect",
                 "beta")  # fmt: skip


def _element_labels(spec: MMMSpec, data: MMMData) -> dict[str, list[str]]:
    """Names of the elements of each vector parameter (scalars have none)."""
    labels = {site: data.channels for site in CHANNEL_SITES}
    changes = [f"cp{j + 1}" for j in range(len(data.changepoints))]
    return {**labels, "coef": data.feature_names(), "roi": list(spec.roi_prior or {}),
            "trend_delta": changes}  # fmt: skip


def _fit_and_parameter_estimates(
    spec: MMMSpec, data: MMMData, predicted: np.ndarray, parameters: dict[str, list]
) -> list[Estimate]:
    """R² and MAPE on the fitted weeks (first, in that order) and the held-out weeks, then one
    estimate per parameter."""
    n = data.n_fit
    r2, mape = _fit_quality(data.kpi[:n], predicted[:, :n].mean(axis=0))
    out = [Estimate("R² (fitted weeks)", r2, key="r2"),
           Estimate("MAPE % (fitted weeks)", mape, key="mape")]  # fmt: skip
    if spec.holdout:
        r2_out, mape_out = _fit_quality(data.kpi[n:], predicted[:, n:].mean(axis=0))
        out.append(Estimate("R² (holdout weeks)", r2_out, key="r2_holdout"))
        out.append(Estimate("MAPE % (holdout weeks)", mape_out, key="mape_holdout"))
    for i, name in enumerate(parameters["parameter"]):
        values = (parameters[k][i] for k in ("mean", "sd", "low", "high"))
        out.append(Estimate(name, *values, key=f"param_{name}"))
    return out


def _parameter_table(
    spec: MMMSpec,
    posterior: Any,
    fit: Any,
    data: MMMData,
    labels: dict[str, list[str]] | None = None,
) -> dict[str, list]:
    """One row per scalar parameter (name_element), mean, sd, interval, R-hat, bulk/tail ESS;
    `labels` name the elements of each parameter (default: the national model's)."""
    labels = _element_labels(spec, data) if labels is None else labels
    out: dict[str, list[Any]] = {
        k: [] for k in ("parameter", "mean", "sd", "low", "high", "rhat", "ess_bulk", "ess_tail")
    }
    for name in sorted(posterior.draws):
        x = posterior.draws[name].reshape(posterior.n_draws, -1)
        missing = np.full(x.shape[1], np.nan)
        diagnostics = [
            np.ravel(d.get(name, missing)) for d in (fit.rhat, fit.ess_bulk, fit.ess_tail)
        ]
        for j, element in enumerate(labels.get(name) or [""] * x.shape[1]):
            mean, low, high = _interval(x[:, j], spec.alpha)
            out["parameter"].append(f"{name}_{element}" if element else name)
            values = (mean, x[:, j].std(), low, high, *(d[j] for d in diagnostics))
            for key, value in zip(list(out)[1:], values, strict=True):
                out[key].append(float(value))
    return out


def _diagnostics(
    spec: MMMSpec, fit: Any, data: MMMData, labels: dict[str, list[str]] | None = None
) -> list[Finding]:
    if spec.inference == "svi":
        return [
            Finding(
                "warning",
                "approximate",
                "fitted by SVI, a variational approximation that understates "
                "uncertainty; use --inference nuts for intervals to report.",
            )
        ]
    labels = _element_labels(spec, data) if labels is None else labels
    problems = convergence_problems(fit.rhat, fit.ess_bulk, fit.ess_tail, labels)
    findings = []
    if fit.divergences:
        findings.append(
            Finding(
                "warning",
                "divergences",
                f"{fit.divergences} divergent transitions: the sampler missed part of the posterior, "
                "so the intervals may be wrong; raise --target-accept (e.g. 0.95), or give weakly "
                "identified channels an --roi-prior.",
            )
        )
    if problems:
        shown = "; ".join(problems[:4]) + (
            f"; and {len(problems) - 4} more" if len(problems) > 4 else ""
        )
        findings.append(
            Finding(
                "warning",
                "not_converged",
                f"the fit is not trustworthy yet: {shown}; run more --draws and --warmup (or more "
                "--chains) before reading the numbers.",
            )
        )
    if not findings:
        findings.append(
            Finding(
                "info",
                "converged",
                f"{spec.chains} chains converged (every R-hat ≤ 1.01, bulk and tail ESS ≥ 400, no "
                "divergent transitions).",
            )
        )
    return findings


def _decomposition(posterior: Any, predicted: np.ndarray, contrib: np.ndarray) -> dict:
    data = posterior.data
    out: dict[str, Any] = {
        "date": data.dates,
        "holdout": [t >= data.n_fit for t in range(data.weeks)],
        "observed": data.kpi.tolist(),
        "fitted": predicted.mean(axis=0).tolist(),
        "baseline": posterior.baseline().mean(axis=0).tolist(),
    }
    for c, name in enumerate(data.channels):
        out[name] = contrib[:, :, c].mean(axis=0).tolist()
    return out


def _response_curves(posterior: Any, a: float) -> dict[str, list]:
    """Weekly contribution at constant weekly spend from 0 to twice the largest weekly spend."""
    data = posterior.data
    out: dict[str, list[Any]] = {
        k: [] for k in ("channel", "weekly_spend", "contribution", "low", "high")
    }
    for c, name in enumerate(data.channels):
        grid = np.linspace(0, 2 * data.money_spend[:, c].max(), CURVE_POINTS)
        curve = posterior.response_curve(c, grid)
        low, high = equal_tailed(curve, a)
        out["channel"] += [name] * len(grid)
        out["weekly_spend"] += grid.tolist()
        out["contribution"] += curve.mean(axis=0).tolist()
        out["low"] += low.tolist()
        out["high"] += high.tolist()
    return out


def _adstock_table(posterior: Any) -> dict[str, list]:
    weights = posterior.adstock_weights().mean(axis=0)  # (lags, channels)
    out: dict[str, list[Any]] = {"channel": [], "lag": [], "weight": []}
    for c, name in enumerate(posterior.data.channels):
        out["channel"] += [name] * weights.shape[0]
        out["lag"] += list(range(weights.shape[0]))
        out["weight"] += weights[:, c].tolist()
    return out


def plot(result: Result) -> Any:
    """Decomposition over time (baseline and stacked channel contributions against the KPI),
    ROI with its interval per channel, and the response curves."""
    from cerebro.core.figure import new_figure

    dec = result.tables.columns("decomposition")
    ch = result.tables.columns("channels")
    curves = result.tables.columns("response_curves")
    names = ch["channel"]
    fig = new_figure(12, 8)
    grid = fig.add_gridspec(2, 2, height_ratios=[1.1, 1])
    top = fig.add_subplot(grid[0, :])
    t = np.arange(len(dec["date"]))
    layers = [np.asarray(dec["baseline"], float)] + [np.asarray(dec[n], float) for n in names]
    top.stackplot(t, *layers, labels=["baseline", *names], alpha=0.7)
    top.plot(t, dec["observed"], color="black", linewidth=1, label="observed")
    top.plot(t, dec["fitted"], color="black", linestyle="--", linewidth=0.8, label="fitted")
    held = np.asarray(dec["holdout"], bool)
    if held.any():
        top.axvspan(
            int(np.argmax(held)) - 0.5, len(t) - 0.5, color="0.5", alpha=0.2, label="holdout"
        )
    step = max(1, len(t) // 8)
    top.set_xticks(t[::step], [dec["date"][i] for i in t[::step]], fontsize=7)
    top.legend(loc="upper left", fontsize=7, ncol=4)
    top.set_title("Decomposition of the KPI", loc="left", fontsize=10)
    left = fig.add_subplot(grid[1, 0])
    y = np.arange(len(names))[::-1]
    roi = np.asarray(ch["roi"], float)
    left.errorbar(
        roi,
        y,
        xerr=[roi - np.asarray(ch["roi_low"], float), np.asarray(ch["roi_high"], float) - roi],
        fmt="o",
        color="tab:blue",
        capsize=3,
    )
    left.axvline(1, color="0.5", linewidth=0.6, linestyle=":")
    left.set_yticks(y, names)
    level = 1 - float(result.summary.get("alpha", 0.1))
    left.set_title(f"ROI with {level:.0%} credible interval", loc="left", fontsize=10)
    right = fig.add_subplot(grid[1, 1])
    for name in names:
        idx = [i for i, c in enumerate(curves["channel"]) if c == name]
        x = [curves["weekly_spend"][i] for i in idx]
        line = right.plot(x, [curves["contribution"][i] for i in idx], label=name)[0]
        right.fill_between(
            x,
            [curves["low"][i] for i in idx],
            [curves["high"][i] for i in idx],
            color=line.get_color(),
            alpha=0.15,
        )
    right.set_xlabel("weekly spend")
    right.set_ylabel("weekly contribution")
    right.legend(fontsize=7)
    right.set_title("Response curves (steady state)", loc="left", fontsize=10)
    fig.suptitle(result.summary.get("title", "Media mix model"), fontsize=10)
    return fig


mmm = python_face(
    MMMSpec,
    run_mmm,
    name="mmm",
    summary="Fit a Bayesian media mix model: adstock and saturation per channel, baseline with "
    "trend, seasonality and controls; contributions, ROI and marginal ROI with intervals.",
    example="""
    >>> res = mmm(df, date_column="week", kpi="revenue", channels=["tv", "search"])
    >>> res.estimate("roi_tv")
    """,
)


register(
    Method(
        kind="mmm",
        spec_type=MMMSpec,
        run=run_mmm,
        summary="Bayesian media mix model (NumPyro): adstock + saturation, ROI and marginal ROI "
        "with credible intervals, decomposition, response curves.",
        plot="cerebro.mmm.analysis:plot",
        example="cerebro.mmm.examples:mmm",
    )
)
