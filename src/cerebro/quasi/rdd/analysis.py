"""`cerebro causal --method rdd`: regression discontinuity, sharp or fuzzy.

Estimand: the effect of crossing the cutoff at the cutoff – the jump of E[outcome | score] (sharp)
or that jump divided by the jump in take-up (fuzzy: the average effect for compliers with a score
at the cutoff). Identification: units cannot sort precisely around the cutoff and nothing else
changes there, so the regression functions would be continuous without the treatment.

Estimation and inference follow Calonico, Cattaneo & Titiunik (2014, Econometrica) as implemented
in rdrobust (local polynomial of order p, bias correction of order p+1, MSE-optimal common
bandwidth, nearest-neighbour or cluster-robust variance, robust bias-corrected CIs) and Calonico,
Cattaneo, Farrell & Titiunik (2019, REStat) for covariates. Diagnostics: the density
(manipulation) test of Cattaneo, Jansson & Ma (2020), the RD effect on each covariate (balance),
placebo cutoffs at the median score of each side, and effective sample sizes.

`run` orchestrates; numerics live in `local`, `bandwidth`, `estimate` and `density`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cerebro.core.errors import UserInputError
from cerebro.core.results import Estimate, Finding, Result
from cerebro.data.columns import confounder_terms, note_dropped, numeric_column
from cerebro.data.validate import require_units_per_arm, require_varying
from cerebro.quasi.design import design_result
from cerebro.quasi.rdd.estimate import RDFit, RDResult, rd_fit
from cerebro.stats.intervals import normal_interval

if TYPE_CHECKING:
    import pandas as pd

    from cerebro.quasi.rdd.spec import RDDSpec


def bin_means(
    x: np.ndarray, y: np.ndarray, cutoff: float, bins: str = "es", per_side: int | None = None
) -> dict[str, list[Any]]:
    """Binned means of y on each side of the cutoff, evenly spaced ('es') or quantile ('qs')
    bins; by default 2·n^(1/3) bins per side, between 5 and 50."""
    rows: dict[str, list[Any]] = {k: [] for k in ("side", "x_low", "x_high", "x_mid", "mean", "n")}
    for name, mask in (("left", x < cutoff), ("right", x >= cutoff)):
        xs, ys = x[mask], y[mask]
        J = per_side or int(np.clip(round(2 * len(xs) ** (1 / 3)), 5, 50))
        if bins == "qs":
            edges = np.unique(np.quantile(xs, np.linspace(0, 1, J + 1)))
        else:
            lo, hi = (xs.min(), cutoff) if name == "left" else (cutoff, xs.max())
            edges = np.linspace(lo, hi, J + 1)
        idx = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, len(edges) - 2)
        counts = np.bincount(idx, minlength=len(edges) - 1)
        sums = np.bincount(idx, weights=ys, minlength=len(edges) - 1)
        # The points of each bin, in their original order (a stable sort of the small bin
        # numbers is a radix sort): each bin's mean is then that of a contiguous slice.
        small = np.int16 if len(edges) < 2**15 else np.intp
        by_bin = xs[np.argsort(idx.astype(small), kind="stable")]
        ends = np.cumsum(counts)
        for j in np.flatnonzero(counts):
            rows["side"].append(name)
            rows["x_low"].append(float(edges[j]))
            rows["x_high"].append(float(edges[j + 1]))
            rows["x_mid"].append(float(by_bin[ends[j] - counts[j] : ends[j]].mean()))
            rows["mean"].append(float(sums[j] / counts[j]))
            rows["n"].append(int(counts[j]))
    return rows


def _fit_curve(fit: RDFit, cutoff: float, points: int = 60) -> dict[str, list[Any]]:
    """The local polynomial of each side over its bandwidth (outcome scale, no covariates)."""
    rows: dict[str, list[Any]] = {"side": [], "x": [], "fitted": []}
    for name, coef, sign in (("left", fit.coef_left, -1), ("right", fit.coef_right, 1)):
        d = np.linspace(0, fit.h, points) * sign
        value = np.polynomial.polynomial.polyval(d, coef)
        rows["side"] += [name] * points
        rows["x"] += (cutoff + d).tolist()
        rows["fitted"] += value.tolist()
    return rows


def _columns(frame: pd.DataFrame, spec: RDDSpec, findings: list[Finding]):
    x = numeric_column(frame[spec.running_variable], spec.running_variable, "running variable")
    y = numeric_column(frame[spec.outcome], spec.outcome, "outcome")
    t = None
    if spec.treatment is not None:
        t = numeric_column(frame[spec.treatment], spec.treatment, "treatment")
    cols, names, notes = confounder_terms(frame, spec.confounders)
    Z = np.column_stack(cols) if cols else np.empty((len(x), 0))
    cl = None
    keep = ~np.isnan(x) & ~np.isnan(y) & ~np.isnan(Z).any(axis=1)
    if t is not None:
        keep &= ~np.isnan(t)
    if spec.cluster is not None:
        cl_series = frame[spec.cluster]
        keep &= cl_series.notna().to_numpy()
        cl = cl_series.to_numpy()
    note_dropped(
        findings,
        keep,
        "score, outcome, take-up, covariate or cluster",
        "missingness is smooth through the cutoff",
    )
    if notes:
        findings.append(
            Finding("info", "encoding", "one-hot encoded covariates: " + "; ".join(notes) + ".")
        )
    if not keep.any():
        raise UserInputError("no complete rows: every row misses a value of a named column.")
    require_varying(x[keep], spec.running_variable, "running variable")
    require_varying(y[keep], spec.outcome, "outcome")
    if t is not None:
        require_varying(t[keep], spec.treatment, "treatment")
        values = np.unique(t[keep])
        if len(values) == 2:  # a 0/1 take-up: both values need rows
            require_units_per_arm(
                (t[keep] == values[1]).astype(float), [f"{v:g}" for v in values],
                spec.treatment, arm_noun="take-up value",
                fix="one row cannot show a jump in take-up; check the take-up column",
            )  # fmt: skip
    if cl is not None:
        right = x[keep] >= spec.cutoff
        for side, rows in (("below", ~right), ("at or above", right)):
            count = len(np.unique(cl[keep][rows].astype(str)))
            if rows.any() and count < 2:
                raise UserInputError(
                    f"the rows {side} the cutoff {spec.cutoff:g} lie in only {count} cluster of "
                    f"{spec.cluster!r}; cluster-robust standard errors need at least 2 clusters "
                    "on each side – cluster by a finer column, or drop --cluster."
                )
    return (
        x[keep], y[keep], None if t is None else t[keep], Z[keep], names,
        None if cl is None else cl[keep],
    )  # fmt: skip


def _effect_rows(fit: RDFit, alpha: float) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {
        k: [] for k in ("method", "estimate", "se", "z", "p_value", "ci_low", "ci_high")
    }
    for method, value, se in (
        ("conventional", fit.tau, fit.se),
        ("bias-corrected", fit.tau_bc, fit.se),
        ("robust", fit.tau_bc, fit.se_rb),
    ):
        low, high, p = normal_interval(value, se, alpha)
        for key, v in zip(rows, [method, value, se, value / se, p, low, high], strict=True):
            rows[key].append(v)
    return rows


def _side_rows(res: RDResult, x: np.ndarray, cutoff: float) -> dict[str, list[Any]]:
    fit = res.fit
    return {
        "side": ["left", "right"],
        "n": list(fit.n),
        "unique_scores": [
            n if distinct else len(np.unique(x[mask]))
            for n, distinct, mask in zip(
                fit.n, res.all_distinct, (x < cutoff, x >= cutoff), strict=True
            )
        ],
        "n_within_h": list(fit.n_h),
        "n_within_b": list(fit.n_b),
        "h": [fit.h, fit.h],
        "b": [fit.b, fit.b],
        **({"clusters": list(fit.clusters)} if fit.clusters else {}),
    }


def _balance(x, Z, names, spec, cl, alpha, findings) -> dict[str, list[Any]] | None:
    """RD effect on each covariate (its own MSE-optimal bandwidth): ≈ 0 if balanced."""
    if not names:
        return None
    rows: dict[str, list[Any]] = {
        k: [] for k in ("covariate", "estimate", "ci_low", "ci_high", "p_value", "h")
    }
    for name, z in zip(names, Z.T, strict=True):
        try:
            r = rd_fit(z, x, spec.cutoff, cluster=cl, p=spec.order, kernel=spec.kernel).fit
        except UserInputError:
            continue
        low, high, p = normal_interval(r.tau_bc, r.se_rb, alpha)
        for key, v in zip(rows, [name, r.tau, low, high, p, r.h], strict=True):
            rows[key].append(v)
    unbalanced = [n for n, p in zip(rows["covariate"], rows["p_value"], strict=True) if p < alpha]
    findings.append(
        Finding(
            "warning" if unbalanced else "info",
            "covariate_balance",
            (
                f"covariates jump at the cutoff ({', '.join(unbalanced)}: robust p < {alpha:g}); "
                "units on either side differ in more than the treatment – check for sorting."
                if unbalanced
                else f"no covariate jumps at the cutoff (robust p ≥ {alpha:g} for all "
                f"{len(rows['covariate'])})."
            ),
        )
    )
    return rows


def _placebo(x, y, spec, cl, alpha, findings) -> dict[str, list[Any]]:
    """Sharp RD at fake cutoffs (the median score of each side, using that side's data only)."""
    rows: dict[str, list[Any]] = {
        k: [] for k in ("cutoff", "side", "estimate", "ci_low", "ci_high", "p_value", "h")
    }
    for side, mask in (("left", x < spec.cutoff), ("right", x >= spec.cutoff)):
        fake = float(np.median(x[mask]))
        try:
            r = rd_fit(
                y[mask], x[mask], fake, cluster=None if cl is None else cl[mask],
                p=spec.order, kernel=spec.kernel,
            ).fit  # fmt: skip
        except UserInputError:
            continue
        low, high, p = normal_interval(r.tau_bc, r.se_rb, alpha)
        for key, v in zip(rows, [fake, side, r.tau, low, high, p, r.h], strict=True):
            rows[key].append(v)
    bad = [f"{c:.4g}" for c, p in zip(rows["cutoff"], rows["p_value"], strict=True) if p < alpha]
    findings.append(
        Finding(
            "warning" if bad else "info",
            "placebo_cutoffs",
            (
                f"the outcome also jumps at placebo cutoff(s) {', '.join(bad)} (robust p < "
                f"{alpha:g}): the regression function is not smooth away from the cutoff."
                if bad
                else "no jump at the placebo cutoffs (median score of each side; robust p ≥ "
                f"{alpha:g})."
            ),
        )
    )
    return rows


def _density(x, spec, alpha, findings) -> dict[str, list[Any]] | None:
    from cerebro.quasi.rdd.density import density_test

    try:
        d = density_test(x, spec.cutoff, p=2, kernel=spec.kernel)
    except (np.linalg.LinAlgError, ValueError, IndexError):
        findings.append(
            Finding(
                "warning", "manipulation", "too few scores near the cutoff for the density test."
            )
        )
        return None
    findings.append(
        Finding(
            "warning" if d.p_value < alpha else "info",
            "manipulation",
            f"density of {spec.running_variable} at the cutoff: {d.f_left:.4g} below vs "
            f"{d.f_right:.4g} above (Cattaneo–Jansson–Ma test T = {d.statistic:.2f}, p = "
            f"{d.p_value:.3f})"
            + (
                " – units may be sorting across the cutoff."
                if d.p_value < alpha
                else "; no evidence of sorting."
            ),
        )
    )
    return {
        "f_left": [d.f_left], "f_right": [d.f_right], "difference": [d.difference],
        "se": [d.se], "t": [d.statistic], "p_value": [d.p_value],
        "h_left": [d.h_left], "h_right": [d.h_right], "n_left": [d.n_left],
        "n_right": [d.n_right],
    }  # fmt: skip


def run(frame: pd.DataFrame, spec: RDDSpec) -> Result:
    """Sharp or fuzzy RD with robust bias-corrected inference and its diagnostics."""
    findings: list[Finding] = []
    x, y, t, Z, names, cl = _columns(frame, spec, findings)
    c = spec.cutoff
    fuzzy = _is_fuzzy(x, t, spec, findings)
    res = rd_fit(
        y, x, c, treatment=t if fuzzy else None, covariates=Z if names else None, cluster=cl,
        p=spec.order, kernel=spec.kernel, h=spec.bandwidth,
    )  # fmt: skip
    fit = res.fit
    alpha = spec.alpha
    estimates = _estimates(res, fuzzy, spec, findings)
    _fit_findings(res, spec, names, findings)
    tables: dict[str, Any] = {"effects": _effect_rows(fit, alpha), "sides": _side_rows(res, x, c)}
    density = _density(x, spec, alpha, findings)
    if density is not None:
        tables["density_test"] = density
    balance = _balance(x, Z, names, spec, cl, alpha, findings)
    if balance is not None:
        tables["covariate_balance"] = balance
    tables["placebo_cutoffs"] = _placebo(x, y, spec, cl, alpha, findings)
    tables["rdplot_bins"] = bin_means(x, y, c)
    tables["rdplot_fit"] = _fit_curve(fit, c)
    head = estimates[0]
    what = f"{spec.outcome} at {spec.running_variable} = {c:g}"
    narrative = (
        f"Crossing the cutoff changes {what} by {fit.tau:+.4g} "
        f"({1 - alpha:.0%} robust CI {head.ci_low:+.4g} to {head.ci_high:+.4g}, "
        f"p = {head.p_value:.3g})"
        + (f", per unit of {spec.treatment} (compliers at the cutoff)" if fuzzy else "")
        + f", from {fit.n_h[0] + fit.n_h[1]:,} observations within ±{fit.h:.4g} of the cutoff. "
        "This is causal if units cannot sort precisely around the cutoff and nothing else "
        "changes there; it describes units near the cutoff only."
    )
    title = (
        f"Regression discontinuity ({'fuzzy' if fuzzy else 'sharp'}): {spec.outcome} "
        f"at {spec.running_variable} = {c:g}, {len(x):,} units"
    )
    return design_result(
        spec, estimates, findings, tables, title=title, narrative=narrative, units=len(x), cutoff=c
    )


def _is_fuzzy(x: np.ndarray, t: np.ndarray | None, spec: RDDSpec, findings: list[Finding]) -> bool:
    """Whether the design is fuzzy, said in a finding: a take-up column that switches exactly at
    the cutoff is a sharp design (its ratio of jumps would be the outcome jump divided by 1).
    Refuses a cutoff with no data on one side, where there is no jump to estimate."""
    c = spec.cutoff
    if not ((x < c).any() and (x >= c).any()):
        raise UserInputError(
            f"{spec.running_variable!r} has no values on "
            f"{'the right' if (x < c).all() else 'the left'} of the cutoff {c:g}; set --cutoff "
            "inside its range."
        )
    fuzzy = t is not None
    if fuzzy and np.array_equal(t, (x >= c).astype(float)):
        fuzzy = False
        findings.append(
            Finding(
                "info",
                "design",
                f"sharp design: {spec.treatment} equals 1{{{spec.running_variable} ≥ {c:g}}} in "
                "every row, so the effect is the jump in the outcome itself.",
            )
        )
    elif fuzzy:
        findings.append(
            Finding(
                "info",
                "design",
                f"fuzzy design: {spec.treatment} does not switch exactly at the cutoff, so the "
                "effect is the ratio of the outcome jump to the take-up jump (the average effect "
                "for compliers at the cutoff).",
            )
        )
    else:
        findings.append(
            Finding(
                "info",
                "design",
                f"sharp design: treatment is {spec.running_variable} ≥ {c:g} (no take-up column).",
            )
        )
    return fuzzy


def _estimates(
    res: RDResult, fuzzy: bool, spec: RDDSpec, findings: list[Finding]
) -> list[Estimate]:
    """The RD effect with its robust bias-corrected CI (the headline), the same point estimate
    with the conventional CI (undercovers unless h is undersmoothed), and for a fuzzy design the
    take-up jump, whose strength decides whether the ratio can be trusted (a finding)."""
    fit = res.fit
    alpha = spec.alpha
    low, high, p_rb = normal_interval(fit.tau_bc, fit.se_rb, alpha)
    c_low, c_high, p_cl = normal_interval(fit.tau, fit.se, alpha)
    label = "RD effect (fuzzy, compliers at the cutoff)" if fuzzy else "RD effect at the cutoff"
    estimates = [
        Estimate(
            label, fit.tau, fit.se_rb, low, high, p_rb,
            {"inference": "robust bias-corrected", "tau_bias_corrected": fit.tau_bc,
             "se_conventional": fit.se, "h": fit.h, "b": fit.b,
             "n_within_h_left": fit.n_h[0], "n_within_h_right": fit.n_h[1]},
        ),
        Estimate("RD effect (conventional CI)", fit.tau, fit.se, c_low, c_high, p_cl,
                 {"inference": "conventional"}),
    ]  # fmt: skip
    if fuzzy and fit.first_stage is not None:
        tt, tt_bc, se_t, se_t_rb = fit.first_stage
        f_low, f_high, f_p = normal_interval(tt_bc, se_t_rb, alpha)
        estimates.append(
            Estimate("first stage (take-up jump)", tt, se_t_rb, f_low, f_high, f_p,
                     {"se_conventional": se_t})
        )  # fmt: skip
        t_stat = tt / se_t
        findings.append(
            Finding(
                "warning" if abs(t_stat) < 3.2 else "info",
                "first_stage",
                f"take-up jumps by {tt:.3g} at the cutoff (conventional t = {t_stat:.1f})"
                + (
                    ": a weak first stage – the ratio is unstable and its normal CI unreliable."
                    if abs(t_stat) < 3.2
                    else "."
                ),
            )
        )
    return estimates


def _fit_findings(res: RDResult, spec: RDDSpec, names: list[str], findings: list[Finding]) -> None:
    """What the fit did – bandwidths, variance, adjustment – and what limits it: one-sided
    compliance, a score with many repeated values, few observations within the bandwidth."""
    fit = res.fit
    how = (
        f"MSE-optimal common bandwidth (mserd): h = {fit.h:.4g}, bias bandwidth b = {fit.b:.4g}"
        if res.bandwidth_rule == "mserd"
        else f"bandwidth h = b = {fit.h:.4g} as given"
    )
    vce = (
        f"cluster-robust (CR1) by {spec.cluster}, {fit.clusters[0]} + {fit.clusters[1]} clusters"
        if fit.clusters
        else "nearest-neighbour (3 neighbours)"
    )
    findings.append(
        Finding(
            "info",
            "method",
            f"local polynomial of order {spec.order} ({spec.kernel} kernel), bias correction of "
            f"order {spec.order + 1}; {how}; {vce} variance; point estimate conventional, CI and "
            "p-value robust bias-corrected (Calonico–Cattaneo–Titiunik 2014)"
            + (f"; adjusted for {', '.join(names)} (CCFT 2019)" if names else "")
            + ".",
        )
    )
    if res.sharp_bandwidth_for_fuzzy:
        findings.append(
            Finding(
                "info",
                "bandwidth",
                "take-up does not vary on one side of the cutoff (one-sided compliance): the "
                "bandwidth is selected for the reduced form, as rdrobust does.",
            )
        )
    if max(res.mass_points) >= 0.2:
        findings.append(
            Finding(
                "warning",
                "mass_points",
                f"{spec.running_variable} has many repeated values ({res.mass_points[0]:.0%} "
                f"below, {res.mass_points[1]:.0%} above the cutoff are repeats): the pilot "
                "bandwidths keep at least 10 distinct values per side; a discrete score may need "
                "a local-randomisation analysis instead.",
            )
        )
    few = min(fit.n_h)
    findings.append(
        Finding(
            "warning" if few < 50 else "info",
            "effective_n",
            f"{fit.n_h[0]:,} observations below and {fit.n_h[1]:,} above the cutoff lie within "
            f"the bandwidth (of {fit.n[0]:,} and {fit.n[1]:,})"
            + ("; few points – estimates are noisy." if few < 50 else "."),
        )
    )


def plot(result: Result):
    """The RD plot: binned means on each side, the local polynomial fits and the cutoff line."""
    from cerebro.core.figure import new_figure

    bins = result.tables.columns("rdplot_bins")
    curve = result.tables.columns("rdplot_fit")
    cutoff = result.summary.get("cutoff", 0.0)
    fig = new_figure(7, 4.2)
    ax = fig.add_subplot()
    side = np.array(bins["side"])
    for name, colour in (("left", "C0"), ("right", "C1")):
        mask = side == name
        ax.plot(np.array(bins["x_mid"])[mask], np.array(bins["mean"])[mask], "o", ms=4,
                color=colour, alpha=0.8, label=f"binned means ({name})")  # fmt: skip
        cmask = np.array(curve["side"]) == name
        ax.plot(np.array(curve["x"])[cmask], np.array(curve["fitted"])[cmask], "-", lw=2,
                color=colour)  # fmt: skip
    ax.axvline(cutoff, color="black", ls="--", lw=1)
    spec = result.spec
    ax.set_xlabel(getattr(spec, "running_variable", "score") or "score")
    ax.set_ylabel(getattr(spec, "outcome", "outcome"))
    ax.set_title(result.summary.get("title", "RD plot"), fontsize=9)
    ax.legend(fontsize=8, loc="best")
    return fig
