"""The result of a multi-valued treatment: each arm against the reference (see `multiarm.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.experiments.multiplicity import holm
from cerebro.observational import multiarm
from cerebro.observational.balance import balance_finding, balance_table
from cerebro.observational.data import CausalData
from cerebro.observational.estimators import gcomp
from cerebro.observational.spec import CausalSpec

EXTREME = 0.05


def _refuse_unsupported(spec: CausalSpec, data: CausalData) -> None:
    arms = len(data.arms)
    if spec.method not in multiarm.MULTI_METHODS:
        raise UserInputError(
            f"{spec.treatment!r} has {arms} arms; --method {spec.method} handles two. Use ipw, "
            "gcomp or aipw (each arm against the reference), or recode to two arms."
        )
    unsupported = [
        flag
        for flag, used in (
            ("--estimand att/atc", spec.estimand != "ate"),
            ("--trim", spec.trim is not None),
            ("--truncate", spec.truncate is not None),
            ("--bootstrap", spec.bootstrap > 0),
            ("--interactions", spec.interactions is not None),
        )
        if used
    ]
    if unsupported:
        raise UserInputError(
            f"with {arms} arms, {', '.join(unsupported)} {'is' if len(unsupported) == 1 else 'are'} "
            "not supported yet; each arm is compared with the reference by its ATE – drop them."
        )


def _means(data: CausalData, spec: CausalSpec, ps: multiarm.Multinomial):
    if spec.method == "ipw":
        return multiarm.ipw_multi(data, ps, spec.weights)
    if spec.method == "gcomp":
        return gcomp(data)
    return multiarm.aipw_multi(data, ps)


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


def multiarm_result(
    data: CausalData, spec: CausalSpec, findings: list[Finding], interval
) -> Result:
    """Every arm against the reference: differences (and risk ratios), Holm-adjusted p-values."""
    _refuse_unsupported(spec, data)
    ps = multiarm.multinomial_propensity(data)
    propensity = _overlap(data, ps, findings)
    means = _means(data, spec, ps)
    cov = means.cov
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
        low, high, p = interval(diff, se, spec.alpha)
        shown = [(measure, diff, se, low, high, p)]
        if data.binary_outcome and means.mu[0] > 0 and means.mu[arm] > 0:
            m0, m1 = means.mu[0], means.mu[arm]
            log_se = float(
                np.sqrt(cov[arm, arm] / m1**2 + cov[0, 0] / m0**2 - 2 * cov[arm, 0] / (m0 * m1))
            )
            lo, hi, p_rr = interval(float(np.log(m1 / m0)), log_se, spec.alpha)
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
            f"{len(data.arms)} arms, each against {ref!r}: {spec.method} with a multinomial-logit "
            "generalised propensity score; SEs from influence functions"
            + (" including the propensity model's estimation" if spec.method == "ipw" else "")
            + "; p_holm adjusts for the several comparisons.",
        )
    )
    head = estimates[0]
    return Result(
        kind="causal",
        method=spec.method,
        spec=spec,
        estimates=estimates,
        findings=findings,
        tables={
            "effects": rows,
            "balance": balance,
            "potential_outcomes": {
                "arm": list(data.arms),
                "mean": means.mu.tolist(),
                "se": np.sqrt(np.diag(cov)).tolist(),
            },
            "propensity": propensity,
        },
        summary={
            "headline_table": "effects",
            "title": f"Causal effects of {spec.treatment} on {spec.outcome} — {spec.method}, "
            f"{len(data.arms)} arms vs {ref!r}, {len(data.y):,} units",
            "narrative": f"Estimated ATE of {head.extra['arm']!r} versus {ref!r} on {spec.outcome}: "
            f"{head.value:+.4g} ({1 - spec.alpha:.0%} CI {head.ci_low:+.4g} to {head.ci_high:+.4g}); "
            "the table has every arm. Causal only if the confounders capture every common cause.",
            "units": len(data.y),
        },
    )
