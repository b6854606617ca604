"""`run_geo_mmm`: the geo-hierarchical media mix model (`cerebro mmm --geo-column`).

Estimands, per channel, posterior mean and equal-tailed interval at 1 − alpha: the national
contribution (Σ over geos of the KPI minus the model's KPI with the channel's spend at zero in
that geo, over the fitted weeks), national ROI (that ÷ the channel's national spend), national
marginal ROI (spend-weighted mean of the geos' marginal ROIs: every geo's spend up 1%); and per
geo and channel the contribution and ROI. Assumptions: those of the national model in every
geo, the adstock and saturation shape shared by all geos, channel effects exchangeable across
geos (partially pooled, `cerebro.mmm.geo_model`). References: Sun et al. (2017), "Geo-level
Bayesian hierarchical media mix modeling", Google; Meridian (Google, 2024).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.output import Artefact, write_bytes
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.validate import require_finite_result
from cerebro.mmm.analysis import (
    CHANNEL_SITES,
    _adstock_table,
    _decomposition,
    _diagnostics,
    _fit_quality,
    _interval,
    _parameter_table,
    _response_curves,
)
from cerebro.mmm.geo import GeoData, GeoPosterior, prepare_geo
from cerebro.mmm.geo_calibration import GeoLiftTests
from cerebro.mmm.spec import MMMSpec

if TYPE_CHECKING:
    import pandas as pd


def fit_geo_posterior(
    spec: MMMSpec, data: GeoData, tests: GeoLiftTests | None = None
) -> tuple[GeoPosterior, Any]:
    """The geo model's draws (NUTS or SVI) as a `GeoPosterior`, and the fit's diagnostics;
    `tests` (lift tests) add their likelihood terms."""
    from cerebro.mmm.geo_model import GEO, geo_inputs
    from cerebro.mmm.inference import fit_as_specified
    from cerebro.mmm.posterior import ModelForm

    form = ModelForm(spec.adstock, spec.saturation, spec.l_max, spec.normalize, spec.likelihood)
    lags = spec.l_max + (spec.adstock == "weibull_cdf")  # the Weibull CDF kernel has l_max + 1
    inputs = geo_inputs(data, spec.geo_pooling, lags, spec.roi_prior, tests)
    fit, chains = fit_as_specified(spec, GEO, form, inputs)
    return GeoPosterior(form, data, fit.flat(), chains, spec.model_dump(mode="json")), fit


def geo_labels(data: GeoData) -> dict[str, list[str]]:
    """Names of the elements of each parameter of the geo model."""
    channels = data.first.channels
    pairs = [f"{g}_{c}" for g in data.geos for c in channels]
    labels: dict[str, list[str]] = {site: channels for site in CHANNEL_SITES}
    return {
        **labels,
        "beta": pairs,
        "effect": pairs,
        "effect_z": pairs,
        "log_effect": pairs,
        "effect_tau": channels,
        "intercept": data.geos,
        "sigma": data.geos,
        "coef": data.first.feature_names(),
    }


def _channel_rows(posterior: GeoPosterior, alpha: float) -> tuple[dict, list[Estimate]]:
    """National channels table and its estimates."""
    data, n = posterior.data, posterior.data.n_fit
    total = posterior.contributions()[:, :n].sum(axis=(1, 2))  # (D, C)
    roi, mroi = posterior.roi(), posterior.marginal_roi()
    keys = ("contribution", "roi", "mroi")
    rows: dict[str, list[Any]] = {"channel": [], "spend": []}
    for key in keys:
        rows.update({key: [], f"{key}_low": [], f"{key}_high": []})
    rows["share"] = []
    estimates = []
    for c, name in enumerate(data.channels):
        rows["channel"].append(name)
        rows["spend"].append(float(data.spend[:n, c].sum()))
        for key, draws, label in (
            ("contribution", total[:, c], f"contribution of {name} (all geos)"),
            ("roi", roi[:, c], f"ROI of {name} (all geos)"),
            ("mroi", mroi[:, c], f"marginal ROI of {name} (all geos)"),
        ):
            mean, low, high = _interval(draws, alpha)
            rows[key].append(mean)
            rows[f"{key}_low"].append(low)
            rows[f"{key}_high"].append(high)
            estimates.append(
                Estimate(label, mean, float(draws.std()), low, high, key=f"{key}_{name}")
            )
        rows["share"].append(rows["contribution"][-1] / float(data.kpi[:n].sum()))
    return rows, estimates


def _geo_rows(posterior: GeoPosterior, alpha: float) -> dict[str, list[Any]]:
    """One row per geo and channel: spend, contribution and ROI with intervals."""
    n = posterior.data.n_fit
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "geo",
            "channel",
            "spend",
            "contribution",
            "contribution_low",
            "contribution_high",
            "roi",
            "roi_low",
            "roi_high",
        )
    }
    for g, geo in enumerate(posterior.geo_data.geos):
        part = posterior.geos[g]
        total = part.contributions()[:, :n].sum(axis=1)
        spend = part.data.spend[:n].sum(axis=0)
        for c, name in enumerate(part.data.channels):
            rows["geo"].append(geo)
            rows["channel"].append(name)
            rows["spend"].append(float(spend[c]))
            for key, draws in (
                ("contribution", total[:, c]),
                ("roi", total[:, c] / spend[c] if spend[c] > 0 else np.full(len(total), np.nan)),
            ):
                mean, low, high = _interval(draws, alpha)
                rows[key].append(mean)
                rows[f"{key}_low"].append(low)
                rows[f"{key}_high"].append(high)
    return rows


def _quality(posterior: GeoPosterior, spec: MMMSpec) -> list[Estimate]:
    """R² and MAPE of the national KPI and of every geo-week, fitted and holdout weeks."""
    n = posterior.data.n_fit
    per_geo = np.stack([p.predict().mean(axis=0) for p in posterior.geos], axis=1)  # (T, G)
    observed = posterior.geo_data.stacked("kpi")
    national, national_obs = per_geo.sum(axis=1), observed.sum(axis=1)
    out = []
    spans = [("", slice(0, n), "fitted weeks")]
    if spec.holdout:
        spans.append(("_holdout", slice(n, None), "holdout weeks"))
    for suffix, span, words in spans:
        r2, mape = _fit_quality(national_obs[span], national[span])
        r2_geo, mape_geo = _fit_quality(observed[span].ravel(), per_geo[span].ravel())
        out += [
            Estimate(f"R² (national, {words})", r2, key=f"r2{suffix}"),
            Estimate(f"MAPE % (national, {words})", mape, key=f"mape{suffix}"),
            Estimate(f"R² (geo-weeks, {words})", r2_geo, key=f"r2_geo{suffix}"),
            Estimate(f"MAPE % (geo-weeks, {words})", mape_geo, key=f"mape_geo{suffix}"),
        ]
    return out


def _lift_tests(
    spec: MMMSpec, data: GeoData, calibration: pd.DataFrame | None
) -> GeoLiftTests | None:
    """The checked lift tests of `calibration` (a DataFrame) or `spec.calibration`, or None."""
    from cerebro.mmm.geo_calibration import read_geo_lift_tests

    source = calibration if calibration is not None else spec.calibration
    if source is None:
        return None
    return read_geo_lift_tests(source, data, spec.calibration_channel, spec.calibration_spend)


def run_geo_mmm(
    spec: MMMSpec, frame: pd.DataFrame | None = None, calibration: pd.DataFrame | None = None
) -> Result:
    """Fit the geo-hierarchical MMM `spec` describes (lift tests: `spec.calibration` or the
    DataFrame `calibration`); the `GeoPosterior` is `result.data`."""
    from cerebro.mmm.calibration import calibration_table
    from cerebro.mmm.geo_calibration import geo_posterior_lifts
    from cerebro.mmm.model_file import mmm_bytes

    findings: list[Finding] = []
    data = prepare_geo(spec, frame, findings)
    tests = _lift_tests(spec, data, calibration)
    posterior, fit = fit_geo_posterior(spec, data, tests)
    require_finite_result(
        posterior.draws["beta"],
        "the channel coefficients",
        "check the spend columns, or try --inference nuts with more warm-up.",
    )
    a = spec.alpha
    rows, estimates = _channel_rows(posterior, a)
    estimates += _quality(posterior, spec)
    labels = geo_labels(data)
    parameters = _parameter_table(spec, posterior, fit, posterior.data, labels)
    for i, name in enumerate(parameters["parameter"]):
        values = [parameters[k][i] for k in ("mean", "sd", "low", "high")]
        estimates.append(Estimate(name, *values, key=f"param_{name}"))
    findings += _diagnostics(spec, fit, posterior.data, labels)
    contrib = posterior.contributions().sum(axis=2)
    tables = {
        "channels": rows,
        "geos": _geo_rows(posterior, a),
        "parameters": parameters,
        "decomposition": _decomposition(posterior, posterior.predict(), contrib),
        "response_curves": _response_curves(posterior, a),
        "adstock": _adstock_table(posterior),
    }
    if tests is not None:
        lifts = geo_posterior_lifts(posterior, tests)
        tables["calibration"], found = calibration_table(posterior, tests.tests, a, lifts)
        findings += found
    n, channels = posterior.data.n_fit, posterior.data.channels
    best = int(np.argmax(rows["roi"]))
    pooling = {
        "partial": "partially pooled",
        "none": "not pooled",
        "complete": "completely pooled",
    }[spec.geo_pooling]
    narrative = (
        f"Over {n} fitted weeks in {len(data.geos)} geos, media explain "
        f"{sum(rows['share']):.0%} of {spec.kpi}. {channels[best]} has the highest national ROI, "
        f"{rows['roi'][best]:.2f} ({1 - a:.0%} interval {rows['roi_low'][best]:.2f} to "
        f"{rows['roi_high'][best]:.2f}); channel effects {pooling} across geos."
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
            "title": f"Geo media mix model of {spec.kpi} — {len(data.geos)} geos, "
            f"{spec.adstock} adstock, {spec.saturation} saturation, {spec.inference.upper()}",
            "narrative": narrative,
            "alpha": a,
            "units": posterior.data.weeks * len(data.geos),
            "geos": len(data.geos),
            "fitted_weeks": n,
            "holdout_weeks": spec.holdout,
            "draws": posterior.n_draws,
            "chains": posterior.chains,
            "fit_seconds": round(fit.seconds, 2),
            "divergences": fit.divergences,
            "steps_per_draw": round(fit.steps_per_draw, 1),
        },
    )
