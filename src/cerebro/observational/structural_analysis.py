"""Results of the structural models of `cerebro causal`: `--method msm` and `--method gestimation`.

Each builder reads `StructuralData` (`structural_data.prepare_structural`), runs the numerics
(`msm`, `gestimation`) and returns a `kind: causal` result through `effect_result`: the
estimates, an `effects` headline table, the model's coefficients, the weights' summary, and the
dose-response curve (msm with a dose) or the grid of ψ (gestimation grid) that the plots draw.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from cerebro.core.results import Estimate, Finding, Result, effect_result
from cerebro.observational.checks import require_finite_estimates
from cerebro.observational.ip_weights import censoring_probability, summary_row
from cerebro.observational.spec import CausalSpec, psi_grid_bounds
from cerebro.observational.structural_data import StructuralData
from cerebro.stats.intervals import interval_from, normal_interval, quantile

_BOOT = "SEs and percentile CIs from {b} bootstrap resamples (seed {seed}), every model refitted"
ROWS = ("estimand", "measure", "estimate", "se", "ci_low", "ci_high", "p_value")


def _estimate(
    label: str, value: float, se: float, alpha: float, measure: str, method: str,
    exp: bool = False,
) -> Estimate:  # fmt: skip
    """A Wald estimate (on the log scale and exponentiated when `exp`: an odds ratio)."""
    low, high, p = normal_interval(value, se, alpha)
    if exp:
        return Estimate(label, float(np.exp(value)), None, float(np.exp(low)),
                        float(np.exp(high)), p, {"measure": measure, "method": method})  # fmt: skip
    return Estimate(label, float(value), float(se), float(low), float(high), p,
                    {"measure": measure, "method": method})  # fmt: skip


def _effects_table(estimates: list[Estimate]) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {k: [] for k in ROWS}
    for est in estimates:
        values = [est.label, est.extra["measure"], est.value, est.se, est.ci_low, est.ci_high,
                  est.p_value]  # fmt: skip
        for key, value in zip(ROWS, values, strict=True):
            rows[key].append(value)
    return rows


def _coefficients(names: list[str], beta: np.ndarray, se: np.ndarray, alpha: float) -> dict:
    low, high, p = normal_interval(beta, se, alpha)
    return {
        "term": names, "coef": beta.tolist(), "se": se.tolist(),
        "ci_low": np.asarray(low).tolist(), "ci_high": np.asarray(high).tolist(),
        "p_value": np.asarray(p).tolist(),
    }  # fmt: skip


def _doses(data: StructuralData, spec: CausalSpec) -> np.ndarray:
    """The doses of `at` ('20' or 'dose=20'), or the 10th, 50th and 90th percentiles."""
    if not spec.at:
        return np.quantile(data.a, [0.1, 0.5, 0.9])
    from cerebro.core.errors import UserInputError

    doses = []
    for item in spec.at:
        text = item.split("=", 1)[-1].strip()
        try:
            doses.append(float(text))
        except ValueError:
            raise UserInputError(
                f"--at {item!r} is not a dose; give numbers, e.g. --at 0,20."
            ) from None
    return np.array(doses)


def _bootstrapped(
    estimates: list[Estimate], data: StructuralData, spec: CausalSpec, statistic: Any
) -> None:
    """Replace each estimate's SE, limits and p by those of `spec.bootstrap` seeded resamples
    (every model refitted, weights included); odds ratios resampled on the log scale."""
    from cerebro.observational.bootstrap import bootstrap

    reps = bootstrap(data, statistic, spec.bootstrap, spec.seed, spec.jobs)  # type: ignore[arg-type]
    for k, est in enumerate(estimates):
        ratio = est.se is None
        value = float(np.log(est.value)) if ratio else est.value
        se, low, high, p = interval_from(value, 0.0, spec.alpha, reps[:, k])
        est.ci_low, est.ci_high = (
            (float(np.exp(low)), float(np.exp(high))) if ratio else (low, high)
        )
        est.se = None if ratio else se
        est.p_value = p


def _linear_scale(estimates: list[Estimate]) -> np.ndarray:
    return np.array([np.log(e.value) if e.se is None else e.value for e in estimates])


def _msm_statistic(data: StructuralData, spec: CausalSpec, doses: np.ndarray | None) -> np.ndarray:
    """The MSM's reported estimates of one resample (fixed doses), on their linear scale."""
    from cerebro.observational.msm import fit_msm

    msm = fit_msm(data, spec.dose_response, spec.censoring == "ipcw", spec.treatment,
                  spec.modifier)  # fmt: skip
    return _linear_scale(_msm_estimates(data, spec, msm, doses))


