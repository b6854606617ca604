"""The result of a multi-valued treatment: each arm against the reference.

ATE (`multiarm_result`): every arm's mean over the whole population (see `multiarm.py`).
ATT / ATC (`pairwise_result`): E[Y(k) − Y(0) | A = k] (or | A = 0) involves arms k and 0 only,
so it is identified by the two-arm analysis of those units with the propensity
P(A = k | x, A ∈ {0, k}) (Lechner 2001, "Identification and estimation of causal effects of
multiple treatments under the conditional independence assumption"); every two-arm method,
trimming rule and the bootstrap then apply to each pair.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result, effect_result
from cerebro.observational import multiarm
from cerebro.observational.balance import balance_finding, balance_table
from cerebro.observational.bootstrap import bootstrap
from cerebro.observational.checks import require_finite_estimates
from cerebro.observational.data import CausalData, trim_units
from cerebro.observational.dml import clipping_note
from cerebro.observational.estimators import gcomp
from cerebro.observational.spec import CausalSpec
from cerebro.stats.intervals import interval_from
from cerebro.stats.multiplicity import holm

EXTREME = 0.05


def _refuse_unsupported(spec: CausalSpec, data: CausalData) -> None:
    arms = len(data.arms)
    if spec.method not in multiarm.MULTI_METHODS:
        raise UserInputError(
            f"{spec.treatment!r} has {arms} arms; the ATE of every arm needs ipw, gcomp, aipw or "
            f"dml (--method {spec.method} works with several arms for --estimand att or atc)."
        )
    if spec.dml_model == "plr" and spec.method == "dml":
        raise UserInputError(
            f"with {arms} arms use --dml-model irm; the partially linear model has one "
            "treatment coefficient."
        )
    if spec.propensity != "logistic":
        raise UserInputError(
            f"with {arms} arms the ATE's propensity is a multinomial logit; for machine-learning "
            "nuisances use --method dml (or --estimand att/atc, which takes --propensity)."
        )
    if spec.interactions is not None:
        raise UserInputError(
            f"with {arms} arms g-computation fits one outcome model per arm (every term "
            "interacts with the arm already); drop --interactions."
        )
    if spec.trim == "crump":
        raise UserInputError(
            f"Crump et al.'s trimming rule is derived for two arms; with {arms} give a number c "
            "(--trim 0.05 keeps units whose propensity for every arm is at least c)."
        )


def _means(data: CausalData, spec: CausalSpec, ps: multiarm.Multinomial | None):
    if spec.method == "dml":
        means, clipped = multiarm.dml_multi(
            data, spec.learner, spec.folds, spec.seed, spec.clip, spec.jobs
        )
        if clipped:
            means.notes.append(clipping_note(clipped, spec.clip))
        return means
    if spec.method == "gcomp":
        return gcomp(data)
    if ps is None:
        ps = multiarm.multinomial_propensity(data)
    if spec.method == "ipw":
        return multiarm.ipw_multi(data, ps, spec.ipw_normalisation, spec.truncate)
    return multiarm.aipw_multi(data, ps)


def _contrasts(data: CausalData, spec: CausalSpec) -> np.ndarray:
    """[μ_k − μ_0 for k ≥ 1, log(μ_k / μ_0) (NaN unless a 0/1 outcome)]: one bootstrap replicate."""
    mu = _means(data, spec, None).mu
    ratio = np.log(mu[1:] / mu[0]) if data.binary_outcome and mu.min() > 0 else mu[1:] * np.nan
    return np.r_[mu[1:] - mu[0], ratio]


def _trim_multi(data: CausalData, spec: CausalSpec, findings: list[Finding]) -> CausalData:
    """Keep units whose generalised propensity is at least c for every arm, then refit."""
    if spec.trim is None:
        return data
    bound = float(spec.trim)
    keep = multiarm.multinomial_propensity(data).probabilities.min(axis=1) >= bound
    kept = f"--trim: kept units whose propensity for every arm is at least {bound:g}"
    return trim_units(data, keep, kept, findings)


def _overlap(
    data: CausalData, ps: multiarm.Multinomial, findings: list[Finding]
) -> dict[str, list[Any]]:
    own = ps.probabilities[np.arange(len(data.y)), data.a.astype(int)]
    rows: dict[str, list[Any]] = {
        k: [] for k in ("arm", "units", "min", "median", "max", "share_below")
    }
    for arm, label in enumerate(data.arms):
        e = own[data.a == arm]
        for key, value in zip(
            rows,
            [label, len(e), e.min(), np.median(e), e.max(), float(np.mean(e < EXTREME))],
            strict=True,
        ):
            rows[key].append(value)
    low = float(np.mean(ps.probabilities.min(axis=1) < EXTREME))
    findings.append(
        Finding(
            "warning" if low > 0.01 else "info",
            "positivity",
            f"{low:.1%} of units have a propensity below {EXTREME} for some arm"
            + (": weights are extreme and estimates lean on the model." if low > 0.01 else "."),
        )
    )
    return rows


def multiarm_result(data: CausalData, spec: CausalSpec, findings: list[Finding]) -> Result:
    """Every arm against the reference: differences (and risk ratios), Holm-adjusted p-values."""
    _refuse_unsupported(spec, data)
    data = _trim_multi(data, spec, findings)
    ps = multiarm.multinomial_propensity(data)
    propensity = _overlap(data, ps, findings)
    means = _means(data, spec, ps)
    for note in means.notes:
        findings.append(Finding("warning", "clipping", note))
    cov = means.cov
    arms = len(data.arms)
    boot = None
    if spec.bootstrap:
        boot = bootstrap(data, partial(_contrasts, spec=spec), spec.bootstrap, spec.seed, spec.jobs)
    ref = data.arms[0]
    rows: dict[str, list[Any]] = {
        k: []
        for k in ("arm", "versus", "measure", "estimate", "se", "ci_low", "ci_high", "p_value")
    }
    estimates: list[Estimate] = []
    measure = "risk difference" if data.binary_outcome else "difference in means"
    for arm in range(1, len(data.arms)):
        diff = float(means.mu[arm] - means.mu[0])
        se = float(np.sqrt(cov[arm, arm] + cov[0, 0] - 2 * cov[arm, 0]))
        reps = None if boot is None else boot[:, arm - 1]
        shown = [(measure, diff, *interval_from(diff, se, spec.alpha, reps))]
        if data.binary_outcome and means.mu[0] > 0 and means.mu[arm] > 0:
            m0, m1 = means.mu[0], means.mu[arm]
            log_se = float(
                np.sqrt(cov[arm, arm] / m1**2 + cov[0, 0] / m0**2 - 2 * cov[arm, 0] / (m0 * m1))
            )
            column = arms - 1 + arm - 1
            reps = None if boot is None else boot[:, column]
            _, lo, hi, p_rr = interval_from(np.log(m1 / m0), log_se, spec.alpha, reps)
            shown.append(("risk ratio", m1 / m0, None, np.exp(lo), np.exp(hi), p_rr))
        for name, value, s, lo_, hi_, p_ in shown:
            for key, v in zip(
                rows, [data.arms[arm], ref, name, value, s, lo_, hi_, p_], strict=True
            ):
                rows[key].append(v)
            estimates.append(
                Estimate(
                    f"ATE {data.arms[arm]} vs {ref} ({name})", float(value), s, float(lo_), float(hi_), p_,
                    {"estimand": "ate", "measure": name, "method": spec.method, "arm": data.arms[arm]},
                )
            )  # fmt: skip
    require_finite_estimates(estimates, spec.method)
    rows["p_holm"] = holm(np.array(rows["p_value"], float)).tolist()
    balance: dict[str, list[Any]] = {}
    own = ps.probabilities[np.arange(len(data.y)), data.a.astype(int)]
    for arm in range(1, len(data.arms)):
        part = balance_table(data, 1 / own, arm)
        part["confounder"] = [f"{c} [{data.arms[arm]}]" for c in part["confounder"]]
        for key, values in part.items():
            balance.setdefault(key, []).extend(values)
    findings.append(
        balance_finding(balance, f"generalised-propensity weighting (any arm vs {ref!r})")
    )
    findings.append(
        Finding(
            "info",
            "method",
            f"{len(data.arms)} arms, each against {ref!r}: {spec.method} with "
            + (
                f"cross-fitted {spec.learner} nuisances ({spec.folds} folds, seed {spec.seed})"
                if spec.method == "dml"
                else "a multinomial-logit generalised propensity score"
            )
            + (
                f"; SEs and percentile CIs from {spec.bootstrap} bootstrap resamples"
                if spec.bootstrap
                else "; SEs from influence functions"
                + (" including the propensity model's estimation" if spec.method == "ipw" else "")
            )
            + "; p_holm adjusts for the several comparisons.",
        )
    )
    head = estimates[0]
    return effect_result(
        spec,
        spec.method,
        estimates,
        findings,
        {
            "effects": rows,
            "balance": balance,
            "potential_outcomes": {
                "arm": list(data.arms),
                "mean": means.mu.tolist(),
                "se": np.sqrt(np.diag(cov)).tolist(),
            },
            "propensity": propensity,
        },
        title=f"Causal effects of {spec.treatment} on {spec.outcome} — {spec.method}, "
        f"{len(data.arms)} arms vs {ref!r}, {len(data.y):,} units",
        narrative=f"Estimated ATE of {head.extra['arm']!r} versus {ref!r} on {spec.outcome}: "
        f"{head.value:+.4g} ({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to {head.ci_high:+.4g}); "
        "the table has every arm. Causal only if the confounders capture every common cause.",
        units=len(data.y),
    )


def pairwise_result(
    data: CausalData, spec: CausalSpec, findings: list[Finding], binary_result
) -> Result:
    """ATT or ATC of every arm against the reference, each from the two-arm analysis of its pair."""
    ref, label = data.arms[0], spec.estimand.upper()
    estimates: list[Estimate] = []
    tables: dict[str, dict[str, list[Any]]] = {}
    for k in range(1, len(data.arms)):
        pair = data.subset((data.a == 0) | (data.a == k))
        pair = replace(pair, a=(pair.a == k).astype(float), arms=[ref, data.arms[k]], findings=[])
        comparison = f"{data.arms[k]} vs {ref}"
        result = binary_result(pair, spec, [])
        for est in result.estimates:
            est.label = est.label.replace(f"{label} (", f"{label} {comparison} (")
            est.extra["arm"] = data.arms[k]
            estimates.append(est)
        findings.extend(
            Finding(f.level, f.code, f"{comparison}: {f.message}") for f in result.findings
        )
        for name in result.tables:
            columns = result.tables.columns(name)
            merged = tables.setdefault(name, {"comparison": []})
            merged["comparison"].extend([comparison] * len(next(iter(columns.values()))))
            for key, values in columns.items():
                merged.setdefault(key, []).extend(list(values))
    effects = tables["effects"]
    first = [i for i, m in enumerate(effects["measure"]) if m != "risk ratio"]
    adjusted = holm(np.array([effects["p_value"][i] for i in first], float))
    effects["p_holm"] = [None] * len(effects["measure"])
    for i, p in zip(first, adjusted, strict=True):
        effects["p_holm"][i] = float(p)
    for est, p in zip(estimates, effects["p_holm"], strict=True):
        if p is not None:
            est.extra["p_holm"] = p
    balance = tables["balance"]
    balance["confounder"] = [
        f"{c} [{comparison}]"
        for c, comparison in zip(balance["confounder"], balance["comparison"], strict=True)
    ]
    findings.append(
        Finding(
            "info",
            "pairwise",
            f"{len(data.arms)} arms: the {label} of each arm against {ref!r} is estimated on the "
            "units of those two arms with their own propensity model (it involves no other arm); "
            "p_holm adjusts for the several comparisons.",
        )
    )
    head = estimates[0]
    return effect_result(
        spec,
        spec.method,
        estimates,
        findings,
        tables,
        title=f"Causal effects of {spec.treatment} on {spec.outcome} — {spec.method}, "
        f"{label}, {len(data.arms)} arms vs {ref!r}, {len(data.y):,} units",
        narrative=f"Estimated {label} of {head.extra['arm']!r} versus {ref!r} on "
        f"{spec.outcome}: {head.value:+.4g} ({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to "
        f"{head.ci_high:+.4g}); the table has every arm. Causal only if the confounders "
        "capture every common cause.",
        units=len(data.y),
    )
