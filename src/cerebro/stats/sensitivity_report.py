"""Sensitivity results in the shared vocabulary: the estimates, table rows and findings that
`cerebro sensitivity` and `cerebro causal --sensitivity` both report, from the numerics of
`sensitivity`, `ovb_linear`, `evalue` and `rosenbaum` in this package.

Each builder returns a `Section`: estimates, rows of the headline table ``sensitivity``
(quantity, value, what it means), an optional table of its own and findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cerebro.core.results import Estimate, Finding, Fit
from cerebro.stats.evalue import EValue, evalue
from cerebro.stats.ovb_linear import LinearOVB
from cerebro.stats.rosenbaum import (
    m_scores,
    sensitivity_gamma,
    separable_bound,
    sets_bounds,
    sets_gamma,
    signed_rank_bounds,
)
from cerebro.stats.sensitivity import (
    Bounds,
    DMLBenchmark,
    RieszElements,
    dml_bounds,
    dml_robustness_value,
)

GAMMAS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


@dataclass
class Section:
    estimates: list[Estimate] = field(default_factory=list)
    rows: dict[str, list[Any]] = field(
        default_factory=lambda: {"quantity": [], "value": [], "meaning": []}
    )
    tables: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def add(self, key: str, quantity: str, value: float, meaning: str, **ci: Any) -> None:
        """One number: an estimate and a row of the headline table."""
        self.estimates.append(Estimate(quantity, float(value), key=key, **ci))
        self.row(quantity, value, meaning)

    def row(self, quantity: str, value: float, meaning: str) -> None:
        """A row of the headline table only (its estimate is added separately)."""
        for column, v in zip(self.rows, [quantity, float(value), meaning], strict=True):
            self.rows[column].append(v)

    def extend(self, other: Section) -> None:
        self.estimates += other.estimates
        for column in self.rows:
            self.rows[column] += other.rows[column]
        self.tables.update(other.tables)
        self.findings += other.findings


def linear_section(ovb: LinearOVB, treatment: str) -> Section:
    """Partial R², RV_q, RV_{q,alpha}, the bias-adjusted estimates and the benchmarks."""
    s = Section()
    q = f"{ovb.q:g}"
    level = f"{1 - ovb.alpha:.0%}"
    s.add("partial_r2_yd", "partial R² of treatment with outcome", ovb.r2yd,
          f"share of the outcome's residual variance {treatment} explains; a confounder "
          "explaining all of the outcome's would need at least this much of the treatment's")  # fmt: skip
    s.add("rv_q", f"robustness value RV (q = {q})", ovb.rv,
          "a confounder explaining this share of both treatment and outcome residual variance "
          f"removes {'all' if ovb.q == 1 else f'{ovb.q:.0%}'} of the estimate")  # fmt: skip
    s.add("rv_q_alpha", f"robustness value RV (q = {q}, alpha = {ovb.alpha:g})", ovb.rv_alpha,
          f"… and makes its {level} interval reach {'zero' if ovb.q == 1 else 'that value'}")  # fmt: skip
    rows: dict[str, list[Any]] = {
        k: [] for k in ("confounder", "r2dz_x", "r2yz_dx", "estimate", "se", "ci_low", "ci_high")
    }
    for label, adj in ovb.adjusted:
        values = [label, adj.r2dz, adj.r2yz, adj.estimate, adj.se, adj.ci_low, adj.ci_high]
        for column, v in zip(rows, values, strict=True):
            rows[column].append(v)
        s.estimates.append(
            Estimate(f"bias-adjusted estimate ({label})", adj.estimate, adj.se, adj.ci_low,
                     adj.ci_high, None, {"r2dz_x": adj.r2dz, "r2yz_dx": adj.r2yz})
        )  # fmt: skip
        s.row(f"bias-adjusted estimate ({label})", adj.estimate,
              f"with a confounder of R²_D = {adj.r2dz:.3g}, R²_Y = {adj.r2yz:.3g}: {level} CI "
              f"{adj.ci_low:.4g} to {adj.ci_high:.4g}")  # fmt: skip
    if ovb.adjusted:
        s.tables["bounds"] = rows
    if ovb.benchmarks:
        s.tables["benchmarks"] = {
            "covariate": [b[0] for b in ovb.benchmarks],
            "r2dxj_x": [b[1] for b in ovb.benchmarks],
            "r2yxj_dx": [b[2] for b in ovb.benchmarks],
        }
    s.findings.append(linear_finding(ovb, treatment))
    return s


def linear_finding(ovb: LinearOVB, treatment: str) -> Finding:
    flips = [label for label, adj in ovb.adjusted if adj.ci_low <= 0 <= adj.ci_high]
    text = (
        f"an unobserved confounder explaining {ovb.rv:.1%} of the residual variance of both "
        f"{treatment} and the outcome would explain the estimate away ({ovb.rv_alpha:.1%} to make "
        f"it not significant at {ovb.alpha:g})"
    )
    if flips:
        text += f"; the interval includes zero for a confounder as strong as {', '.join(flips)}"
    return Finding("warning" if flips else "info", "robustness_value", text + ".")


def dml_section(el: RieszElements, strengths: list[tuple[float, float]], alpha: float,
                q: float = 1.0, benchmarks: list[tuple[str, DMLBenchmark]] | None = None,
                labelled: list[tuple[str, float, float]] | None = None) -> Section:  # fmt: skip
    """The long-story-short RVs of the estimate (the strength that removes a share `q` of it)
    and its bounds at each (cf_d, cf_y) of `strengths` and each (label, cf_d, cf_y) of
    `labelled` (multiples of the `benchmarks`' gain statistics)."""
    s = Section()
    null = (1 - q) * el.theta
    target = "zero" if q == 1 else f"{null:.4g} ({1 - q:.0%} of the estimate)"
    rv, rva = dml_robustness_value(el, null=null), dml_robustness_value(el, alpha, null)
    s.add("rv_q", f"robustness value RV (Cf_D = Cf_Y, q = {q:g})", rv,
          "equal gains in explained variance of the outcome and of the Riesz representer at "
          f"which the bound reaches {target}")  # fmt: skip
    s.add("rv_q_alpha", f"robustness value RV (q = {q:g}, alpha = {alpha:g})", rva,
          "… at which the confidence bound reaches it")  # fmt: skip
    rows: dict[str, list[Any]] = {
        k: [] for k in ("confounder", "cf_d", "cf_y", "lower", "upper", "ci_low", "ci_high",
                        "bias")
    }  # fmt: skip
    asked = [(f"Cf_D = {cf_d:g}, Cf_Y = {cf_y:g}", cf_d, cf_y) for cf_d, cf_y in strengths]
    for tag, cf_d, cf_y in asked + list(labelled or []):
        b: Bounds = dml_bounds(el, cf_y, cf_d, alpha)
        values = [tag, cf_d, cf_y, b.lower, b.upper, b.ci_low, b.ci_high, b.bias]
        for column, v in zip(rows, values, strict=True):
            rows[column].append(v)
        # each bound with its one-sided confidence bound (the other side is the other bound)
        extra = {"cf_d": cf_d, "cf_y": cf_y}
        s.estimates.append(Estimate(f"lower bound ({tag})", b.lower, None, b.ci_low, None,
                                    None, extra))  # fmt: skip
        s.estimates.append(Estimate(f"upper bound ({tag})", b.upper, None, None, b.ci_high,
                                    None, dict(extra)))  # fmt: skip
        where = "" if tag.startswith("Cf_D") else f": Cf_D = {cf_d:.3g}, Cf_Y = {cf_y:.3g}"
        s.row(f"lower bound of the ATE ({tag})", b.lower,
              f"the ATE is at least this with such a confounder{where}; {1 - alpha:.0%} "
              f"confidence bound {b.ci_low:.4g}")  # fmt: skip
        s.row(f"upper bound of the ATE ({tag})", b.upper,
              f"… and at most this; {1 - alpha:.0%} confidence bound {b.ci_high:.4g}")  # fmt: skip
    if rows["confounder"]:
        s.tables["bounds"] = rows
    if benchmarks:
        s.tables["benchmarks"] = {
            "covariate": [name for name, _ in benchmarks],
            "cf_d": [b.cf_d for _, b in benchmarks],
            "cf_y": [b.cf_y for _, b in benchmarks],
            "rho": [b.rho for _, b in benchmarks],
            "delta_theta": [b.delta_theta for _, b in benchmarks],
        }
    flips = [tag for tag, lo, hi in zip(rows["confounder"], rows["lower"], rows["upper"],
                                        strict=True) if lo <= 0 <= hi]  # fmt: skip
    text = (
        f"confounding that adds {rv:.1%} to the explained variance of both the outcome and "
        f"the Riesz representer could explain the estimate away ({rva:.1%} to reach zero "
        f"with its {1 - alpha:.0%} confidence bound; Chernozhukov et al. 2022)"
    )
    if flips:
        text += f"; the bounds include zero for a confounder as strong as {', '.join(flips)}"
    s.findings.append(
        Finding("info" if rva > 0 and not flips else "warning", "robustness_value", text + ".")
    )
    return s


def evalue_section(ev: EValue) -> Section:
    """The E-value of the estimate and of the confidence limit closer to the null."""
    s = Section()
    name = {"rr": "risk ratio", "or": "odds ratio", "hr": "hazard ratio",
            "smd": "standardised mean difference"}[ev.measure]  # fmt: skip
    s.add("evalue", f"E-value ({name} {ev.estimate:.4g})", ev.evalue,
          "risk ratio an unmeasured confounder would need with both treatment and outcome to "
          "explain the estimate away")  # fmt: skip
    if ev.evalue_limit is not None:
        s.add("evalue_ci", f"E-value of the confidence limit {ev.limit:.4g}", ev.evalue_limit,
              "… to move the confidence limit to the null (1: it already includes it)")  # fmt: skip
    s.tables["evalue"] = {
        "measure": [name], "estimate": [ev.estimate], "risk_ratio": [ev.risk_ratio],
        "evalue": [ev.evalue], "ci_limit": [ev.limit], "ci_limit_risk_ratio": [ev.limit_rr],
        "evalue_ci_limit": [ev.evalue_limit],
    }  # fmt: skip
    s.findings.append(
        Finding(
            "info",
            "evalue",
            f"E-value {ev.evalue:.3g}: an unmeasured confounder associated with both treatment "
            f"and outcome by a risk ratio of {ev.evalue:.3g} each, above the measured "
            "confounders, could explain the estimate away"
            + (f" ({ev.evalue_limit:.3g} for the confidence limit)" if ev.evalue_limit else "")
            + " (VanderWeele & Ding 2017).",
        )
    )
    return s


def rosenbaum_section(differences: np.ndarray, alpha: float) -> Section:
    """Γ* of the signed-rank test of the pair differences and the p-value bounds over Γ."""
    s = Section()
    gamma = sensitivity_gamma(differences, alpha)
    s.add("gamma", f"Rosenbaum Γ* (alpha = {alpha:g})", gamma,
          "odds of treatment within a matched pair may differ up to this factor before the "
          "signed-rank test stops being significant")  # fmt: skip
    rows: dict[str, list[Any]] = {k: [] for k in ("gamma", "statistic", "p_lower", "p_upper")}
    for g in sorted({*GAMMAS, round(gamma, 4)}):
        t, low, high = signed_rank_bounds(differences, g)
        for column, v in zip(rows, [g, t, low, high], strict=True):
            rows[column].append(v)
    s.tables["rosenbaum"] = rows
    s.findings.append(
        Finding(
            "info" if gamma > 1 else "warning",
            "rosenbaum",
            f"the Wilcoxon signed-rank test of {len(differences):,} matched pairs stays "
            f"significant at {alpha:g} until hidden bias multiplies the odds of treatment within "
            f"a pair by Γ = {gamma:.3g} (Rosenbaum 2002)."
            if gamma > 1
            else f"the signed-rank test of the matched pairs is not significant at {alpha:g} "
            "even without hidden bias (Γ = 1).",
        )
    )
    return s


def rosenbaum_sets_section(sets: np.ndarray, alpha: float, trim: float = 2.5,
                           inner: float = 0.0) -> Section:  # fmt: skip
    """Γ* of the Huber–Maritz m-test of matched sets with several controls (Rosenbaum 2007) and
    the p-value bounds over Γ; `trim` and `inner` are senmv's (ψ flat beyond `trim`, zero below
    `inner`, in units of the median within-set gap)."""
    s = Section()
    scores = m_scores(sets, inner=inner, trim=trim)
    gamma = sets_gamma(scores, alpha)
    controls = (~np.isnan(sets[:, 1:])).sum(axis=1)
    k = f"{controls.min()}" if controls.min() == controls.max() else (
        f"{controls.min()} to {controls.max()}")  # fmt: skip
    s.add("gamma", f"Rosenbaum Γ* (alpha = {alpha:g})", gamma,
          "odds of treatment within a matched set may differ up to this factor before the "
          "m-test of the sets stops being significant")  # fmt: skip
    rows: dict[str, list[Any]] = {
        k_: [] for k_ in ("gamma", "statistic", "expectation", "variance", "p_lower", "p_upper")
    }
    for g in sorted({*GAMMAS, round(gamma, 4)}):
        t, mu, var, high = separable_bound(scores, g)
        low = sets_bounds(scores, g)[1]
        for column, v in zip(rows, [g, t, mu, var, low, high], strict=True):
            rows[column].append(v)
    s.tables["rosenbaum"] = rows
    shape = f"trim {trim:g}" + (f", inner {inner:g}" if inner else "")
    test = (f"the Huber m-test ({shape}) of {len(sets):,} matched sets of one unit with "
            f"{k} matches")  # fmt: skip
    s.findings.append(
        Finding(
            "info" if gamma > 1 else "warning",
            "rosenbaum",
            f"{test} stays significant at {alpha:g} until hidden bias multiplies the odds of "
            f"treatment within a set by Γ = {gamma:.3g} (Rosenbaum 2007)."
            if gamma > 1
            else f"{test} is not significant at {alpha:g} even without hidden bias (Γ = 1).",
        )
    )
    return s


def riesz_from_fit(fit: Fit | None, head: Estimate) -> RieszElements | None:
    """θ, σ², ν² and their influence functions from an AIPW/DML result's fit (None when the
    fit has no Riesz representer: another estimator, the ATT/ATC, the partially linear model)."""
    if fit is None or "nu2" not in fit.influence or head.key not in fit.influence:
        return None
    return RieszElements(
        head.value, fit.influence[head.key], fit.residual_variance["sigma2"],
        fit.influence["sigma2"], fit.residual_variance["nu2"], fit.influence["nu2"],
    )  # fmt: skip


def effect_evalue(y: np.ndarray, d: np.ndarray, head: Estimate,
                  ratio: Estimate | None = None) -> Section:  # fmt: skip
    """E-value of an effect on `y` of the 0/1 treatment `d`: of its risk ratio when the outcome
    is 0/1 (`ratio` if the estimator reported one, else (p₀ + difference)/p₀ with p₀ the control
    mean), otherwise of the standardised difference (difference over the pooled within-arm SD,
    VanderWeele & Ding's RR ≈ exp(0.91·d))."""
    if np.isin(y, (0.0, 1.0)).all():
        if ratio is not None:
            return evalue_section(evalue(ratio.value, "rr", (ratio.ci_low, ratio.ci_high)))
        p0 = float(y[d == 0].mean())
        if p0 > 0 and p0 + head.ci_low > 0:
            values = [(p0 + v) / p0 for v in (head.value, head.ci_low, head.ci_high)]
            return evalue_section(evalue(values[0], "rr", (values[1], values[2])))
    sd = float(np.sqrt(np.mean([y[d == k].var(ddof=1) for k in (0, 1)])))
    smd = [v / sd for v in (head.value, head.ci_low, head.ci_high)]
    return evalue_section(evalue(smd[0], "smd", (smd[1], smd[2])))