def _msm_estimates(
    data: StructuralData, spec: CausalSpec, msm: Any, doses: np.ndarray | None = None
) -> list[Estimate]:
    """What the MSM says: the effect (odds ratio), its modification by V, or E[Y^a] at doses."""
    from cerebro.observational.msm import curve

    beta, se = msm.fit.beta, msm.fit.se
    logistic = msm.fit.logistic
    measure = "odds ratio" if logistic else "difference in means"
    out: list[Estimate] = []
    if data.treatment_type == "continuous":
        doses = _doses(data, spec) if doses is None else doses
        v = None if data.v is None else float(np.mean(data.v))
        points = curve(msm, doses, v, quantile(1 - spec.alpha / 2, None))
        scale = "risk" if logistic else "mean"
        for k, dose in enumerate(doses):
            low, high = points["ci_low"][k], points["ci_high"][k]
            mean, s = points["mean"][k], points["se"][k]
            p = normal_interval(mean, s, spec.alpha)[2]
            out.append(Estimate(f"E[Y^a] at {spec.treatment} = {dose:.4g}", mean, s, low, high, p,
                                {"measure": f"potential-outcome {scale}", "method": "msm",
                                 "dose": float(dose)}))  # fmt: skip
        if len(doses) > 1:
            X = msm.design(doses[[0, -1]], None if v is None else np.full(2, v))
            w = X[1] - X[0]
            value, s = float(w @ beta), float(np.sqrt(w @ msm.fit.vcov @ w))
            label = f"{spec.treatment} {doses[-1]:.4g} vs {doses[0]:.4g}"
            out.append(_estimate(label, value, s, spec.alpha, measure, "msm", logistic))
        return out
    effects = range(1, 1 + len(msm.terms.names))
    for j in effects:
        name = msm.names[j] + (f" (at {spec.modifier} = 0)" if data.v is not None else "")
        out.append(_estimate(name, beta[j], se[j], spec.alpha, measure, "msm", logistic))
    if data.v is not None:
        first = 2 + len(msm.terms.names)
        for j in range(first, len(beta)):
            out.append(_estimate(msm.names[j], beta[j], se[j], spec.alpha,
                                 f"{'ratio' if logistic else 'change'} of the effect per unit of "
                                 f"{spec.modifier}", "msm", logistic))  # fmt: skip
    return out


def msm_result(data: StructuralData, spec: CausalSpec, findings: list[Finding]) -> Result:
    """Fit the IP-weighted MSM and present it."""
    from cerebro.observational.msm import curve, fit_msm

    if data.treatment_type != "continuous" and (spec.at or spec.dose_response != "linear"):
        from cerebro.core.errors import UserInputError

        raise UserInputError(
            f"--at and --dose-response describe a dose; {spec.treatment!r} has arms – drop them "
            "(or add --treatment-density normal for a numeric dose)."
        )
    msm = fit_msm(data, spec.dose_response, spec.censoring == "ipcw", spec.treatment,
                  spec.modifier)  # fmt: skip
    estimates = _msm_estimates(data, spec, msm)
    if spec.bootstrap:
        doses = _doses(data, spec) if data.treatment_type == "continuous" else None
        _bootstrapped(estimates, data, spec, partial(_msm_statistic, spec=spec, doses=doses))
    require_finite_estimates(estimates, "msm")
    rows = data.observed
    weights = [summary_row("treatment (stabilised)", msm.treatment_weights[rows])]
    if msm.censoring_weights is not None:
        weights.append(summary_row("censoring (stabilised)", msm.censoring_weights[rows]))
        weights.append(summary_row("product", msm.weights[rows]))
    sw = msm.weights[rows]
    kish = sw.sum() ** 2 / np.sum(sw**2)
    findings.append(Finding(
        "info" if abs(sw.mean() - 1) < 0.1 else "warning", "weights",
        f"stabilised weights: mean {sw.mean():.3f} (≈ 1 if the treatment model fits), SD "
        f"{sw.std(ddof=1):.3f}, largest {sw.max():.3g}; effective sample size {kish:,.0f} of "
        f"{len(sw):,} (Kish).",
    ))  # fmt: skip
    link = "logistic: odds ratios" if msm.fit.logistic else "linear"
    findings.append(Finding(
        "info", "method",
        f"marginal structural model ({link}) fitted by IP weighting: {msm.how}; "
        + (_BOOT.format(b=spec.bootstrap, seed=spec.seed) if spec.bootstrap else
           "robust sandwich SE treating the weights as known (GEE independence, as What If "
           "reports; conservative)") + ".",
    ))  # fmt: skip
    tables: dict[str, Any] = {
        "effects": _effects_table(estimates),
        "msm_coefficients": _coefficients(msm.names, msm.fit.beta, msm.fit.se, spec.alpha),
        "weights": {k: [row[k] for row in weights] for k in weights[0]},
    }
    if data.treatment_type == "continuous":
        low, high = np.quantile(data.a, [0.01, 0.99])
        v = None if data.v is None else float(np.mean(data.v))
        tables["dose_response"] = curve(msm, np.linspace(low, high, 41), v,
                                        quantile(1 - spec.alpha / 2, None))  # fmt: skip
    head = estimates[0]
    narrative = (
        f"Marginal structural model of {spec.outcome} on {spec.treatment}: {head.label} = "
        f"{head.value:+.4g} ({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to {head.ci_high:+.4g}). "
        "Causal only if the confounders capture every common cause of treatment and outcome"
        + (" (and of censoring and outcome)." if spec.censoring == "ipcw" else ".")
    )
    return effect_result(
        spec, "msm", estimates, findings, tables,
        title=f"Marginal structural model of {spec.treatment} on {spec.outcome} — "
        f"{int(rows.sum()):,} uncensored units",
        narrative=narrative, units=int(rows.sum()),
    )  # fmt: skip


def _grid(spec: CausalSpec, centre: float, se: float) -> np.ndarray:
    if spec.psi_grid is not None:
        start, stop, step = psi_grid_bounds(spec.psi_grid)
        return np.round(np.arange(start, stop + step / 2, step), 10)
    return np.linspace(centre - 6 * se, centre + 6 * se, 241)


def _gestimation_rows(data: StructuralData, spec: CausalSpec) -> tuple:
    """The uncensored rows' design, treatment, outcome, censoring weights and modifier."""
    o = data.observed
    w = np.ones(len(data.y))
    if spec.censoring == "ipcw":
        w = censoring_probability(data, data.a[:, None], stabilised=False)
    v = None if data.v is None else data.v[o]
    return data.design[o], data.a[o], data.y[o], w[o], v


def _gestimation_statistic(data: StructuralData, spec: CausalSpec) -> np.ndarray:
    """ψ̂ (closed form) of one resample, the censoring model refitted."""
    from cerebro.observational.gestimation import closed_form

    return closed_form(*_gestimation_rows(data, spec)).psi


def gestimation_result(data: StructuralData, spec: CausalSpec, findings: list[Finding]) -> Result:
    """G-estimate the structural nested mean model (closed form, or grid with its CI)."""
    from cerebro.observational.gestimation import closed_form, grid_search

    o = data.observed
    X, a, y, wo, v = _gestimation_rows(data, spec)
    solved = closed_form(X, a, y, wo, v)
    se = np.sqrt(np.diag(solved.vcov))
    names = [f"ψ₁ ({spec.treatment})"] + ([f"ψ₂ ({spec.treatment} × {spec.modifier})"]
                                          if v is not None else [])  # fmt: skip
    tables: dict[str, Any] = {}
    how = "closed form, sandwich SE of the stacked estimating equations"
    if spec.psi_search == "grid":
        grid = grid_search(X, a, y, wo, _grid(spec, float(solved.psi[0]), float(se[0])),
                           spec.alpha)  # fmt: skip
        tables["gestimation_grid"] = grid.rows(spec.alpha)
        if grid.ci is None:
            from cerebro.core.errors import UserInputError

            raise UserInputError(
                "the values of ψ not rejected reach the end of --psi-grid (or none is kept); "
                "widen the grid, e.g. --psi-grid "
                f"{solved.psi[0] - 8 * se[0]:.1f}:{solved.psi[0] + 8 * se[0]:.1f}:0.1."
            )
        if not grid.contiguous:
            findings.append(Finding("warning", "grid", "the ψ not rejected are not one interval; "
                                    "the CI shown spans them all."))  # fmt: skip
        low, high = grid.ci
        p = grid.p_zero
        estimates = [Estimate(names[0], grid.estimate, None, low, high, p,
                              {"measure": "difference in means", "method": "gestimation",
                               "closed_form": float(solved.psi[0])})]  # fmt: skip
        how = (f"grid search over {len(grid.psi)} values of ψ ({grid.psi[0]:g} to "
               f"{grid.psi[-1]:g}); ψ̂ where α(ψ) = 0, CI = the ψ whose robust Wald test of α "
               f"is not rejected at {spec.alpha:g}")  # fmt: skip
    else:
        estimates = [
            _estimate(name, solved.psi[j], se[j], spec.alpha,
                      "difference in means" if j == 0 else f"change of the effect per unit of "
                      f"{spec.modifier}", "gestimation")
            for j, name in enumerate(names)
        ]  # fmt: skip
        if spec.bootstrap:
            _bootstrapped(estimates, data, spec, partial(_gestimation_statistic, spec=spec))
            how = "closed form, " + _BOOT.format(b=spec.bootstrap, seed=spec.seed)
    require_finite_estimates(estimates, "gestimation")
    weights = (
        ""
        if spec.censoring == "none"
        else "; unstabilised censoring weights 1/P(uncensored | A, L) (known)"
    )
    findings.append(Finding("info", "method",
                            f"g-estimation of a structural nested mean model: {how}; treatment "
                            f"model logistic on {len(data.names)} confounder terms{weights}."))  # fmt: skip
    tables = {"effects": _effects_table(estimates), **tables}
    head = estimates[0]
    narrative = (
        f"G-estimation: the effect of {spec.treatment} on {spec.outcome} "
        + (
            f"at {spec.modifier} = 0 "
            if spec.modifier
            else "(the same at every L under the model) "
        )
        + f"is {head.value:+.4g} ({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to "
        f"{head.ci_high:+.4g}). Causal only if the confounders capture every common cause."
    )
    return effect_result(
        spec, "gestimation", estimates, findings, tables,
        title=f"G-estimation of {spec.treatment} on {spec.outcome} — {int(o.sum()):,} units",
        narrative=narrative, units=int(o.sum()),
    )  # fmt: skip
